"""The exporter contract, safe output names, and atomic file writes.

Exporters turn assets into file contents (:class:`OutputFile`); the core writes them, so every
exporter gets atomic writes, safe names and manifest hashes for free.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .assets import ASSET_KINDS, Asset
from .errors import InvalidOptionsError, OutputError, show_value

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Longest user-given name (``--name``, batch run names).
MAX_NAME = 100
#: Longest file name the core writes: a name of MAX_NAME plus what exporters add (``_<seed>``,
#: ``_<frame>``, an extension) must fit, and so must the temporary file (``.<name>.<8>.tmp``)
#: within the 255 bytes file systems allow.
MAX_FILE_NAME = 200
#: Names Windows reserves for devices, whatever the extension (Unity runs on Windows).
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10)]
)


@dataclass(frozen=True)
class OutputFile:
    """One file an exporter produced: a plain relative file name and its bytes."""

    name: str
    data: bytes


class Exporter:
    """Base class of exporters (output formats).

    ``id`` is the format name used by ``--format``; ``accepts`` lists the asset kinds it can
    write. A ``per_asset`` exporter is called once per asset with that asset's stem; otherwise
    it is called once per request with all its assets (a sprite sheet, a JSONL file).
    """

    id: ClassVar[str]
    description: ClassVar[str] = ""
    accepts: ClassVar[tuple[str, ...]] = ()
    per_asset: ClassVar[bool] = True

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        raise NotImplementedError


def check_exporter_class(cls: Any) -> None:
    if not isinstance(cls, type) or not issubclass(cls, Exporter):
        raise TypeError(f"{cls!r} is not a subclass of assetgen.Exporter")
    eid = getattr(cls, "id", None)
    if not isinstance(eid, str) or not _NAME_RE.match(eid) or eid != eid.lower():
        raise TypeError(f"{cls.__qualname__}.id must be a lower-case name")
    if not cls.accepts or any(k not in ASSET_KINDS for k in cls.accepts):
        raise TypeError(f"{cls.__qualname__}.accepts must list asset kinds from {ASSET_KINDS}")
    if cls.render is Exporter.render:
        raise TypeError(f"{cls.__qualname__} must implement render()")


def check_output_name(name: Any, parameter: str = "name", *, max_length: int = MAX_NAME) -> str:
    """A user-given output name: one plain file-name component, no traversal, no NUL, not a
    Windows device name (``con``, ``nul.png``...), not ending in a dot."""
    if (
        not isinstance(name, str)
        or len(name) > max_length
        or not _NAME_RE.match(name)
        or ".." in name
        or name.endswith(".")
        or name.split(".", 1)[0].lower() in _WINDOWS_DEVICES
    ):
        raise InvalidOptionsError(
            f"{parameter} must be 1-{max_length} characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, not ending in '.', not a device name such as "
            f"'con' or 'nul' (no path separators); got {show_value(name)}",
            parameter=parameter,
            value=name,
        )
    return name


def check_out_dir(out_dir: Any, parameter: str = "out_dir") -> Path:
    """An output folder given by a caller: a non-empty path without NUL, where no existing
    file stands in the place of the folder or of one of the folders above it."""
    if (
        not isinstance(out_dir, (str, os.PathLike))
        or "\x00" in os.fspath(out_dir)
        or os.fspath(out_dir) in ("", b"")
    ):
        raise InvalidOptionsError(
            f"{parameter} must be a folder path without NUL characters and not empty; "
            f"got {show_value(out_dir)}",
            parameter=parameter,
            value=out_dir,
        )
    path = Path(out_dir)
    blocker = file_in_the_way(path)
    if blocker is not None:
        where = "is a file" if blocker == path else f"is inside {str(blocker)!r}, which is a file"
        raise InvalidOptionsError(
            f"{parameter} must be a folder path; {str(path)!r} {where}",
            parameter=parameter,
            value=str(path),
        )
    return path


def file_in_the_way(folder: Path) -> Path | None:
    """The existing non-folder at ``folder`` or at the nearest of its parents that exists
    (``out/file/sub``: ``out/file``), or None when the folder can be made there."""
    for candidate in (folder, *folder.parents):
        try:
            if candidate.exists():
                return None if candidate.is_dir() else candidate
        except (OSError, ValueError):  # unreadable parent, name too long: the writer says
            return None
    return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file is
    renamed over the target; a crash leaves at worst a stray ``.tmp`` file, never a torn one.
    """
    write_atomic_many([(Path(path), data)])


def write_atomic_many(files: Sequence[tuple[Path, bytes]]) -> None:
    """:func:`write_atomic` for several files at once: every file is written to its temporary
    file first, then all are flushed to disk, then all are renamed into place. Each target
    still holds its old content or the whole new one; the flushes come back to back, before
    any rename."""
    pending: list[tuple[Path, str]] = []
    try:
        for path, data in files:
            pending.append((path, _write_temp(path, data)))
        _flush_all(pending)
        for path, tmp in pending:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        for _, tmp in pending:
            _remove_quietly(tmp)
        raise


def _process_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Read once at import (setting it is process-wide): written files get the mode a plain open()
#: would give them (0o666 less the umask), not mkstemp's private 0o600.
_FILE_MODE = 0o666 & ~_process_umask()


def _write_temp(path: Path, data: bytes) -> str:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL character in the path
        raise OutputError(f"cannot write {show_value(str(path))}: {exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _FILE_MODE)
            fh.write(data)
    except OSError as exc:
        _remove_quietly(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    return tmp


def _flush_all(pending: Sequence[tuple[Path, str]]) -> None:
    """Flush every temporary file to disk, one after the other; the first failure is raised.
    One thread: the files share a disk, and fsyncs issued from several threads at once do not
    finish sooner there (``python -m benchmarks.fsync_together`` compares the two)."""
    for path, tmp in pending:
        _flush(path, tmp)


def _flush(path: Path, tmp: str) -> None:
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def replace_dir(new_dir: Path, target: Path) -> None:
    """Put the finished folder ``new_dir`` in place of ``target`` using renames only.

    Readers see the old folder or the new one, never a mix (data-set builders use this).
    """
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new_dir, target)
    if old.exists():
        shutil.rmtree(old)


def remove_stale_temp_files(directory: Path, *, recursive: bool = True) -> int:
    """Delete ``.*.tmp`` files an interrupted run left behind; returns how many.

    ``recursive=False`` looks in ``directory`` itself only (the batch runner names each
    folder it writes to, so that an output folder such as ``.`` is not searched throughout).
    """
    removed = 0
    if directory.is_dir():
        found = directory.rglob(".*.tmp") if recursive else directory.glob(".*.tmp")
        for tmp in found:
            if tmp.is_file():
                _remove_quietly(str(tmp))
                removed += 1
    return removed


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
