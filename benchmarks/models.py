"""Where the benchmark's models come from: ONNX model folders and PyTorch training runs.

The ONNX side is the product: each plugin loads its model folder from ``plugin.MODEL_DIR``
(``plugins/assetgen_<name>/model/``), which ``--<name>-model DIR`` replaces before the engine
is created. The PyTorch side needs the weights as a PyTorch module, which a model folder does
not hold (only ONNX), so it is rebuilt from a training run folder (``--<name>-run``, default
``runs/<name>``) with the plugin's own loader; without one the PyTorch comparison is skipped,
unless ``--torch-from-manifest`` allows a freshly initialised module of the model's
architecture (speed does not depend on the weights' values).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .common import ItemResult, Settings, ratio

GENERATORS = ("portraits", "shoes", "dialogue")
#: The ONNX files each generator's benchmarks need from its folder.
NEEDED = {
    "portraits": ("mapping.onnx", "synthesis_prefix.onnx", "synthesis_suffix.onnx"),
    "shoes": ("shoes.onnx",),
    "dialogue": ("dialogue_gpt_step.onnx",),
}
#: A label-conditioned portraits folder (``"conditioning": "labels"``): label weights ->
#: ``mapping.onnx`` (w, maps16, maps32) -> ``synthesis.onnx``; no z, no prefix / suffix.
NEEDED_LABELS = ("mapping.onnx", "synthesis.onnx")


def conditioning(manifest: dict[str, Any] | None) -> str:
    """A portraits manifest's kind: "labels" (label-conditioned) or "none" (unconditional:
    z, prefix and suffix graphs; manifests from before the label models have no field)."""
    return str((manifest or {}).get("conditioning", "none"))


def needed_files(name: str, manifest: dict[str, Any] | None) -> tuple[str, ...]:
    if name == "portraits" and conditioning(manifest) == "labels":
        return NEEDED_LABELS
    return NEEDED[name]


class Skip(Exception):
    """A benchmark (or part of one) cannot run here; the message says why and what to do."""


def plugin_module(name: str) -> ModuleType:
    return importlib.import_module(f"assetgen_{name}.plugin")


@dataclass
class ModelSource:
    """One generator's model folder (``None`` if absent, with the reason) and run folder."""

    name: str
    model_dir: Path | None
    missing: str
    run_dir: Path
    manifest: dict[str, Any] | None = None

    def require_model(self) -> Path:
        if self.model_dir is None:
            raise Skip(self.missing)
        return self.model_dir

    @property
    def labels(self) -> bool:
        """A label-conditioned portraits model (see :func:`conditioning`)."""
        return self.model_dir is not None and conditioning(self.manifest) == "labels"


@dataclass
class ItemPart:
    """What each part of an item that times several models (item 3: shoes, dialogue) runs
    with: the engine, the settings, whether PyTorch's model is built fresh from the manifest
    (``--torch-from-manifest``), figures shared with later items, and the item its rows go to."""

    engine: Any
    settings: Settings
    from_manifest: bool
    shared: dict[str, Any]
    item: ItemResult

    def bundle(self, src: ModelSource) -> Any:
        """The engine's verified model folder of ``src`` (:class:`Skip` when it has none)."""
        return self.engine.runtime.load_model(src.require_model())


def find_model(name: str, given: Path | None) -> ModelSource:
    default = Path(plugin_module(name).MODEL_DIR)
    folder = given if given is not None else default
    run = Path("runs") / name
    src = ModelSource(name, None, "", run)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        src.missing = (
            f"no {name} model at {folder} (no manifest.json); pass --{name}-model DIR, a "
            "folder exported by 'assetgen export'"
        )
        return src
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        src.missing = f"{manifest_path} is unreadable: {exc}"
        return src
    absent = [f for f in needed_files(name, manifest) if not (folder / f).is_file()]
    if absent:
        src.missing = f"{name} model at {folder} lacks {', '.join(absent)}"
        return src
    src.model_dir, src.manifest = folder.resolve(), manifest
    return src


def install(sources: dict[str, ModelSource]) -> None:
    """Point each plugin at its model folder (before any Engine is created)."""
    for name, src in sources.items():
        if src.model_dir is not None:
            plugin_module(name).MODEL_DIR = src.model_dir  # type: ignore[attr-defined]


def _import_torch_tools(name: str, module: str = "tools") -> ModuleType:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise Skip(f"PyTorch is not installed (pip install -e '.[train]'): {exc}") from None
    try:
        return importlib.import_module(f"assetgen_{name}.{module}")
    except ImportError as exc:
        raise Skip(f"cannot import assetgen_{name}.{module}: {exc}") from None


