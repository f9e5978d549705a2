"""Training on your own art, the whole loop a user follows (docs/training.md, "Your own art"):
a plain folder of PNGs -> ``assetgen train --data`` -> ``assetgen export`` ->
``assetgen install-model`` -> ``-o model=NAME`` in the CLI and the Python API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assetgen import Engine, InvalidOptionsError, ModelError
from assetgen.bridge import Bridge
from assetgen.cli import main
from assetgen.runtime import sha256_file
from assetgen.training.image_folder import load_image_folder, prepare

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

TINY_SHOES = ["steps=3", "width=4", "batch_size=4", "z_dim=8", "sample_every=3",
              "checkpoint_every=3", "device=cpu"]
TINY_PORTRAITS = ["steps=2", "batch_size=4", "z_dim=16", "w_dim=16", "mapping_layers=2",
                  'channels={"4": 16, "8": 16, "16": 8, "32": 8, "64": 4}', "holdout=0",
                  "sample_every=2", "checkpoint_every=2", "device=cpu"]


def sets(values: list[str]) -> list[str]:
    return [arg for v in values for arg in ("--set", v)]


def draw(path: Path, size: tuple[int, int], colour: tuple[int, int, int], alpha: bool) -> None:
    """A filled ellipse: on a transparent canvas (a sprite) or an opaque background (a photo)."""
    from PIL import ImageDraw

    mode, bg = ("RGBA", (0, 0, 0, 0)) if alpha else ("RGB", (240, 240, 240))
    img = Image.new(mode, size, bg)
    w, h = size
    ImageDraw.Draw(img).ellipse((w // 4, h // 3, 3 * w // 4, 2 * h // 3), fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


@pytest.fixture
def art(tmp_path: Path) -> Path:
    """12 images of several sizes, modes and framings, two in a sub-folder, with labels."""
    folder = tmp_path / "my_art"
    rows = ["file,type"]
    for i in range(12):
        name = f"{'set2/' if i >= 10 else ''}item_{i:02d}.png"
        size = [(40, 30), (128, 128), (300, 90), (64, 200)][i % 4]
        draw(folder / name, size, (40 * i % 255, 120, 200 - 10 * i), alpha=i % 3 != 0)
        rows.append(f"{name},{'boot' if i % 2 else 'clog'}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture
def models_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "models"
    monkeypatch.setenv("ASSETGEN_MODELS", str(path))
    return path


# -- preparing the images --------------------------------------------------------------------


def test_sprite_is_cropped_to_its_visible_pixels_and_centred() -> None:
    img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (150, 10, 190, 50))  # a 40x40 square in a corner
    out = prepare(img, 64)
    visible = np.argwhere(out[..., 3] > 127)
    (top, left), (bottom, right) = visible.min(0), visible.max(0)
    # cropped, padded to a square with a 1/16 margin, so the square fills the middle
    assert 2 <= top <= 5 and 2 <= left <= 5 and 58 <= bottom <= 61 and 58 <= right <= 61
    # premultiplied resize: no dark fringe where red meets transparent
    edge = out[out[..., 3] > 0]
    assert edge[:, 0].min() > 200 and edge[:, 1:3].max() < 40


def test_opaque_image_is_centre_cropped_and_keeps_its_background() -> None:
    img = Image.new("RGB", (300, 100), (0, 0, 255))
    img.paste((255, 255, 0), (100, 0, 200, 100))  # the centre square is yellow
    out = prepare(img, 64)
    assert (out[..., 3] == 255).all()
    assert (out[..., 0] > 250).all() and (out[..., 2] < 5).all()


def test_folder_reads_sub_folders_in_order_with_labels(art: Path) -> None:
    loaded = load_image_folder(art, 64, progress=False)
    assert loaded.images.shape == (12, 64, 64, 4)
    assert loaded.files[-1] == "set2/item_11.png" and loaded.files[0] == "item_00.png"
    assert loaded.labels["type"][:2] == ["clog", "boot"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "item_03.png").write_bytes(b"not a png"), "item_03.png cannot be used"),
        (lambda f: [p.unlink() for p in sorted(f.glob("item_0*.png"))[:6]], "training needs 8"),
        (lambda f: (f / "labels.csv").write_text("file,type\nitem_00.png,boot\n"), "no row for"),
        (lambda f: (f / "labels.csv").write_text("name,type\n"), "a 'file' column"),
        (lambda f: Image.new("RGBA", (4, 4)).save(f / "tiny.png"), "the minimum is 8"),
        (lambda f: Image.new("RGBA", (20, 20)).save(f / "blank.png"), "fully transparent"),
    ],
)
def test_bad_folders_are_refused_naming_the_problem(art: Path, damage, message: str) -> None:
    damage(art)
    with pytest.raises(InvalidOptionsError, match=message) as err:
        load_image_folder(art, 64, progress=False)
    assert err.value.parameter == "--data"


# -- the whole loop --------------------------------------------------------------------------


def test_shoes_own_art_train_export_install_select(
    art: Path, models_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run, model = tmp_path / "run", tmp_path / "model"
    assert main(["train", "shoes", "--data", str(art), "--out", str(run), *sets(TINY_SHOES)]) == 0
    assert json.loads((run / "config.json").read_text())["type_names"] == ["boot", "clog"]
    assert main(["export", "shoes", str(run), "--out", str(model)]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["name"] == "shoes-own-art" and "my_art" in manifest["data"]
    capsys.readouterr()

    assert main(["install-model", "shoes", str(model), "--name", "my-boots"]) == 0
    assert "-o model=my-boots" in capsys.readouterr().out
    assert (models_path / "shoes" / "my-boots" / "shoes.onnx").is_file()
    assert main(["models", "shoes"]) == 0
    assert "shoes: default, my-boots" in capsys.readouterr().out

    out = tmp_path / "out"
    args = ["generate", "shoes", "--seed", "5", "--out", str(out)]
    assert main([*args, "-o", "model=my-boots", "-o", "type=clog"]) == 0
    cli_png = np.asarray(Image.open(out / "shoes_5.png"))
    (asset,) = Engine().generate("shoes", seed=5, model="my-boots", type="clog")
    assert np.array_equal(asset.rgba, cli_png)  # the same asset through CLI and API
    installed_manifest = models_path / "shoes" / "my-boots" / "manifest.json"
    installed = json.loads(installed_manifest.read_text())
    # the asset records the model it came from, not the shipped one
    assert asset.metadata["model_sha256"] == sha256_file(installed_manifest)
    assert asset.metadata["type"] == "clog"
    # the bridge's Python half (what C# calls with its options JSON) gives the same pixels
    width, height, raw = Bridge(Engine()).generate_rgba(
        "shoes", 5, '{"model": "my-boots", "type": "clog"}'
    )
    assert np.array_equal(np.frombuffer(raw, np.uint8).reshape(height, width, 4), cli_png)
    # the model's own types: the shipped model's are refused for it
    with pytest.raises(InvalidOptionsError, match="'boot', 'clog'"):
        Engine().generate("shoes", seed=5, model="my-boots", type="sneaker")
    assert installed["type_names"] == ["boot", "clog"]
    capsys.readouterr()

    # installing over a name needs --force; a bad name or an unknown model is a clear error
    assert main(["install-model", "shoes", str(model), "--name", "my-boots"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["install-model", "shoes", str(model), "--name", "my-boots", "--force"]) == 0
    assert main(["install-model", "shoes", str(model), "--name", "../up"]) == 2
    assert "--name must be 1-64 letters" in capsys.readouterr().err
    assert main([*args, "-o", "model=nope"]) == 2
    err = capsys.readouterr().err
    assert "no shoes model named 'nope'" in err and "available: default, my-boots" in err
    assert main(["remove-model", "shoes", "my-boots"]) == 0
    assert main(["models", "shoes"]) == 0
    assert "shoes: default\n" in capsys.readouterr().out


def test_install_refuses_a_damaged_or_foreign_model(
    art: Path, models_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run, model = tmp_path / "run", tmp_path / "model"
    assert main(["train", "shoes", "--data", str(art), "--out", str(run), *sets(TINY_SHOES)]) == 0
    assert main(["export", "shoes", str(run), "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["install-model", "portraits", str(model), "--name", "x"]) == 1
    assert "is a model for 'shoes', not 'portraits'" in capsys.readouterr().err
    with open(model / "shoes.onnx", "ab") as fh:
        fh.write(b"\0")
    assert main(["install-model", "shoes", str(model), "--name", "x"]) == 1
    assert "does not match its manifest" in capsys.readouterr().err
    assert not (models_path / "shoes" / "x").exists()
    assert main(["install-model", "dialogue", str(model), "--name", "x"]) == 1
    assert "does not match its manifest" in capsys.readouterr().err
    with pytest.raises(ModelError):
        from assetgen import model_store

        model_store.install("shoes", tmp_path / "nowhere", "x")


def test_portraits_own_art_stills_and_interpolation_but_no_talk(
    art: Path, models_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (art / "labels.csv").unlink()  # portraits take no labels: the folder alone is enough
    run, model = tmp_path / "run", tmp_path / "model"
    train = ["train", "portraits", "--data", str(art), "--out", str(run)]
    assert main([*train, *sets(TINY_PORTRAITS)]) == 0
    assert main(["export", "portraits", str(run), "--out", str(model)]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["edits"] == {} and "classifier.onnx" not in manifest["files"]
    assert main(["install-model", "portraits", str(model), "--name", "heroes"]) == 0
    capsys.readouterr()

    engine = Engine()
    (still,) = engine.generate("portraits", seed=3, model="heroes")
    assert still.rgba.shape == (64, 64, 4)
    assert np.array_equal(engine.generate("portraits", seed=3, model="heroes")[0].rgba,
                          still.rgba)
    morph = engine.animate("portraits", seed=3, frames=3, animation="interpolate", model="heroes")
    assert len(morph.frames) == 3
    assert np.array_equal(morph.frames[0].rgba, still.rgba)
    with pytest.raises(InvalidOptionsError, match="no mouth edit") as err:
        engine.animate("portraits", seed=3, frames=3, animation="talk", model="heroes")
    assert err.value.parameter == "animation"
    out = tmp_path / "out"
    assert main(["generate", "portraits", "--seed", "3", "--out", str(out),
                 "-o", "model=heroes"]) == 0
    assert np.array_equal(np.asarray(Image.open(out / "portraits_3.png")), still.rgba)
