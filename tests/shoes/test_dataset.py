"""Checks of the committed shoes data set and of the builder's npm-free parts.

These tests never run npm: they read ``plugins/assetgen_shoes/data`` as committed, so they stay
fast and work offline. Rebuild the data with
``python -m assetgen_shoes.training.dataset_builder --out plugins/assetgen_shoes/data``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "plugins" / "assetgen_shoes" / "data"

try:
    from assetgen_shoes.training import dataset_builder as dataset
except ImportError:  # not installed (pip install -e .): import from the source tree
    sys.path.insert(0, str(ROOT / "plugins"))
    from assetgen_shoes.training import dataset_builder as dataset

SHARE_ALIKE = re.compile(r"(^|[-_ ])SA([-_ ]|$)|share-?alike", re.IGNORECASE)


def _labels() -> list[dict[str, str]]:
    with (DATA / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _pngs() -> list[Path]:
    return sorted(DATA.glob("*.png"))


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.mode == "RGBA", f"{path.name}: mode {im.mode}"
        assert im.size == (64, 64), f"{path.name}: size {im.size}"
        return np.asarray(im)


def test_data_set_is_present_and_small() -> None:
    pngs = _pngs()
    assert len(pngs) >= 60, "expected most of the ~80-100 footwear drawings"
    total = sum(p.stat().st_size for p in DATA.iterdir() if p.is_file())
    assert total < 3 * 1024 * 1024, f"committed data set is {total} bytes"


def test_every_image_decodes_rgba_64_with_transparent_background() -> None:
    for path in _pngs():
        image = _load(path)
        alpha = image[:, :, 3]
        # The builder leaves a margin around the drawing: the outer ring, corners included,
        # must be fully transparent.
        ring = np.concatenate(
            [alpha[:2].ravel(), alpha[-2:].ravel(), alpha[:, :2].ravel(), alpha[:, -2:].ravel()]
        )
        assert ring.max() == 0, f"{path.name}: drawing touches the border"
        coverage = (alpha > 0).mean()
        assert 0.05 < coverage < 0.9, f"{path.name}: drawing covers {coverage:.0%}"
        # Not an invisible black-on-transparent silhouette: the brighter part of the drawing
        # must have some luminance.
        rgb = image[:, :, :3][alpha > 128].astype(np.float64)
        lum = rgb @ np.array([0.299, 0.587, 0.114])
        assert np.percentile(lum, 90) > 40, f"{path.name}: drawing is (nearly) black"


def test_labels_cover_every_file_exactly() -> None:
    rows = _labels()
    names = [r["file"] for r in rows]
    assert names == sorted(names), "labels.csv must be in sorted (deterministic) order"
    assert len(set(names)) == len(names)
    assert set(names) == {p.name for p in _pngs()}
    for r in rows:
        assert r["type"] in dataset.FOOTWEAR_TYPES
        assert int(r["type_id"]) == dataset.FOOTWEAR_TYPES.index(r["type"])
        # The label follows from the icon name through the builder's table, and the file name
        # from source and icon.
        assert dataset.ICON_TYPES[r["icon"]] == r["type"], r["file"]
        assert r["file"] == f"{r['source']}__{r['icon']}.png"
        assert r["icon"] not in dataset.EXCLUDED_ICONS


def test_an_icon_is_either_picked_or_left_out() -> None:
    # a name in both tables would be labelled and excluded at once; the bunny slippers are
    # footwear left out on purpose (their type's other drawing has nothing in common)
    assert not dataset.ICON_TYPES.keys() & dataset.EXCLUDED_ICONS.keys()
    assert "bunny-slippers" in dataset.EXCLUDED_ICONS
    assert {r["icon"] for r in _labels() if r["type"] == "slipper"} == {"slippers"}


def test_no_non_footwear_icons() -> None:
    icons = {r["icon"] for r in _labels()}
    for bad in ("horseshoe", "shoe-prints", "footprint", "footprints", "stiletto", "socks"):
        assert bad not in icons


def test_every_source_has_a_licence_entry_and_none_is_share_alike() -> None:
    rows = _labels()
    text = (DATA / "LICENSES.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    packages = {r["package"].rsplit("@", 1)[0]: r["package"].rsplit("@", 1)[1] for r in rows}
    for package, version in packages.items():
        matching = [s for s in sections if f"`{package}` {version}" in s.splitlines()[0]]
        assert len(matching) == 1, f"no LICENSES.md section for {package} {version}"
        section = matching[0]
        assert "Licence:" in section and "Author / attribution:" in section
        for r in rows:
            if r["package"] == f"{package}@{version}":
                assert f"`{r['file']}`" in section, f"{r['file']} not credited"
    for r in rows:
        assert r["license"] in dataset.ALLOWED_LICENSES, r["file"]
        assert not SHARE_ALIKE.search(r["license"]), r["file"]
    for line in text.splitlines():
        if line.startswith("- Licence:"):
            assert not SHARE_ALIKE.search(line), line


def test_packed_npz_matches_the_pngs_and_labels() -> None:
    rows = _labels()
    with np.load(DATA / "shoes_64.npz", allow_pickle=False) as z:
        images, labels, sources = z["images"], z["labels"], z["sources"]
        type_names, source_names, files = z["type_names"], z["source_names"], z["files"]
    assert images.dtype == np.uint8 and images.shape == (len(rows), 64, 64, 4)
    assert list(type_names) == list(dataset.FOOTWEAR_TYPES)
    assert list(files) == [r["file"] for r in rows]
    assert [type_names[i] for i in labels] == [r["type"] for r in rows]
    assert [source_names[i] for i in sources] == [r["source"] for r in rows]
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(images[i], _load(DATA / r["file"]))


def test_recoloured_sources_are_recorded() -> None:
    # game-icons are currentColor silhouettes; their fill must be recorded per file.
    for r in _labels():
        if r["source"] == "game-icons":
            assert r["recolor"] == dataset.GAME_ICONS_FILL
        else:
            assert r["recolor"] == ""


# --- builder pieces that need neither npm nor the network -------------------------------------


def test_icon_svg_uses_set_defaults_and_fill() -> None:
    icon_set = {
        "width": 512,
        "height": 512,
        "icons": {
            "a": {"body": '<path fill="currentColor" d="M0 0h10v10z"/>'},
            "b": {"body": "<path/>", "width": 24, "left": 2, "hFlip": True},
        },
    }
    svg = dataset.icon_svg(icon_set, "a", fill="#123456")
    assert 'viewBox="0 0 512 512"' in svg and 'fill="#123456"' in svg
    assert "currentColor" not in svg
    svg_b = dataset.icon_svg(icon_set, "b")
    assert 'viewBox="2 0 24 512"' in svg_b and "scale(-1 1)" in svg_b


def _source(spdx: str, title: str, icons: dict[str, Any]) -> dataset.SourceInfo:
    return dataset.SourceInfo(
        spec=dataset.SourceSpec("@iconify-json/x", "1.0.0"),
        installed_version="1.0.0",
        name="X",
        license_title=title,
        license_spdx=spdx,
        license_url="",
        author_name="",
        author_url="",
        icons=icons,
    )


@pytest.mark.parametrize(
    ("spdx", "title", "ok"),
    [
        ("CC-BY-4.0", "CC BY 4.0", True),
        ("MIT", "MIT", True),
        ("CC-BY-SA-4.0", "CC BY-SA 4.0", False),
        ("CC-BY-NC-4.0", "CC BY-NC 4.0", False),
        ("GPL-3.0", "GPL 3.0", False),
    ],
)
def test_license_refusal(spdx: str, title: str, ok: bool) -> None:
    src = _source(spdx, title, {"icons": {}})
    assert (dataset.license_refusal(src) is None) is ok


def test_selection_skips_lookalikes_and_aliases() -> None:
    icons = {
        "icons": {n: {"body": ""} for n in ("boots", "horseshoe", "stiletto", "new-sneaker")},
        "aliases": {"boots-alias": {"parent": "boots"}},
    }
    picked, unreviewed = dataset.select_drawings(_source("MIT", "MIT", icons))
    assert [d.icon for d in picked] == ["boots"]
    assert unreviewed == ["new-sneaker"]


def test_main_exits_2_with_one_line_when_npm_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    code = dataset.main(["--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "npm" in err
    assert not (tmp_path / "out").exists()


def test_render_fitted_centres_with_margin() -> None:
    pytest.importorskip("resvg_py")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" '
        'viewBox="0 0 100 100"><rect x="10" y="40" width="40" height="20" fill="#a05020"/></svg>'
    )
    image = dataset.render_fitted(svg)
    assert image.shape == (64, 64, 4) and image.dtype == np.uint8
    rows = np.flatnonzero(image[:, :, 3].any(axis=1))
    cols = np.flatnonzero(image[:, :, 3].any(axis=0))
    # Wide rectangle: fills the width minus margins, keeps its 2:1 aspect, centred vertically.
    assert cols[0] >= dataset.MARGIN_PX and cols[-1] <= 63 - dataset.MARGIN_PX
    assert cols[-1] - cols[0] >= 64 - 2 * dataset.MARGIN_PX - 3
    assert abs((rows[-1] - rows[0]) * 2 - (cols[-1] - cols[0])) <= 3
    assert abs((rows[0] + rows[-1]) / 2 - 31.5) <= 1
