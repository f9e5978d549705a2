"""The Unity package folder has the layout Unity's Package Manager expects (issue 24, point 5):
a ``.meta`` with a unique, path-derived GUID for everything Unity imports, a valid
``package.json`` depending on ONNX Runtime's UPM package, asmdefs that reference the right
assemblies, the runtime's sources in ``Runtime/`` only (issue 25: the Makefile's C# builds
compile them, and the repository holds no second copy), notices that carry the model cards'
licences, and no model binaries in git."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "unity" / "com.assetgen.runtime"
TOOL = ROOT / "unity" / "tools" / "build_package.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_package", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package_paths() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if not p.name.endswith(".meta"))


def test_every_imported_file_and_folder_has_a_meta(tool: ModuleType) -> None:
    imported = [p for p in _package_paths() if tool.imported(p)]
    assert len(imported) > 20
    missing = [p for p in imported if not p.with_name(p.name + ".meta").is_file()]
    assert not missing, f"no .meta (run make unity-package): {missing}"
    # nothing Unity ignores carries one, and no .meta is left without its file
    for meta in PACKAGE.rglob("*.meta"):
        target = meta.with_name(meta.name.removesuffix(".meta"))
        assert target.exists() and tool.imported(target), meta


def test_guids_are_unique_well_formed_and_derived_from_the_path(tool: ModuleType) -> None:
    guids: dict[str, Path] = {}
    for meta in PACKAGE.rglob("*.meta"):
        text = meta.read_text("utf-8")
        assert text.startswith("fileFormatVersion: 2\nguid: ")
        guid = re.search(r"^guid: ([0-9a-f]{32})$", text, re.M)
        assert guid, meta
        target = meta.with_name(meta.name.removesuffix(".meta"))
        assert guid[1] == tool.guid(target.relative_to(PACKAGE).as_posix())
        assert guid[1] not in guids, f"{meta} repeats the GUID of {guids[guid[1]]}"
        guids[guid[1]] = meta
        if target.is_dir():
            assert "folderAsset: yes" in text
    # stable: the same path always gives the same GUID, a different path another
    assert tool.guid("Runtime/Portraits.cs") == tool.guid("Runtime/Portraits.cs")
    assert tool.guid("Runtime/Portraits.cs") != tool.guid("Runtime/Shoes.cs")


def test_the_package_is_up_to_date() -> None:
    """Fails when a package file was added, moved or deleted and `make unity-package` was
    not run (its .meta missing, stale or not the one the path gives)."""
    run = subprocess.run(
        [sys.executable, str(TOOL), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _git_files(*patterns: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *patterns], capture_output=True, cwd=ROOT, check=True
    )
    return [n for n in listed.stdout.decode().split("\0") if n]


def test_the_runtime_builds_compile_the_package_sources_and_there_is_no_other_copy() -> None:
    """The Makefile's runtime library and its API check compile every ``Runtime/*.cs`` git
    tracks and nothing from elsewhere, so what the tests run is what a Unity user installs;
    and no other tracked C# file repeats a runtime source."""
    if shutil.which("make") is None:
        pytest.skip("needs make")
    runtime = PACKAGE / "Runtime"
    folder = runtime.relative_to(ROOT)
    tracked = {n for n in _git_files("*.cs") if Path(n).parent == folder}
    names = {Path(n).name for n in tracked}
    assert names >= {"Portraits.cs", "Onnx.cs", "ModelFolder.cs", "Json.cs"}
    build = ROOT / "dotnet_runtime" / "build"
    targets = [build / "AssetGen.Runtime.dll", build / "api-check" / "AssetGen.Runtime.dll"]
    for target in targets:
        command = ["make", "-n", "-B", "--no-print-directory", str(target.relative_to(ROOT))]
        dry = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        compiled = {w for w in dry.stdout.split() if w.endswith(".cs")}
        assert compiled >= tracked, f"{target.name} leaves out {sorted(tracked - compiled)}"
        outside = [n for n in compiled if Path(n).parent != folder]
        assert not outside, f"{target.name} compiles sources outside the package: {outside}"
    sources = {(ROOT / n).read_bytes() for n in tracked}
    others = [ROOT / n for n in _git_files("*.cs") if n not in tracked]
    copies = [p for p in others if p.is_file() and p.read_bytes() in sources]
    assert not copies, f"second copies of runtime sources: {copies}"