def _no_run(src: ModelSource, from_manifest: bool) -> bool:
    """True: build from the manifest. Raises Skip when there is neither a run nor permission."""
    has_run = any((src.run_dir / f).is_file() for f in ("checkpoint.pt", "best.pt"))
    if has_run:
        return False
    if from_manifest and src.manifest is not None:
        return True
    raise Skip(
        f"no training run at {src.run_dir} (checkpoint.pt) to rebuild the PyTorch module from; "
        f"pass --{src.name}-run DIR, or --torch-from-manifest to time a freshly initialised "
        "module of the same architecture"
    )


def run_conditioning(run_dir: Path) -> str:
    """What a training run trained: its ``config.json``'s "conditioning" ("none" without one,
    as the runs from before the label models have)."""
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "none"
    return str(config.get("conditioning", "none")) if isinstance(config, dict) else "none"


def _same_kind(src: ModelSource) -> None:
    """Skip when the run folder trained the other kind of model than the model folder's."""
    model_kind, run_kind = conditioning(src.manifest), run_conditioning(src.run_dir)
    if model_kind != run_kind:
        what = {"labels": "label-conditioned", "none": "unconditional"}
        raise Skip(
            f"the run at {src.run_dir} trained a {what.get(run_kind, run_kind)} model and the "
            f"model folder holds a {what.get(model_kind, model_kind)} one; pass the run the "
            "model was exported from with --portraits-run"
        )


def torch_portraits(src: ModelSource, from_manifest: bool) -> tuple[Any, dict[str, Any]]:
    """The portraits generator as a PyTorch module, and where its weights came from."""
    tools = _import_torch_tools("portraits", "training.unconditional_train")
    if src.labels:
        return torch_label_portraits(src, from_manifest)
    if _no_run(src, from_manifest):
        from assetgen_portraits.training.stylegan import PortraitGenerator

        assert src.manifest is not None
        G = PortraitGenerator.from_config(src.manifest["training"]["config"]).eval()
        info: dict[str, Any] = {"weights": "fresh (same architecture, --torch-from-manifest)"}
    else:
        _same_kind(src)
        G, _config, step = tools.load_run_generator(src.run_dir)
        info = {"weights": f"{src.run_dir}/checkpoint.pt", "step": step}
    m = src.manifest or {}
    if m and (
        G.synthesis.layer_info() != m.get("layers")
        or G.z_dim != m.get("z_dim")
        or G.w_dim != m.get("w_dim")
    ):
        raise Skip(
            f"the run at {src.run_dir} is not the model's architecture (layers, z_dim or "
            "w_dim differ); pass the run the model was exported from with --portraits-run"
        )
    return G, info


def torch_label_portraits(src: ModelSource, from_manifest: bool) -> tuple[Any, dict[str, Any]]:
    """A label-conditioned portraits model as its PyTorch ``LabelGenerator``: from a training
    run of that kind (``training.train.load_label_generator``: its ``best.pt``, else
    ``checkpoint.pt``), or, with ``--torch-from-manifest`` and no run, freshly initialised
    from the manifest's label space and training config."""
    from assetgen_portraits.training.model import DEFAULT_LABEL_CONFIG, LabelGenerator, LabelSpace

    m = src.manifest or {}
    if _no_run(src, from_manifest):
        config = {**DEFAULT_LABEL_CONFIG, **m.get("training", {}).get("config", {})}
        G = LabelGenerator(LabelSpace.from_json(m["label_space"]), config).eval()
        info: dict[str, Any] = {"weights": "fresh (same architecture, --torch-from-manifest)"}
    else:
        _same_kind(src)
        from assetgen_portraits.training.train import load_label_generator

        G, config, step = load_label_generator(src.run_dir)
        source = "best.pt" if (src.run_dir / "best.pt").is_file() else "checkpoint.pt"
        info = {"weights": f"{src.run_dir}/{source}", "step": step}
    if (
        G.space.to_json() != m.get("label_space")
        or int(config["label_w_dim"]) != m.get("w_dim")
        or G.num_ws != m.get("num_ws")
        or [G.mapping.c16, G.mapping.c32]
        != [m.get("maps", {}).get(k, [None])[0] for k in ("maps16", "maps32")]
    ):
        raise Skip(
            f"the run at {src.run_dir} is not the model's architecture (label space, w_dim, "
            "num_ws or map channels differ); pass the run the model was exported from with "
            "--portraits-run"
        )
    return G, info


