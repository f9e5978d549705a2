"""Meta-tests: every hook is tested and documented with its exact signature."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from assetgen import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "hooks.md"
HOOKS = [h.__name__ for h in hookspecs.ALL_HOOKS]


def test_all_hooks_lists_every_hookspec() -> None:
    marked = {
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "assetgen_spec")
    }
    assert marked == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook: str) -> None:
    fn = getattr(hookspecs, hook)
    hints = inspect.get_annotations(fn)
    params = ", ".join(f"{name}: {hints[name]}" for name in inspect.signature(fn).parameters)
    signature = f"{hook}({params}) -> None"
    assert signature in DOCS.read_text(), f"docs/plugins/hooks.md lacks `{signature}`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    tests = Path(__file__).parent / "test_hooks.py"
    assert f"def test_hook_{hook}(" in tests.read_text()
