"""Keeps the Unity package ``unity/com.assetgen.runtime`` in step with the repository.

``python unity/tools/build_package.py`` (``make unity-package``):

1. writes a ``.meta`` file for every file and folder Unity imports, with a GUID derived from
   the path (the first 32 hex digits of sha256 of ``com.assetgen.runtime/<path>``), so the same
   package always has the same GUIDs, and removes ``.meta`` files left by deleted files;
2. copies the shipped models the C# runtime runs (``plugins/assetgen_<name>/model/``) into
   ``Models~/<name>/``, and the dialogue generator's Shakespeare LSTM into
   ``Models~/dialogue_shakespeare/`` (ignored by Unity and by git; ``--no-models`` skips it).

The C# runtime's sources live in the package's ``Runtime/`` folder and nowhere else (issue
25): the Makefile's ``runtime-build`` (the library the test, parity and bench programs link)
and ``tests/unity`` compile those files, so there is nothing to copy.

``--check`` changes nothing; it lists every ``.meta`` that step 1 would write or remove and
exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_NAME = "com.assetgen.runtime"
PACKAGE = ROOT / "unity" / PACKAGE_NAME
MODELS = PACKAGE / "Models~"
#: the generators the C# runtime runs, whose shipped models the package gets
RUNTIME_MODELS = ("portraits", "shoes", "dialogue")
#: other shipped models the C# runtime runs, by their Models~ folder name: the dialogue
#: generator's public-domain character LSTM, for games that cannot ship the GPT's GPL lines
EXTRA_MODELS = {"dialogue_shakespeare": ("dialogue", "shakespeare_model")}

_TEXT_IMPORTER = "TextScriptImporter"
_IMPORTERS = {
    ".cs": "MonoImporter",
    ".asmdef": "AssemblyDefinitionImporter",
    ".md": _TEXT_IMPORTER,
    ".json": _TEXT_IMPORTER,
    ".txt": _TEXT_IMPORTER,
}


def guid(relative: str) -> str:
    """The GUID of the package file or folder at ``relative`` (a POSIX path in the package)."""
    return hashlib.sha256(f"{PACKAGE_NAME}/{relative}".encode()).hexdigest()[:32]


def imported(path: Path) -> bool:
    """Whether Unity imports ``path`` (and so needs its ``.meta``): not a ``.meta`` itself,
    not hidden, not a ``~`` folder (Samples~, Documentation~, Models~) or inside one, except
    the samples, whose ``.meta`` files travel with them when a user imports a sample."""
    parts = path.relative_to(PACKAGE).parts
    if path.name.endswith(".meta") or any(p.startswith(".") for p in parts):
        return False
    if parts[0] == "Samples~":
        return len(parts) > 1
    return not any(p.endswith("~") for p in parts)


def meta_text(path: Path) -> str:
    """The ``.meta`` of ``path`` as Unity writes it for that kind of asset."""
    relative = path.relative_to(PACKAGE).as_posix()
    head = f"fileFormatVersion: 2\nguid: {guid(relative)}\n"
    tail = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
    if path.is_dir():
        return head + "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" + tail
    importer = _IMPORTERS.get(path.suffix, "DefaultImporter")
    if importer == "MonoImporter":
        return (
            head + "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n"
            "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n" + tail
        )
    return head + f"{importer}:\n  externalObjects: {{}}\n" + tail


def planned_metas() -> dict[Path, bytes]:
    """Every ``.meta`` the package should hold."""
    paths = sorted(p for p in PACKAGE.rglob("*") if imported(p))
    return {p.with_name(p.name + ".meta"): meta_text(p).encode() for p in paths}


def changes() -> tuple[dict[Path, bytes], list[Path]]:
    """(files to write with their bytes, files to remove) to bring the package up to date."""
    metas = planned_metas()
    write = {p: data for p, data in metas.items() if not p.is_file() or p.read_bytes() != data}
    stale = [p for p in PACKAGE.rglob("*.meta") if p not in metas and not _in_unmanaged_folder(p)]
    return write, sorted(stale)


def _in_unmanaged_folder(path: Path) -> bool:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] in ("Models~", "Documentation~")


def copy_models() -> list[Path]:
    copied = []
    folders = {name: (name, "model") for name in RUNTIME_MODELS}
    folders.update(EXTRA_MODELS)
    for name, (generator, folder) in folders.items():
        source = ROOT / "plugins" / f"assetgen_{generator}" / folder
        target = MODELS / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for file in sorted(source.iterdir()):
            if file.is_file():
                shutil.copy2(file, target / file.name)
                copied.append(target / file.name)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on drift")
    parser.add_argument("--no-models", action="store_true", help="do not copy the models")
    args = parser.parse_args(argv)
    write, remove = changes()
    if args.check:
        for path in write:
            print(f"out of date: {path.relative_to(ROOT)}")
        for path in remove:
            print(f"stale: {path.relative_to(ROOT)}")
        if write or remove:
            print("run `make unity-package` and commit the result", file=sys.stderr)
            return 1
        print(f"{PACKAGE.relative_to(ROOT)}: .meta files up to date")
        return 0
    for path in remove:
        path.unlink()
    for path, data in write.items():
        path.write_bytes(data)
    print(f"{PACKAGE.relative_to(ROOT)}: {len(write)} file(s) written, {len(remove)} removed")
    if not args.no_models:
        copied = copy_models()
        print(f"{MODELS.relative_to(ROOT)}: {len(copied)} model file(s) copied")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
