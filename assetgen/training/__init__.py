"""Training, export and evaluation helpers shared by the model plugins (PyTorch; lazy).

Nothing on the runtime path imports this package: the ``assetgen train``, ``export`` and
``eval`` commands import it (and torch) only when they run. A model plugin points its
generator's ``training`` attribute at a module that defines (``assetgen.training_tools``
checks it)::

    DEFAULT_CONFIG: dict[str, object]       # every setting, with its default (CPU-sized)
    def train(out: Path, data: Path | None, config: dict, resume: bool) -> None
    def export(run_dir: Path, out: Path) -> Path
    def evaluate(model_dir: Path, out: Path | None, config: dict) -> dict

and the shared commands handle config files, overrides, resume and error reporting. A module
that also sets ``SUPPORTS_DISTRIBUTED = True`` (and uses :mod:`assetgen.training.distributed`
in ``train``) may be run under ``torchrun``; without it, ``assetgen train`` refuses to.
"""

# What plugins' training modules use from the core besides this package's modules (they import
# nothing else: tests/core/test_public_names.py). No torch here: importing this is cheap.
from ..exporting import replace_dir, write_atomic  # noqa: E402
from ..progress import Progress  # noqa: E402
from ..runtime import MANIFEST_NAME, read_manifest, write_manifest  # noqa: E402

__all__ = [
    "MANIFEST_NAME",
    "Progress",
    "read_manifest",
    "replace_dir",
    "write_atomic",
    "write_manifest",
]
