"""The Unity package (``unity/com.assetgen.runtime``) compiled with Mono's ``mcs`` against
compile-only stubs of the UnityEngine and UnityEditor types it uses (``stubs/``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "unity" / "com.assetgen.runtime"
STUBS = Path(__file__).resolve().parent / "stubs"
FACADES = Path(os.environ.get("MONO_FACADES", "/usr/lib/mono/4.5/Facades"))
#: the compiler line of the Makefile's C# builds
MCS = ["mcs", "-langversion:7.2", "-nologo", "-warnaserror+", f"-r:{FACADES / 'netstandard.dll'}"]


def compile_cs(out: Path, sources: list[Path], *references: Path, exe: bool = False) -> Path:
    """``mcs`` ``sources`` into ``out`` (a library unless ``exe``), with ``references``."""
    command = [*MCS, f"-target:{'exe' if exe else 'library'}", f"-out:{out}"]
    command += [f"-r:{r}" for r in references] + [str(s) for s in sources]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, f"mcs {out.name} failed:\n{run.stdout}\n{run.stderr}"
    return out


@pytest.fixture(scope="session")
def unity_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The stubs, the package's Runtime, Editor and sample assemblies, and the importer's
    table reader as a console program, as Unity would build them from the asmdefs."""
    by_name: dict[str, Path] = {}
    missing = [tool for tool in ("mono", "mcs") if shutil.which(tool) is None]
    if missing:
        needed = ", ".join(missing)
        message = f"the Unity package tests need {needed} (scripts/install-system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("unity-build")
    engine = compile_cs(out / "UnityEngine.dll", [STUBS / "UnityEngine.cs"])
    editor_stub = compile_cs(out / "UnityEditor.dll", [STUBS / "UnityEditor.cs"], engine)
    built: dict[str, Path] = {}
    # in dependency order; each assembly gets what its asmdef asks for, as in Unity
    for key, folder in (
        ("runtime", PACKAGE / "Runtime"),
        ("editor", PACKAGE / "Editor"),
        ("sample", PACKAGE / "Samples~" / "TalkingNpc"),
    ):
        (asmdef_path,) = folder.glob("*.asmdef")
        asmdef = json.loads(asmdef_path.read_text("utf-8"))
        references = [by_name[name] for name in asmdef["references"]]
        if not asmdef.get("noEngineReferences"):
            references.append(engine)
        if asmdef["includePlatforms"] == ["Editor"]:
            references.append(editor_stub)
        dll = out / f"{asmdef['name']}.dll"
        built[key] = by_name[asmdef["name"]] = compile_cs(
            dll, sorted(folder.glob("*.cs")), *references
        )
    runtime, editor, sample = built["runtime"], built["editor"], built["sample"]
    check = compile_cs(
        out / "SheetTableCheck.exe",
        [Path(__file__).resolve().parent / "SheetTableCheck.cs"],
        runtime,
        editor,
        exe=True,
    )
    return {"runtime": runtime, "editor": editor, "sample": sample, "check": check}
