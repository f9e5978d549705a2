"""``assetgen eval dialogue``: the figures of the dialogue GPT's model card.

Held-out text (the test split: whole campaigns and plays no training step saw):

- nats per character (each character of a line and its end) of the exported step graph on
  the held-out campaigns and plays, against an interpolated Kneser-Ney character 5-gram
  trained on the same training text and against the v1 character LSTM (the shipped
  ``shakespeare`` model);

Generated lines, through ``engine.generate`` (the path a game uses), one per held-out
Wesnoth line with that line's role, race and length tags unless said otherwise:

- length: median characters and the two-sample Kolmogorov-Smirnov distance to the real lines,
  for the requested defaults (random length) and with reranking off;
- role signal: a word classifier trained on real training lines, its accuracy on generated
  lines vs on real held-out lines (the ceiling the data allows);
- real vs generated: a word classifier that takes no part in reranking, trained on half of
  the real held-out lines and the generated ones, its accuracy on the other half (50% means
  it cannot tell them apart); reranking on and off;
- novelty: generated lines of 30+ characters that occur in any source, and lines containing
  a 40-character span of a source line; placeholder hygiene; real-word share; distinct-n;
- speed in lines per second; and a read-through sheet (``sheet``: Markdown, 20 lines per
  role) for a person to judge.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assetgen import write_atomic

from ..pieces import PieceTable
from . import readthrough
from .baselines import KneserNey, NaiveBayes, distinct_n, target_nats, words_of
from .readthrough import real_vs_generated
from .records import SPLITS, read_records
from .train import DEFAULT_DATA, data_dir, encode_split, fast_encoder

EVAL_CONFIG: dict[str, Any] = {
    "data": str(DEFAULT_DATA),
    "seed": 1234,
    "max_play_lines": 1500,  # held-out plays scored (of ~3,700), for time
    "kn_order": 5,  # 0 skips the Kneser-Ney baseline
    "lstm_baseline": True,
    "generated_per_real": 1,
    "off_lines": 200,  # lines generated with reranking off (candidates=1) for comparison
    "sheet": "",  # Markdown read-through sheet to write (20 lines per role); "" for none
    "sheet_per_role": 20,
    # blind read-through of the old decoding vs the defaults (training/readthrough.py)
    "readthrough": "",  # sheet to write, with its key beside it; "" for none
    "judged": "",  # a judged sheet to count
    "readthrough_only": False,  # skip the other figures
    # the generator options of the read-through's two arms ("baseline" and "current";
    # {} = the generator's defaults); the baseline default is readthrough.BASELINE
    "readthrough_baseline": {},
    "readthrough_current": {},
    "temperature": 0.8,
    "top_p": 1.0,
    "candidates": 8,
    "novel_min_chars": 30,
    "span_chars": 40,
}


def onnx_nats_per_char(
    bundle: Any, table: PieceTable, split: Any, index: np.ndarray, batch: int = 64
) -> float:
    """Teacher-forced nats per character through the step graph (cache and all)."""
    session = bundle.session("dialogue_gpt_step.onnx")
    m = bundle.manifest
    order = index[np.argsort(split.lengths[index], kind="stable")]
    total, chars = 0.0, 0
    for start in range(0, len(order), batch):
        part = order[start : start + batch]
        tokens = split.batch(part).numpy()
        shape = (m["layers"], len(part), m["heads"], 0, m["dim"] // m["heads"])
        pk = np.zeros(shape, np.float32)
        pv = np.zeros(shape, np.float32)
        for t in range(tokens.shape[1] - 1):
            logits, pk, pv = session.run(
                None, {"token": tokens[:, t], "past_key": pk, "past_value": pv}
            )
            if t < 3:
                continue
            target = tokens[:, t + 1]
            live = target != table.pad
            if not live.any():
                break
            total += target_nats(logits[live], target[live])
        chars += sum(len(split.texts[i]) + 1 for i in part)
    return total / max(chars, 1)


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two CDFs."""
    xa, xb = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([xa, xb])
    ca = np.searchsorted(xa, grid, side="right") / len(xa)
    cb = np.searchsorted(xb, grid, side="right") / len(xb)
    return float(np.abs(ca - cb).max())


