"""Load-time checks of a portraits model folder: every manifest field the runtime uses is
compared with the graphs and files it describes, and a model whose sprites would be blank or
wrong is refused with an error naming the file and the field (never a raw ONNX Runtime or
numpy error later, never a fully transparent sprite).

Checked for both kinds: ``w_dim`` / ``num_ws`` against the graphs' inputs, ``w_avg`` (length,
finite), every attribute vector in ``attributes.csv`` (length ``w_dim``, finite, not zero).
Label models: the label space against ``mapping.onnx``'s input. Unconditional models: ``z_dim``
against ``mapping.onnx``, ``split_layer`` against ``layers``, and each edit (channels within
the edited layer, a finite pattern that is not all zero, a window inside the map).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assetgen import ModelError


def _bad(field: str, why: str, file: str = "manifest.json") -> ModelError:
    return ModelError(f"{file}: field '{field}' {why}")


def _dims(bundle: Any, graph: str, name: str) -> list[Any]:
    for item in bundle.session(graph).get_inputs():
        if item.name == name:
            return list(item.shape)
    raise ModelError(f"{graph} has no input '{name}'; the manifest describes another model")


def _fixed(dims: list[Any]) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in dims]


def check_common(bundle: Any, w_dim: int, num_ws: int, w_avg: np.ndarray,
                 attributes: dict[str, dict[str, Any]], synthesis: str) -> None:
    if w_avg.shape != (w_dim,):
        raise _bad("w_avg", f"has {w_avg.size} values; w_dim is {w_dim}")
    if not np.isfinite(w_avg).all():
        raise _bad("w_avg", "holds NaN or infinite values")
    ws = _fixed(_dims(bundle, synthesis, "ws"))
    if ws[1:] != [num_ws, w_dim]:
        raise _bad("num_ws", f"/ w_dim ({num_ws}, {w_dim}) do not match {synthesis}'s input "
                   f"ws {ws[1:]}")
    for name, attr in attributes.items():
        vector = attr["vector"]
        if vector.shape != (w_dim,):
            raise _bad(name, f"has {vector.size} values; w_dim is {w_dim}", "attributes.csv")
        if not np.isfinite(vector).all():
            raise _bad(name, "holds NaN or infinite values", "attributes.csv")
        if not np.abs(vector).max() > 0:
            raise _bad(name, "is a zero vector (it would change nothing)", "attributes.csv")


def check_labels(bundle: Any, size: int) -> None:
    dims = _fixed(_dims(bundle, "mapping.onnx", "label_weights"))
    if dims[1:] != [size]:
        raise _bad("label_space", f"has {size} values in all; mapping.onnx takes {dims[1:]}")


def check_unconditional(bundle: Any, manifest: dict[str, Any], z_dim: int, split: int,
                        edits: dict[str, Any]) -> None:
    dims = _fixed(_dims(bundle, "mapping.onnx", "z"))
    if dims[1:] != [z_dim]:
        raise _bad("z_dim", f"is {z_dim}; mapping.onnx takes z of size {dims[1:]}")
    layers = manifest.get("layers", [])
    if layers and not 0 <= split < len(layers):
        raise _bad("split_layer", f"is {split}; the model has layers 0 to {len(layers) - 1}")
    for name, edit in edits.items():
        field = f"edits.{name}"
        if len(edit.shape) != 3 or (layers and edit.layer >= len(layers)):
            raise _bad(field, f"has layer {edit.layer} / shape {edit.shape} the model lacks")
        channels = edit.shape[0]
        if edit.channels.size == 0 or edit.channels.min() < 0 or edit.channels.max() >= channels:
            raise _bad(f"{field}.channels", f"must be 0 to {channels - 1}; got "
                       f"{edit.channels.tolist()}")
        if edit.pattern.shape != (len(edit.channels), *edit.shape[1:]):
            raise _bad(f"{field}.pattern", f"has shape {edit.pattern.shape}")
        if not np.isfinite(edit.pattern).all() or not np.isfinite(edit.reference).all():
            raise _bad(f"{field}.pattern", "holds NaN or infinite values")
        if not np.abs(edit.pattern).max() > 0:
            raise _bad(f"{field}.pattern", "is all zero (the animation would not move)")
        if edit.window is not None:
            y0, y1, x0, x1 = (int(v) for v in edit.window["crop"])
            h, w = edit.shape[1:]
            if not (0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w):
                raise _bad(f"{field}.window.crop", f"{[y0, y1, x0, x1]} is outside the "
                           f"{h} x {w} map")
