"""The loop pieces every plugin's training shares (``assetgen.training.loop``): the EMA moves
weights as the loops always did, and the progress line reads as the docs quote it."""

from __future__ import annotations

import io

import pytest

torch = pytest.importorskip("torch")

from assetgen.training.loop import StepProgress, ema_update, ramped_ema_beta  # noqa: E402


def _nets() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    target, source = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        source.weight.fill_(2.0)
        source.running_mean.fill_(5.0)
    return target, source


def test_ema_moves_parameters_and_copies_buffers() -> None:
    target, source = _nets()
    ema_update(target, source, 0.75)
    assert torch.allclose(target.weight, torch.full((3,), 0.75 * 1.0 + 0.25 * 2.0))
    assert torch.equal(target.running_mean, source.running_mean)


def test_ema_can_leave_buffers_alone() -> None:
    target, source = _nets()
    ema_update(target, source, 0.5, buffers=False)
    assert torch.allclose(target.weight, torch.full((3,), 1.5))
    assert torch.equal(target.running_mean, torch.zeros(3))


def test_ramped_beta_starts_low_and_stops_at_beta() -> None:
    assert ramped_ema_beta(0.999, 0) == pytest.approx(0.1)
    assert ramped_ema_beta(0.999, 10**6) == 0.999


def test_progress_line() -> None:
    stream = io.StringIO()
    progress = StepProgress(10, 4, every_s=3600, stream=stream)
    assert progress.due(5)  # the first step always prints
    assert not progress.due(6)
    assert progress.due(10)  # and the last
    progress.print(10, "loss 1.000", {"chars": 600})
    line = stream.getvalue()
    assert line.startswith("step 10/10 loss 1.000 ") and line.endswith(" min\n")
    assert " it/s " in line and " chars/s ETA 0.0 min" in line
    assert not StepProgress(10, 0, every_s=0, enabled=False).due(10)
