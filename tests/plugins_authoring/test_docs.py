"""The plugin docs work as written: the tutorial can be followed, code marked
``<!-- runs in tests -->`` runs, links resolve and every command they name exists."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from assetgen.cli import cli, main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins"
PAGES = sorted(DOCS.glob("*.md")) + [DOCS / "example_dicebear" / "README.md"]
# Commands plugins add: the example plugin's (tested in test_example_dicebear.py).
PLUGIN_COMMANDS = {"dicebear-styles"}


def marked_blocks(page: Path, marker: str) -> list[tuple[str, str]]:
    """(marker argument, code) of each fenced block right after ``<!-- MARKER ... -->``."""
    pattern = rf"<!-- {marker}(?::? *(\S*)) -->\n```\w*\n(.*?)```"
    return re.findall(pattern, page.read_text(encoding="utf-8"), flags=re.S)


def test_the_tutorial_can_be_followed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    pip_install: Callable[..., None],
    run_pytest: Callable[..., subprocess.CompletedProcess],
    load_only: Callable[..., None],
) -> None:
    tutorial = DOCS / "tutorial.md"
    # Step 1, run where the reader runs it: the output is the one the page shows.
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")
    monkeypatch.chdir(tmp_path)
    assert main(["new-plugin", "potions", "--kind", "image"]) == 0
    shown = tutorial.read_text(encoding="utf-8").split("```text\n", 1)[1].split("```", 1)[0]
    assert capsys.readouterr().out == shown

    # Steps 4 and 5: the files the page gives, in the new project.
    project = tmp_path / "assetgen-potions"
    files = dict(marked_blocks(tutorial, "file"))
    assert sorted(files) == ["assetgen_potions/generator.py", "tests/test_potions.py"]
    for relative, code in files.items():
        (project / relative).write_text(code, encoding="utf-8")

    site = tmp_path / "site"
    pip_install(site, project)
    result = run_pytest(project, site)
    assert result.returncode == 0, result.stdout + result.stderr
    if importlib.util.find_spec("ruff") is not None:
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout

    # The commands of step 4.
    load_only(site, "potions")
    out = str(tmp_path / "out")
    sheet_args = ["--seed", "1", "--count", "16", "--format", "sheet", "--out", out]
    assert main(["generate", "potions", *sheet_args]) == 0
    with Image.open(Path(out) / "potions_1-16.png") as sheet:
        # 16 icons of 32 x 32 in a 4 x 4 grid, each with 2 px of extruded border on every side
        assert sheet.size == (144, 144)
    capsys.readouterr()
    assert main(["generate", "potions", "-o", "size=16", "--out", out]) == 2
    assert "option 'bubbles' needs size >= 24 to show" in capsys.readouterr().err


def test_exporters_page_code_runs() -> None:
    blocks = [code for _, code in marked_blocks(DOCS / "exporters.md", "runs in tests")]
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for code in blocks:  # later blocks use what earlier ones define, as a reader's session
        exec(compile(code, "exporters.md", "exec"), namespace)


def test_models_page_code_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("onnx", "onnxruntime"):
        pytest.importorskip(module, reason="the round trip builds and runs an ONNX model")
    (code,) = [code for _, code in marked_blocks(DOCS / "models.md", "runs in tests")]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "models.md", "exec"), {})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_links_lead_somewhere(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not re.match(r"[a-z]+:", target):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_command_named_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```python\n.*?```", "", text, flags=re.S)  # `from assetgen import ...`
    code = re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`[^`\n]+`", text)
    named = {
        command
        for snippet in code
        for command in re.findall(r"(?:^|[\s`'/])assetgen ([a-z][a-z0-9-]*)", snippet, re.M)
    }
    assert named - set(cli.commands) - PLUGIN_COMMANDS == set()
