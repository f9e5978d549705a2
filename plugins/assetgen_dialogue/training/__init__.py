"""Training, export and evaluation of the dialogue models: torch and sentencepiece are imported
here and nowhere on the runtime path.

The GPT (``assetgen train|export|eval dialogue``): ``data`` builds the data set, ``model``
holds the torch modules, ``train`` the loop, ``export`` the ONNX step graph, piece table, word
list and reranker, ``evaluate`` the figures of the model card; ``commands`` is what those
commands call. The character LSTM (the shipped ``shakespeare`` model, its torch modules in
``lstm_model``, its corpus built by ``corpus`` from the tables in ``corpus_speakers.json``):
``lstm_data``, ``lstm_train``, ``lstm_export`` and ``lstm_evaluate``, run through
``assetgen_dialogue.tools``.
``baselines`` (n-gram models, distinct n-grams, a word classifier) serves both evaluations.
"""