def placeholder_problems(text: str) -> bool:
    """A brace or a bare NAME / PLACE that is not part of a well-formed placeholder."""
    rest = text.replace("{NAME}", "").replace("{PLACE}", "")
    return any(ch in rest for ch in "{}") or "NAME" in rest or "PLACE" in rest


def span_hashes(texts: Sequence[str], width: int) -> np.ndarray:
    """Sorted hashes of every ``width``-character span of the texts."""
    out: list[int] = []
    for text in texts:
        out += [hash(text[i : i + width]) for i in range(len(text) - width + 1)]
    return np.unique(np.array(out, dtype=np.int64))


def has_span(text: str, hashes: np.ndarray, width: int) -> bool:
    if len(text) < width:
        return False
    h = np.array([hash(text[i : i + width]) for i in range(len(text) - width + 1)], np.int64)
    pos = np.searchsorted(hashes, h)
    pos[pos >= len(hashes)] = 0
    return bool((hashes[pos] == h).any())


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from assetgen import Engine, Runtime

    from .. import plugin
    from .lstm_data import encode_split as encode_lstm_split
    from .lstm_evaluate import onnx_nats_per_char as lstm_nats_per_char

    if model_dir is not None:
        plugin.MODEL_DIR = model_dir.resolve()
    path = data_dir(config["data"])
    runtime = Runtime("cpu")
    bundle = runtime.load_model(plugin.MODEL_DIR)
    m = bundle.manifest
    table = PieceTable.load(bundle.path("pieces.json"), m["tags"])
    train_records = read_records(path, "train")
    test_records = read_records(path, "test")
    encoder = fast_encoder(path)
    test = encode_split(test_records, table, m["context"], encoder)
    campaigns = np.array([i for i, r in enumerate(test_records) if r["source"] == "wesnoth"])
    plays_all = np.array([i for i, r in enumerate(test_records) if r["source"] == "shakespeare"])
    rng = np.random.default_rng(config["seed"])
    plays = np.sort(rng.permutation(plays_all)[: config["max_play_lines"]])
    report: dict[str, Any] = {
        "model_dir": str(plugin.MODEL_DIR),
        "model": m["name"],
        "test_campaign_lines": len(campaigns),
        "test_play_lines_scored": len(plays),
    }
    if config["readthrough"] or config["judged"]:
        report["readthrough"] = _readthrough(
            m, config, train_records, [test_records[i] for i in campaigns]
        )
        if config["readthrough_only"]:
            return _finish(report, config, out)
    started = time.monotonic()
    report["nats_per_char_campaigns"] = onnx_nats_per_char(bundle, table, test, campaigns)
    report["nats_per_char_plays"] = onnx_nats_per_char(bundle, table, test, plays)
    _log(
        f"held-out nats/char: campaigns {report['nats_per_char_campaigns']:.4f}, plays "
        f"{report['nats_per_char_plays']:.4f} ({time.monotonic() - started:.0f} s)"
    )
    train_texts = [r["text"] for r in train_records]
    camp_texts = [test.texts[i] for i in campaigns]
    play_texts = [test.texts[i] for i in plays]
    if config["kn_order"]:
        started = time.monotonic()
        kn = KneserNey(train_texts, config["kn_order"], len(set("".join(train_texts))) + 1)
        report["kneser_ney_order"] = config["kn_order"]
        report["kneser_ney_campaigns"] = kn.nats_per_char(camp_texts)
        report["kneser_ney_plays"] = kn.nats_per_char(play_texts)
        for part in ("campaigns", "plays"):
            report[f"improvement_over_kneser_ney_{part}"] = (
                1 - report[f"nats_per_char_{part}"] / report[f"kneser_ney_{part}"]
            )
        _log(
            f"Kneser-Ney: campaigns {report['kneser_ney_campaigns']:.4f}, plays "
            f"{report['kneser_ney_plays']:.4f} ({time.monotonic() - started:.0f} s)"
        )
        del kn
    if config["lstm_baseline"]:
        lstm_dir = plugin.BUILTIN_MODELS["shakespeare"]
        lstm = runtime.load_model(lstm_dir)
        vocab = json.loads(lstm.path("vocab.json").read_text(encoding="utf-8"))
        chars = vocab["tokens"][3:]
        archetypes = vocab["archetypes"]
        for part, texts in (("campaigns", camp_texts), ("plays", play_texts)):
            recs = [{"text": x, "archetype": "commoner"} for x in texts]
            split = encode_lstm_split(recs, chars, archetypes)
            nats = lstm_nats_per_char(
                lstm.session("dialogue_step.onnx"), lstm.manifest, split, split.archetypes
            )
            report[f"lstm_{part}"] = nats
            report[f"lstm_{part}_skipped_chars"] = split.skipped_chars
    # -- generated lines -----------------------------------------------------------------------
    engine = Engine(device="cpu", plugins=["dialogue"])
    real_camp = [test_records[i] for i in campaigns]
    decoding = {
        "temperature": config["temperature"],
        "top_p": config["top_p"],
        "candidates": config["candidates"],
    }
    generated: list[str] = []
    meta: list[dict[str, Any]] = []
    started = time.monotonic()
    for k, rec in enumerate(real_camp):
        (line,) = engine.generate(
            "dialogue",
            seed=config["seed"] + k,
            source="wesnoth",
            archetype=_role(rec, m),
            race=rec["race"] if rec["race"] in m["tags"]["race"] else "any",
            length=rec["length"],
            **decoding,
        )
        generated.append(line.text)  # type: ignore[union-attr]
        meta.append(line.metadata)
    seconds = time.monotonic() - started
    report["generated_lines"] = len(generated)
    report["lines_per_s"] = len(generated) / max(seconds, 1e-9)
    _log(f"{len(generated)} lines generated ({report['lines_per_s']:.1f} lines/s)")
    free: list[str] = []
    for k in range(len(real_camp)):  # defaults: random role and length, as a game would call
        (line,) = engine.generate("dialogue", seed=config["seed"] + 50_000 + k, **decoding)
        free.append(line.text)  # type: ignore[union-attr]
    off: list[str] = []
    for k, rec in enumerate(real_camp[: config["off_lines"]]):
        (line,) = engine.generate(
            "dialogue",
            seed=config["seed"] + k,
            source="wesnoth",
            archetype=_role(rec, m),
            length=rec["length"],
            temperature=config["temperature"],
            top_p=config["top_p"],
            candidates=1,
        )
        off.append(line.text)  # type: ignore[union-attr]
    real_lens = [len(r["text"]) for r in real_camp]
    for name, lines in (("matched", generated), ("defaults", free), ("rerank_off", off)):
        lens = [len(x) for x in lines]
        report[f"length_{name}"] = {
            "median_chars": float(np.median(lens)),
            "real_median_chars": float(np.median(real_lens)),
            "ks_distance": ks_distance(lens, real_lens),
        }
    real_texts = [r["text"] for r in real_camp]
    report["real_vs_generated_accuracy"] = real_vs_generated(real_texts, generated, config["seed"])
    report["real_vs_generated_accuracy_rerank_off"] = real_vs_generated(
        real_texts[: len(off)], off, config["seed"]
    )
    # role signal: a classifier of the game roles, trained on real game lines
    roles = [r for r in m["tags"]["role"] if r != "any"]
    game_train = [r for r in train_records if r["source"] == "wesnoth" and r["role"] in roles]
    nb = NaiveBayes(
        [r["text"] for r in game_train], [roles.index(r["role"]) for r in game_train], len(roles)
    )
    present = sorted({r["role"] for r in real_camp if r["role"] in roles})

    def balanced(lines: Sequence[str], labels: Sequence[str]) -> float:
        per = [
            np.mean(
                [
                    nb.predict(x) == roles.index(lab)
                    for x, lab in zip(lines, labels, strict=True)
                    if lab == role
                ]
            )
            for role in present
            if role in labels
        ]
        return float(np.mean(per))

    labels = [r["role"] for r in real_camp]
    keep = [i for i, lab in enumerate(labels) if lab in roles]
    report["role_classifier_real_heldout"] = balanced(
        [real_texts[i] for i in keep], [labels[i] for i in keep]
    )
    report["role_classifier_generated"] = balanced(
        [generated[i] for i in keep], [labels[i] for i in keep]
    )
    report["role_chance"] = 1 / len(present)
    # novelty and hygiene
    all_texts = [r["text"] for split in SPLITS for r in read_records(path, split)]
    corpus_set = set(all_texts)
    long = [x for x in generated + free if len(x) >= config["novel_min_chars"]]
    report["copied_long_lines"] = sum(x in corpus_set for x in long)
    report["long_lines"] = len(long)
    hashes = span_hashes(all_texts, config["span_chars"])
    report[f"lines_with_a_{config['span_chars']}_char_source_span"] = sum(
        has_span(x, hashes, config["span_chars"]) for x in generated + free
    )
    report["placeholder_problems"] = sum(placeholder_problems(x) for x in generated + free)
    report["placeholder_share_generated"] = float(np.mean(["{" in x for x in generated]))
    report["placeholder_share_real"] = float(np.mean(["{" in x for x in real_texts]))
    vocab_words = {w for t in train_texts for w in words_of(t)}
    gen_words = [w for x in generated for w in words_of(x)]
    report["known_word_share"] = float(np.mean([w in vocab_words for w in gen_words]))
    for n in (1, 2, 3):
        report[f"distinct_{n}"] = distinct_n(generated, n)
    report["stops"] = dict(Counter(x["stop"] for x in meta))
    report["samples"] = generated[:10]
    if config["sheet"]:
        sheet = read_through(engine, m, config, decoding)
        write_atomic(Path(config["sheet"]), sheet.encode("utf-8"))
        report["sheet"] = config["sheet"]
    return _finish(report, config, out)


