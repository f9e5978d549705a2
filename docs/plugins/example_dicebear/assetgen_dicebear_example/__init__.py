"""An example AssetGen plugin: DiceBear avatars in any of its styles, drawn without a model.

See README.md; the generator is in ``generator.py``, the hooks in ``plugin.py``.
"""
