"""The files ``assetgen new-plugin`` writes, filled in from the templates beside this module.

``templates/`` holds one file a piece of the new project (``*.tmpl``, :class:`string.Template`
syntax) with the placeholders ``$gen_id`` (generator id and entry-point name), ``$package``,
``$distribution``, ``$cls`` (class-name prefix), ``$assetgen_version``, ``$summary`` and, in
the README, ``$usage``. The generator and its tests come in one template per kind; a test file
is the shared header (with the kind's imports as ``$test_imports``), the kind's tests and the
tests every kind shares. The tests scaffold every kind, lint the result with ruff and run its
tests, so a template that stops working, or stops passing lint, fails there.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template

KINDS = ("image", "animation", "text")

SUMMARIES = {
    "image": "symmetric pixel-art sprites",
    "animation": "spinning coins, still and animated",
    "text": "names of loot items",
}

USAGE = {
    "image": "assetgen generate $gen_id --seed 1 --count 8 --out out/$gen_id -o palette=ember",
    "animation": "assetgen animate $gen_id --seed 1 --frames 12 --format gif,sheet "
    "--out out/$gen_id",
    "text": "assetgen generate $gen_id --seed 1 --count 8 --format jsonl --out out/$gen_id "
    "-o rarity=rare",
}

# The imports of each kind's tests: an animation's tests read images as an image's do.
TEST_IMPORTS = {"image": "image", "animation": "image", "text": "text"}


@cache
def template(name: str) -> str:
    """The text of ``templates/NAME.tmpl`` (shipped as package data)."""
    return files(__package__).joinpath("templates", f"{name}.tmpl").read_text(encoding="utf-8")


def render_project(kind: str, **names: str) -> dict[str, str]:
    """Every file of a new project, by path relative to the project folder."""
    # The import block stands on its own lines in the header: its file's last newline is the
    # header's.
    imports = template(f"tests_imports_{TEST_IMPORTS[kind]}.py").removesuffix("\n")
    fields = dict(names, summary=SUMMARIES[kind], test_imports=imports)
    fields["usage"] = Template(USAGE[kind]).substitute(fields)
    package, gen_id = fields["package"], fields["gen_id"]
    # Each test template ends with one newline; two blank lines go between them.
    tests = "\n\n".join(template(f"tests_{part}.py") for part in ("header", kind, "common"))
    texts = {
        "pyproject.toml": template("pyproject.toml"),
        "README.md": template("README.md"),
        f"{package}/__init__.py": template("package_init.py"),
        f"{package}/plugin.py": template("package_plugin.py"),
        f"{package}/generator.py": template(f"generator_{kind}.py"),
        f"tests/test_{gen_id.replace('-', '_')}.py": tests,
    }
    return {path: Template(text).substitute(fields) for path, text in texts.items()}
