"""Training the shoes model (PyTorch; never imported by the runtime): ``data`` (loading and
augmenting the icons), ``model`` (the networks), ``train``, ``export`` and ``evaluate``, one
command a file; ``commands`` is the module ``assetgen train | export | eval shoes`` load
(:class:`assetgen.training_tools.TrainingTools`). The data set itself is built by
``dataset_builder``."""
