"""The character LSTM's ``train``, ``export`` and ``evaluate`` (the shipped ``shakespeare``
model), under the name its model card's commands use (``shakespeare_model/MODEL_CARD.md``).
The code is ``training/lstm_data.py``, ``lstm_train.py``, ``lstm_export.py`` and
``lstm_evaluate.py``; ``assetgen train | export | eval dialogue`` run the GPT
(``training/commands.py``)."""

from .training.lstm_evaluate import EVAL_CONFIG, evaluate
from .training.lstm_export import export
from .training.lstm_train import DEFAULT_CONFIG, SUPPORTS_DISTRIBUTED, train

__all__ = ["DEFAULT_CONFIG", "EVAL_CONFIG", "SUPPORTS_DISTRIBUTED", "evaluate", "export", "train"]