def torch_shoes(src: ModelSource, from_manifest: bool) -> tuple[Any, dict[str, Any]]:
    tools = _import_torch_tools("shoes", "training.export")
    if _no_run(src, from_manifest):
        from assetgen_shoes.training.model import ShoeGenerator

        assert src.manifest is not None
        config = src.manifest["training"]["config"]
        G = ShoeGenerator(config["z_dim"], len(src.manifest["type_names"]), config["width"])
        info: dict[str, Any] = {"weights": "fresh (same architecture, --torch-from-manifest)"}
    else:
        G, config, step = tools.load_run_generator(src.run_dir)
        info = {"weights": f"{src.run_dir}/checkpoint.pt", "step": step}
    m = src.manifest or {}
    if m and (G.z_dim != m.get("z_dim") or G.num_types != len(m.get("type_names", []))):
        raise Skip(f"the run at {src.run_dir} is not the shoes model's architecture")
    return tools._ExportWrapper(G.eval()).eval(), info


def torch_dialogue(src: ModelSource, from_manifest: bool) -> tuple[Any, dict[str, Any]]:
    tools = _import_torch_tools("dialogue", "training.lstm_train")
    if _no_run(src, from_manifest):
        assert src.manifest is not None
        m = src.manifest
        model = tools.make_model(
            m["training"]["config"], int(m["vocab_size"]), len(m["archetypes"])
        ).eval()
        info: dict[str, Any] = {"weights": "fresh (same architecture, --torch-from-manifest)"}
    else:
        model, _config, step, source = tools.load_run_model(src.run_dir)
        info = {"weights": f"{src.run_dir}/{source}", "step": step}
    m = src.manifest or {}
    if m and (
        model.layers != m.get("layers")
        or model.hidden != m.get("hidden")
        or model.vocab_size != m.get("vocab_size")
    ):
        raise Skip(f"the run at {src.run_dir} is not the dialogue model's architecture")
    return model, info


_TORCH_DEFAULT_THREADS: dict[str, int] = {}


def reset_torch_threads() -> None:
    """Back to PyTorch's default thread count after :func:`torch_thread_variants`."""
    if "n" in _TORCH_DEFAULT_THREADS:
        import torch

        torch.set_num_threads(_TORCH_DEFAULT_THREADS["n"])


def torch_thread_variants(name: str, fn: Any) -> dict[str, Any]:
    """``fn`` (zero arguments) at PyTorch's default intra-op thread count and at 1 thread.

    On a loaded machine PyTorch's OpenMP threads can wait on each other for whole time slices
    (a 2-thread eager forward was seen 40× slower than a 1-thread one while two training jobs
    shared the 2 cores), so the comparison takes the faster of the two: PyTorch at its best.
    """
    import torch

    default = _TORCH_DEFAULT_THREADS.setdefault("n", torch.get_num_threads())

    def at(n: int) -> Any:
        def run() -> Any:
            if torch.get_num_threads() != n:
                torch.set_num_threads(n)
            return fn()

        return run

    out = {f"{name} ({default} threads)": at(default)}
    if default != 1:
        out[f"{name} (1 thread)"] = at(1)
    return out


def best_of(times: dict[str, list[float]], prefix: str) -> str | None:
    """The key starting with ``prefix`` whose median time is lowest."""
    import statistics

    keys = [k for k in times if k.startswith(prefix)]
    return min(keys, key=lambda k: statistics.median(times[k])) if keys else None


def weights_note(info: dict[str, Any]) -> str:
    """Table note: were the PyTorch weights the ONNX model's?"""
    if "fresh" in str(info.get("weights")):
        return "fresh weights, same architecture"
    if info.get("same_weights"):
        return "same weights"
    return "weights differ from the model's (run newer than the export?), same architecture"


def torch_ratio_row(
    item: ItemResult, info: dict[str, Any], times: dict[str, list[float]], prefix: str, figure: str
) -> str | None:
    """The row ``figure``: PyTorch at its best (the fastest timing whose key starts with
    ``prefix``, recorded as ``info["best"]``) over ONNX Runtime's ``"onnxruntime"`` timing.
    The best key, or None (no PyTorch timing: no row)."""
    best = best_of(times, prefix)
    if best is not None:
        info["best"] = best
        item.row(
            figure,
            ratio(times[best], times["onnxruntime"]),
            "×",
            note=weights_note(info) + f"; PyTorch at its best: {best}",
        )
    return best