def test_package_json_is_valid_upm() -> None:
    manifest = json.loads((PACKAGE / "package.json").read_text("utf-8"))
    assert manifest["name"] == "com.assetgen.runtime" == PACKAGE.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert re.fullmatch(r"\d{4}\.\d", manifest["unity"])
    assert manifest["displayName"] and manifest["description"] and manifest["license"] == "MIT"
    dependencies = manifest["dependencies"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", dependencies["com.github.asus4.onnxruntime"])
    for sample in manifest["samples"]:
        assert sample["path"].startswith("Samples~/") and (PACKAGE / sample["path"]).is_dir()
    changelog = (PACKAGE / "CHANGELOG.md").read_text("utf-8")
    assert f"## [{manifest['version']}]" in changelog


def _asmdef(folder: str) -> dict[str, object]:
    (path,) = (PACKAGE / folder).glob("*.asmdef")
    data: dict[str, object] = json.loads(path.read_text("utf-8"))
    assert path.stem == data["name"]
    return data


def test_asmdefs_reference_the_right_assemblies() -> None:
    runtime = _asmdef("Runtime")
    assert runtime["name"] == "AssetGen.Runtime"
    # the runtime uses no Unity type (it is also built and tested outside Unity)
    assert runtime["references"] == [] and runtime["noEngineReferences"] is True
    assert runtime["includePlatforms"] == [] and runtime["allowUnsafeCode"] is False
    editor = _asmdef("Editor")
    assert editor["references"] == ["AssetGen.Runtime"]
    assert editor["includePlatforms"] == ["Editor"]  # never in a player build
    sample = _asmdef("Samples~/TalkingNpc")
    assert sample["references"] == ["AssetGen.Runtime"] and sample["includePlatforms"] == []


def test_the_package_has_its_documents() -> None:
    for name in ("README.md", "CHANGELOG.md", "LICENSE.md", "Third Party Notices.md"):
        assert (PACKAGE / name).is_file(), name
    assert list((PACKAGE / "Documentation~").glob("*.md"))
    assert (PACKAGE / "Samples~" / "TalkingNpc" / "TalkingNpc.cs").is_file()
    assert "MIT License" in (PACKAGE / "LICENSE.md").read_text("utf-8")


def test_the_notices_carry_each_model_cards_licences() -> None:
    # words compared with line breaks as spaces
    notices = " ".join((PACKAGE / "Third Party Notices.md").read_text("utf-8").split())
    assert "ONNX Runtime" in notices and "MIT" in notices
    cards = {
        name: " ".join(
            (ROOT / "plugins" / f"assetgen_{name}" / "model" / "MODEL_CARD.md").read_text().split()
        )
        for name in ("portraits", "shoes", "dialogue")
    }
    # what each card requires users to credit, as the card words it
    for name, phrases in {
        "portraits": ["Adventurer", "Lisa Wischofsky", "CC BY 4.0", "DiceBear"],
        "shoes": [
            "Emoji One",
            "Fluent Emoji",
            "Firefox OS Emoji",
            "Game Icons",
            "CC BY 3.0",
            "Noto Emoji",
            "Streamline Emojis",
            "Twitter Emoji",
            "Apache-2.0",
        ],
        "dialogue": ["GPL-2.0-or-later", "Battle for Wesnoth", "Dungeon Crawl Stone Soup"],
    }.items():
        for phrase in phrases:
            assert phrase in cards[name], f"{name} card no longer says {phrase!r}"
            assert phrase in notices, f"notices lack {phrase!r} ({name})"


def test_no_model_binary_is_in_the_package_in_git() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--", "unity"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    assert not [p for p in tracked if p.endswith((".onnx", ".csv")) or "Models~" in p]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "unity/com.assetgen.runtime/Models~/portraits/x.onnx"],
        cwd=ROOT,
    )
    assert ignored.returncode == 0, ".gitignore must cover the package's Models~ folder"


def test_make_unity_package_copies_every_model_the_runtime_runs(
    tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models~ gets the three default models and the dialogue generator's public-domain LSTM
    (for games that cannot ship the GPT's GPL lines), each folder file for file, and the
    notices name the LSTM's Models~ folder and its public-domain text."""
    monkeypatch.setattr(tool, "MODELS", tmp_path / "Models~")
    copied = tool.copy_models()
    sources = {
        "portraits": ROOT / "plugins" / "assetgen_portraits" / "model",
        "shoes": ROOT / "plugins" / "assetgen_shoes" / "model",
        "dialogue": ROOT / "plugins" / "assetgen_dialogue" / "model",
        "dialogue_shakespeare": ROOT / "plugins" / "assetgen_dialogue" / "shakespeare_model",
    }
    assert sorted(p.name for p in (tmp_path / "Models~").iterdir()) == sorted(sources)
    for name, source in sources.items():
        files = sorted(p.name for p in source.iterdir() if p.is_file())
        assert sorted(p.name for p in (tmp_path / "Models~" / name).iterdir()) == files
        assert "manifest.json" in files
    assert len(copied) == sum(
        1 for source in sources.values() for p in source.iterdir() if p.is_file()
    )
    notices = " ".join((PACKAGE / "Third Party Notices.md").read_text("utf-8").split())
    assert "`Models~/dialogue_shakespeare`" in notices and "public domain" in notices
