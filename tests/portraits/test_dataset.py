"""Tests of the portraits data-set builder (small builds, offline, a few seconds in all)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

try:
    from assetgen_portraits.training import dataset_builder as dataset
except ImportError:  # not installed (pip install -e .): import from the source tree
    sys.path.insert(0, str(ROOT / "plugins"))
    from assetgen_portraits.training import dataset_builder as dataset

# 64 px canvas boxes (rows, cols) holding the mouth and the eyes, from the adventurer canvas
# layout (mouth at 232,457 and eyes at 155,340 of 762), with a few pixels of slack.
MOUTH_BOX = (slice(34, 54), slice(15, 41))
EYES_BOX = (slice(25, 44), slice(10, 45))


def _build(out: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("workers", 1)
    kwargs.setdefault("progress", False)
    return dataset.build_dataset(out, **kwargs)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portraits") / "set"
    _build(out, count=24, seed=3, pairs=6)
    return out


def test_layout_and_images(built: Path) -> None:
    names = sorted(p.name for p in (built / "images").iterdir())
    assert names == [f"{i:06d}.png" for i in range(24)]
    for name in names[:5]:
        with Image.open(built / "images" / name) as img:
            assert img.size == (64, 64) and img.mode == "RGBA"
            pixels = np.asarray(img)
        assert pixels[0, 0, 3] == 0 and pixels[..., 3].max() == 255  # transparent background
    assert not list(built.parent.glob(".set.*"))  # temporary folders are gone


def test_labels_csv_matches_npz(built: Path) -> None:
    rows = _csv(built / "labels.csv")
    manifest = json.loads((built / "dataset.json").read_text(encoding="utf-8"))
    columns = manifest["columns"]
    with np.load(built / "portraits_64.npz") as z:
        images, labels, names = z["images"], z["labels"], list(z["label_names"])
        vocab = {c: list(z[f"vocab_{c}"]) for c in names}
    assert images.shape == (24, 64, 64, 4) and images.dtype == np.uint8
    assert labels.shape == (24, len(columns)) and names == list(columns)
    for i, row in enumerate(rows):
        assert row["index"] == str(i) and row["file"] == f"images/{i:06d}.png"
        assert {c: vocab[c][labels[i, k]] for k, c in enumerate(names)} == {
            c: row[c] for c in names
        }
        with Image.open(built / row["file"]) as img:
            assert np.array_equal(np.asarray(img), images[i])


def test_manifest(built: Path) -> None:
    manifest = json.loads((built / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["style"] == "adventurer" and manifest["seed"] == 3
    assert manifest["count"] == 24 and manifest["pairs"] == 6
    assert manifest["licence"]["name"] == "CC BY 4.0"
    assert "Lisa Wischofsky" in manifest["attribution"]
    assert manifest["command"].startswith("python -m assetgen_portraits.dataset")
    for column in ("hair", "hairColor", "skinColor", "eyes", "eyebrows", "mouth", "glasses"):
        assert column in manifest["columns"]
    for column in ("glassesPresent", "earringsPresent", "details", "mouthState", "eyesState"):
        assert column in manifest["columns"]
    assert set(manifest["versions"]) >= {"dicebear-core", "dicebear-styles", "resvg-py"}


def test_labels_respect_curation(built: Path) -> None:
    cur = dataset.ADVENTURER_CURATION
    for row in _csv(built / "labels.csv"):
        assert row["mouth"] in cur.variants["mouth"]
        assert row["eyes"] in cur.variants["eyes"]
        assert row["mouthState"] == dataset.ADVENTURER_MOUTH_STATE[row["mouth"]]
        assert row["glassesPresent"] == ("0" if row["glasses"] == "none" else "1")
        assert row["glasses"] in ("none", *cur.variants["glasses"])


def test_pairs_change_only_mouth_or_eyes(built: Path) -> None:
    rows = _csv(built / "pairs" / "labels.csv")
    with np.load(built / "pairs" / "pairs.npz") as z:
        closed, opened, shut = z["closed"], z["open"], z["eyes_closed"]
        assert closed.shape == opened.shape == shut.shape == (6, 64, 64, 4)
        assert z["labels"].shape[0] == z["open_mouth"].shape[0] == 6
    for i, row in enumerate(rows):
        assert row["mouthState"] == "closed" and row["eyesState"] == "open"
        assert dataset.ADVENTURER_MOUTH_STATE[row["openMouth"]] == "open"
        assert dataset.ADVENTURER_EYES_STATE[row["closedEyes"]] == "closed"
        for frame, box, other in (
            ("open", MOUTH_BOX, opened[i]),
            ("eyes_closed", EYES_BOX, shut[i]),
        ):
            diff = np.any(closed[i] != other, axis=-1)
            assert diff.any(), f"pair {i}: {frame} frame equals the closed frame"
            diff[box] = False
            assert not diff.any(), f"pair {i}: {frame} frame changed outside the {frame} area"
            with Image.open(built / row[f"{frame}_file"]) as img:
                assert np.array_equal(np.asarray(img), other)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path, built: Path) -> None:
    _build(tmp_path / "again", count=24, seed=3, pairs=6, workers=2)
    for rel in ("labels.csv", "portraits_64.npz", "pairs/labels.csv", "pairs/pairs.npz"):
        assert (tmp_path / "again" / rel).read_bytes() == (built / rel).read_bytes(), rel
    for png in (built / "images").iterdir():
        assert (tmp_path / "again" / "images" / png.name).read_bytes() == png.read_bytes()


def test_other_seed_other_faces(tmp_path: Path, built: Path) -> None:
    _build(tmp_path / "other", count=24, seed=4, write_png=False)
    assert _csv(tmp_path / "other" / "labels.csv") != _csv(built / "labels.csv")


def test_no_png_writes_the_same_npz(tmp_path: Path, built: Path) -> None:
    _build(tmp_path / "npz", count=24, seed=3, write_png=False)
    assert not (tmp_path / "npz" / "images").exists()
    with (
        np.load(tmp_path / "npz" / "portraits_64.npz") as a,
        np.load(built / "portraits_64.npz") as b,
    ):
        assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["labels"], b["labels"])


def test_curation_is_consistent() -> None:
    style = dataset.load_style("adventurer")
    cur = dataset.ADVENTURER_CURATION
    for component, values in cur.variants.items():
        assert set(values) <= set(style.components()[component].variants()), component
    assert set(dataset.ADVENTURER_MOUTH_STATE) == set(style.components()["mouth"].variants())
    assert set(dataset.ADVENTURER_EYES_STATE) == set(style.components()["eyes"].variants())
    for closed, opened in cur.mouth_families:
        assert {dataset.ADVENTURER_MOUTH_STATE[v] for v in closed} == {"closed"}
        assert {dataset.ADVENTURER_MOUTH_STATE[v] for v in opened} == {"open"}
        assert set(closed) | set(opened) <= set(cur.variants["mouth"])


def test_licence_constant_matches_style_definition() -> None:
    meta = dataset.load_style("adventurer").meta()
    lic = dataset.STYLE_LICENCES["adventurer"]
    assert (lic.name, lic.url, lic.creator) == (
        meta.license().name(),
        meta.license().url(),
        meta.creator().name(),
    )
    assert lic.attribution == meta.license().text()


def test_uncurated_style_builds(tmp_path: Path) -> None:
    result = _build(tmp_path / "lorelei", count=3, style="lorelei", write_png=False)
    assert result["licence"]["name"] == "CC0 1.0" and result["count"] == 3
    with np.load(tmp_path / "lorelei" / "portraits_64.npz") as z:
        assert z["images"].shape == (3, 64, 64, 4) and z["images"][:, 0, 0, 3].max() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": 0}, "count must be an integer from 1"),
        ({"count": 2, "seed": -1}, "seed must be an integer from 0"),
        ({"count": 2, "pairs": -1}, "pairs must be an integer from 0"),
        ({"count": 2, "workers": 0}, "workers must be an integer from 1"),
        ({"count": 2, "style": "nope"}, "style must be one of"),
        ({"count": 2, "style": "lorelei", "pairs": 1}, "pairs needs a style"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(dataset.DatasetArgumentError, match=message):
        dataset.build_dataset(tmp_path / "x", progress=False, **kwargs)
    assert not (tmp_path / "x").exists()


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(dataset.DatasetArgumentError, match="out_dir"):
        dataset.build_dataset(tmp_path, count=1, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_main_runs_and_rejects_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert dataset.main(["--out", str(out), "--count", "2", "--workers", "1", "--quiet"]) == 0
    manifest = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["command"].endswith(f"--out {out} --count 2 --workers 1 --quiet")
    with pytest.raises(SystemExit) as exc:
        dataset.main(["--out", str(out), "--count", "0"])
    assert exc.value.code == 2 and "count must be an integer from 1" in capsys.readouterr().err


def test_progress_is_the_core_line_and_quiet_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The builder's progress is the core's (assetgen.progress, tqdm): in a log (stderr is not
    a terminal here) whole lines, the first at 0, the last with the rate and time taken."""
    _build(tmp_path / "a", count=6, seed=1, pairs=2, write_png=False, progress=True)
    lines = capsys.readouterr().err.splitlines()
    total = 6 + 2 * len(dataset.PAIR_FRAMES)
    assert lines[0] == f"portraits: 0/{total} images (0%)"
    assert lines[-1].startswith(f"portraits: {total}/{total} images (100%), ")
    assert lines[-1].endswith("s") and ", took " in lines[-1] and "/s, " in lines[-1]
    assert not any("\r" in line for line in lines)
    assert len(lines) <= 3  # a short build: the start, the last item, the close
    assert dataset.main(["--out", str(tmp_path / "b"), "--count", "2", "--workers", "1",
                         "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_module_does_not_import_torch() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import assetgen_portraits.training.dataset_builder; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code, str(ROOT / "plugins")], check=True)


def test_speech_faces_cover_every_mouth_without_changing_the_main_set(tmp_path: Path) -> None:
    plain = dataset.build_dataset(tmp_path / "a", 8, seed=5, workers=1, write_png=False,
                                  progress=False)
    with_speech = dataset.build_dataset(tmp_path / "b", 8, seed=5, speech=24, workers=1,
                                        write_png=False, progress=False)
    assert with_speech["speech"] == 24 and plain["speech"] == 0
    assert "--speech 24" in with_speech["command"]
    a = np.load(tmp_path / "a" / "portraits_64.npz")
    b = np.load(tmp_path / "b" / "portraits_64.npz")
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["labels"], b["labels"])
    assert "speech_images" not in a and b["speech_images"].shape == (24, 64, 64, 4)
    mouths = [str(v) for v in b["vocab_mouth"]]
    assert mouths == ["none", *(f"variant{i:02d}" for i in range(1, 31))]
    names = [str(n) for n in b["label_names"]]
    drawn = {mouths[c] for c in b["speech_labels"][:, names.index("mouth")]}
    curated = set(dataset.ADVENTURER_CURATION.variants["mouth"])
    assert drawn - curated, "speech faces draw mouths the still portraits leave out"
    with pytest.raises(dataset.DatasetArgumentError, match="speech"):
        dataset.build_dataset(tmp_path / "c", 4, style="lorelei", speech=4, workers=1,
                              write_png=False, progress=False)


def test_renders_have_no_alpha_between_1_and_7(tmp_path: Path) -> None:
    """The fact behind the label model's alpha floor (training/export.py ALPHA_FLOOR): resvg's
    anti-aliasing never leaves alpha 1-7, so clearing those values only removes model haze."""
    dataset.build_dataset(tmp_path / "d", 200, seed=9, workers=1, write_png=False, progress=False)
    alpha = np.load(tmp_path / "d" / "portraits_64.npz")["images"][..., 3]
    assert ((alpha > 0) & (alpha < 8)).sum() == 0
    assert ((alpha > 0) & (alpha < 255)).any()  # anti-aliased edges do exist
