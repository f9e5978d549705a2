"""The label generator's architecture switches (``up_mode``, ``head_mode``): output shape,
multiply-adds as counted by the convolutions that actually run, and old configs loading as
they were trained."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from assetgen_portraits.training.model import (  # noqa: E402
    DEFAULT_LABEL_CONFIG,
    LabelGenerator,
    LabelSpace,
)

SPACE = LabelSpace((
    ("hair", ("none", "short01", "long01")),
    ("hairColor", ("none", "#0e0e0e")),
    ("skinColor", ("#f2d3b1", "#763900")),
    ("eyes", ("variant01", "variant02")),
    ("mouth", ("variant01", "variant02", "variant03")),
))


def _config(**changes: object) -> dict:
    cfg = dict(DEFAULT_LABEL_CONFIG)
    cfg.update(label_channels=[32, 32, 32, 16], head_channels=8, map16_channels=16,
               map32_channels=8, label_w_dim=32, mapping_hidden=32, embed_dim=8)
    cfg.update(changes)
    return cfg


def _counted_multiply_adds(G: LabelGenerator, weights: torch.Tensor) -> int:
    """Multiply-adds of every Conv2d call in one forward pass (batch 1), from hooks on the
    convolution function itself, so the count is what ran, not what the formula says."""
    total = 0
    conv2d = torch.nn.functional.conv2d

    def counting(x, weight, *args, **kwargs):
        nonlocal total
        out = conv2d(x, weight, *args, **kwargs)
        cout, cin, kh, kw = weight.shape
        total += cout * cin * kh * kw * out.shape[-1] * out.shape[-2]
        return out

    torch.nn.functional.conv2d = counting
    try:
        with torch.no_grad():
            G(weights)
    finally:
        torch.nn.functional.conv2d = conv2d
    return total


@pytest.mark.parametrize("up_mode", ["bilinear", "subpixel"])
@pytest.mark.parametrize("head_mode", ["refine", "shuffle"])
def test_every_mode_draws_64px_rgba_and_counts_its_work(up_mode: str, head_mode: str) -> None:
    torch.manual_seed(0)
    G = LabelGenerator(SPACE, _config(up_mode=up_mode, head_mode=head_mode)).eval()
    weights = SPACE.one_hot(torch.tensor([[1, 1, 0, 1, 2]]))
    with torch.no_grad():
        out = G(weights)
    assert out.shape == (1, 4, 64, 64)
    assert torch.isfinite(out).all()
    # the 1x1 ToRGBA skips are not in the formula (a few thousand multiply-adds)
    counted = _counted_multiply_adds(G, weights)
    skips = (32 * 4 * 16 * 16) + (16 * 4 * 32 * 32)
    assert counted - skips == G.multiply_adds()


def test_the_fast_modes_cost_less_than_the_default() -> None:
    slow = LabelGenerator(SPACE, _config())
    fast = LabelGenerator(SPACE, _config(up_mode="subpixel", head_mode="shuffle"))
    assert fast.multiply_adds() < slow.multiply_adds()


def test_a_config_from_before_the_switches_loads_as_trained() -> None:
    """Runs recorded before up_mode / head_mode existed build the architecture they were
    trained with (bilinear upsampling, the refining 64 px head)."""
    old = _config()
    del old["up_mode"], old["head_mode"]
    G = LabelGenerator(SPACE, old)
    assert G.cfg["up_mode"] == "bilinear" and G.cfg["head_mode"] == "refine"
    assert G.synthesis.refine is not None
    ref = LabelGenerator(SPACE, _config())
    assert G.state_dict().keys() == ref.state_dict().keys()


def test_an_unknown_mode_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="up_mode must be 'bilinear' or 'subpixel'"):
        LabelGenerator(SPACE, _config(up_mode="nearest"))
    with pytest.raises(ValueError, match="head_mode must be 'refine' or 'shuffle'"):
        LabelGenerator(SPACE, _config(head_mode="deep"))


def test_the_shuffle_head_convolves_before_the_shuffle_as_after_it() -> None:
    """The "shuffle" head's 1 x 1 output convolution runs before the pixel shuffle (4 x 4
    channels to move instead of head x 4): the same image as convolving after it."""
    torch.manual_seed(0)
    G = LabelGenerator(SPACE, _config(head_mode="shuffle"))
    S = G.synthesis
    with torch.no_grad():
        S.out.bias.normal_()
        h = torch.randn(2, S.out.weight.shape[1] * 4, 8, 8)
        after = S.out(F.pixel_shuffle(h, 2))
        before = F.pixel_shuffle(S._out_before_shuffle(h), 2)
    assert before.shape == after.shape == (2, 4, 16, 16)
    assert torch.allclose(before, after, atol=1e-6)


def test_the_exported_mapping_gathers_the_maps_of_the_largest_weights() -> None:
    """The exported mapping reads each column's two largest weights from the map tables
    instead of multiplying whole tables: the same maps for one-hot weights (bit for bit) and
    for two-value blends (morph, mouth frames); a third value in a column is not read."""
    from assetgen_portraits.training.export import MAP_VALUES_READ, _Mapping

    torch.manual_seed(0)
    G = LabelGenerator(SPACE, _config())
    with torch.no_grad():
        G.mapping.maps16.normal_()
        G.mapping.maps32.normal_()
    one_hot = SPACE.one_hot(torch.tensor([[1, 1, 0, 1, 2], [2, 0, 1, 0, 0]]))
    blend = (0.3 * one_hot[0] + 0.7 * one_hot[1])[None]
    exported = _Mapping(G)
    with torch.no_grad():
        for weights, exact in ((one_hot, True), (blend, False)):
            want = (G.mapping.w(weights), *G.mapping.maps(weights))
            got = exported(weights)
            for a, b in zip(want, got, strict=True):
                assert torch.equal(a, b) if exact else torch.allclose(a, b, atol=1e-5)
        assert MAP_VALUES_READ == 2
        third = one_hot[:1].clone()
        mouth = SPACE.span("mouth")
        third[0, mouth] = torch.tensor([0.5, 0.3, 0.2])  # three mouths: the 0.2 one is dropped
        dropped = third.clone()
        dropped[0, mouth.start + 2] = 0.0
        assert torch.allclose(exported(third)[1], G.mapping.maps(dropped)[0], atol=1e-5)