def _command(config: dict[str, Any], changed_only: bool = False) -> str:
    def shown(v: Any) -> str:
        return "'" + json.dumps(v, separators=(",", ":")) + "'" if isinstance(v, dict) else str(v)

    return "assetgen eval dialogue " + " ".join(
        f"--set {k}={shown(v)}"
        for k, v in config.items()
        if v not in ("", {}) and not (changed_only and v == EVAL_CONFIG.get(k))
    )


def _finish(report: dict[str, Any], config: dict[str, Any], out: Path | None) -> dict[str, Any]:
    report["command"] = _command(config)
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report


def _readthrough(
    m: dict[str, Any],
    config: dict[str, Any],
    train_records: Sequence[dict[str, Any]],
    real: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    from assetgen import Engine

    decodings = {
        "baseline": config["readthrough_baseline"] or readthrough.BASELINE,
        "current": config["readthrough_current"],
    }
    out: dict[str, Any] = {
        "baseline_decoding": decodings["baseline"],
        "current_decoding": decodings["current"] or "the generator's defaults",
    }
    if config["readthrough"]:
        engine = Engine(device="cpu", plugins=["dialogue"])
        roles = list(m["archetypes"])
        lines = readthrough.make_lines(
            engine, roles, config["sheet_per_role"], config["seed"], decodings
        )
        sheet = Path(config["readthrough"])
        readthrough.write_sheet(sheet, lines, config["seed"], _command(config, True))
        out["sheet"] = str(sheet)
        game_roles = [r for r in m["tags"]["role"] if r != "any"]
        out["automatic"] = readthrough.automatic(
            lines, real, train_records, game_roles, config["seed"]
        )
        _log(f"read-through sheet {sheet} ({sum(len(v) for v in lines.values())} lines)")
    if config["judged"]:
        path = data_dir(config["data"])
        source = {r["text"] for split in SPLITS for r in read_records(path, split)}
        out["judged"] = readthrough.tally(Path(config["judged"]), source, m)
    return out


def _role(rec: dict[str, Any], manifest: dict[str, Any]) -> str:
    return rec["role"] if rec["role"] in manifest["archetypes"] else "random"


def read_through(
    engine: Any, m: dict[str, Any], config: dict[str, Any], decoding: dict[str, Any]
) -> str:
    """20 lines per role (Wesnoth style, the defaults otherwise), numbered for judging."""
    per = config["sheet_per_role"]
    out = [
        "# Dialogue read-through sheet",
        "",
        f"Model `{m['name']}`; `assetgen eval dialogue --set sheet=...` with seed "
        f"{config['seed']}: {per} lines per role, source wesnoth, random length, "
        f"{decoding['candidates']} candidates reranked, temperature {decoding['temperature']}. "
        "Mark each line: ok (a game could ship it as it is) or no.",
        "",
    ]
    for k, role in enumerate(m["archetypes"]):
        out += [f"## {role}", ""]
        lines = engine.generate(
            "dialogue",
            seed=config["seed"] + 900_000 + k * per,
            count=per,
            archetype=role,
            **decoding,
        )
        out += [f"{i + 1}. {line.text}" for i, line in enumerate(lines)]
        out.append("")
    return "\n".join(out)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
