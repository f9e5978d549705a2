"""Training, export and evaluation of the dialogue GPT: torch and sentencepiece are imported
here and nowhere on the runtime path.

``data`` builds the data set, ``model`` holds the torch modules, ``train`` the loop,
``export`` the ONNX step graph, piece table, word list and reranker, ``evaluate`` the figures
of the model card; ``commands`` is what ``assetgen train|export|eval dialogue`` call.
"""
