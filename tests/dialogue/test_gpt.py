"""The dialogue GPT (the default model) through the engine: tags, placeholders, the word mask,
reranking, determinism, the step graph's parity, Yarn IDs and the exporters.

These run against a GPT trained for a few seconds on a tiny data set (``tiny_gpt`` in
conftest.py), monkeypatched in as the shipped model: they check the plumbing, not the prose.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import plugin
from assetgen_dialogue.pieces import PieceTable, WordMask
from assetgen_dialogue.rerank import FAULTS, FEATURES, faults, features, fit_logistic
from assetgen_dialogue.yarn import line_id, yarn_text

from assetgen import Engine, InvalidOptionsError, TextAsset
from assetgen.cli import main

from .conftest import V2_RACES, V2_ROLES, decoder, dialogue_engine


@pytest.fixture
def engine(tiny_gpt: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    return dialogue_engine(tiny_gpt, monkeypatch)


def test_the_manifest_describes_the_step_graph(tiny_gpt: Path) -> None:
    m = json.loads((tiny_gpt / "manifest.json").read_text())
    assert m["architecture"] == "gpt" and m["opset"] <= 15
    assert m["parity"]["max_abs_diff"] <= 1e-3 and m["parity"]["steps"] >= 32
    assert set(m["files"]) == {
        "dialogue_gpt_step.onnx",
        "pieces.json",
        "words.txt",
        "source_words.json",
        "data_lines.json",
        "scorer.json",
    }
    assert "GPL-2.0-or-later" in m["license"]
    assert m["tags"]["role"] == ["any", *V2_ROLES]
    assert m["reranker"]["features"] == list(FEATURES)


def test_step_graph_matches_pytorch(tiny_gpt: Path, tiny_v2_data: Path) -> None:
    """ONNX token by token with its cache == the whole-sequence PyTorch model."""
    torch = pytest.importorskip("torch")
    import onnxruntime as ort
    from assetgen_dialogue.training import export

    run = tiny_gpt.parent / "run"
    model, config, _, _ = export.load_run_model(run)
    table = export.run_table(config)
    session = ort.InferenceSession(
        str(tiny_gpt / export.ONNX_NAME), providers=["CPUExecutionProvider"]
    )
    result = export.parity_check(model, session, table, steps=40, rows=3, seed=5)
    assert result["max_abs_diff"] <= 1e-4
    # and one step from an empty cache gives the first position's logits
    token = torch.tensor([table.tag("source", "wesnoth")])
    shape = (model.layers, 1, model.heads, 0, model.dim // model.heads)
    logits, key, _ = session.run(
        None,
        {
            "token": token.numpy(),
            "past_key": np.zeros(shape, np.float32),
            "past_value": np.zeros(shape, np.float32),
        },
    )
    assert key.shape[3] == 1
    with torch.no_grad():
        expected = model(token[None])[0, 0].numpy()
    assert np.abs(logits[0] - expected).max() <= 1e-4


def test_lines_carry_their_tags(engine: Engine) -> None:
    lines = engine.generate(
        "dialogue", seed=0, count=4, archetype="mage", race="elf", source="crawl", length="short"
    )
    for line in lines:
        assert isinstance(line, TextAsset) and line.speaker == "mage"
        meta = line.metadata
        assert (meta["archetype"], meta["race"], meta["source"], meta["length"]) == (
            "mage",
            "elf",
            "crawl",
            "short",
        )
        assert meta["stop"] in ("eos", "max_chars", "context") and "GPL" in meta["license"]
    # random role and length: drawn per seed from the roles the source has lines of
    drawn = engine.generate("dialogue", seed=10, count=30)
    assert {x.metadata["archetype"] for x in drawn} <= set(V2_ROLES)
    assert len({x.metadata["archetype"] for x in drawn}) > 2
    assert {x.metadata["length"] for x in drawn} <= {"short", "medium", "long"}
    # the tags are the first four tokens the model reads
    dec = decoder(engine)
    ids = dec.table.conditioning("crawl", "mage", "elf", "short")
    assert ids == [
        dec.table.tag("source", "crawl"),
        dec.table.tag("role", "mage"),
        dec.table.tag("race", "elf"),
        dec.table.tag("length", "short"),
    ]
    assert len(set(ids)) == 4 and min(ids) > dec.table.eos


def test_naming_a_role_keeps_the_seed_s_stream(engine: Engine) -> None:
    (free,) = engine.generate("dialogue", seed=21)
    role = free.metadata["archetype"]
    (named,) = engine.generate("dialogue", seed=21, archetype=role)
    assert named.text == free.text


def test_determinism_and_the_seeding_rule(engine: Engine) -> None:
    a = engine.generate("dialogue", seed=5, count=4)
    b = engine.generate("dialogue", seed=5, count=4)
    assert [x.text for x in a] == [x.text for x in b]
    (third,) = engine.generate("dialogue", seed=7)
    assert third.text == a[2].text  # item k of a request is seed + k
    assert len({x.text for x in engine.generate("dialogue", seed=100, count=8)}) > 1


def test_placeholders_are_kept_or_filled(engine: Engine) -> None:
    dec = decoder(engine)
    assert dec.table.encode("{NAME}")[-1] == dec.table.index["{NAME}"]
    lines = engine.generate("dialogue", seed=0, count=40, temperature=1.5, top_p=1.0, candidates=1)
    with_name = [x for x in lines if "{NAME}" in x.text]
    assert with_name, "the tiny model writes {NAME} in some of 40 lines"
    seed = with_name[0].metadata["seed"]
    assert "{NAME}" in with_name[0].metadata["placeholders"]
    (filled,) = engine.generate(
        "dialogue",
        seed=seed,
        temperature=1.5,
        top_p=1.0,
        candidates=1,
        name="Konrad",
        place="Weldyn",
    )
    assert filled.text == with_name[0].text.replace("{NAME}", "Konrad").replace("{PLACE}", "Weldyn")
    assert filled.speaker == "Konrad"
    for line in lines:  # never a broken placeholder
        rest = line.text.replace("{NAME}", "").replace("{PLACE}", "")
        assert "{" not in rest and "}" not in rest


def test_word_mask_spells_only_known_words(engine: Engine, tiny_gpt: Path) -> None:
    words = set((tiny_gpt / "words.txt").read_text().split())
    lines = engine.generate("dialogue", seed=0, count=12, temperature=2.0, candidates=1)
    for line in lines:
        for word in re.findall(
            r"[A-Za-z']+", line.text.replace("{NAME}", "").replace("{PLACE}", "")
        ):
            w = word.lower()
            assert w in words or w.strip("'") in words, (word, line.text)
        # and the line begins and ends as real lines do
        assert line.text[0].isupper() or line.text[0] in "{('\".", line.text
        if line.metadata["stop"] == "eos":
            assert line.text[-1] in ".!?'\")}", line.text
    off = engine.generate(
        "dialogue", seed=0, count=12, temperature=2.0, candidates=1, word_mask=False
    )
    assert [x.text for x in off] != [x.text for x in lines]


def test_word_mask_rules() -> None:
    table = PieceTable(
        ["<unk>", "\u2581the", "\u2581th", "e", "n", "x", ",", "\u2581a", "'", "{NAME}"],
        [0, -1, -2, -2, -2, -2, -2, -1, -3, 0],
        ["unknown", *["normal"] * 8, "user"],
        {"source": ["s"], "role": ["any"], "race": ["any"], "length": ["any"]},
    )
    mask = WordMask(["the", "then", "a", "o'er"], table)
    start = mask.allowed("")
    ids = {p: i for i, p in enumerate(table.pieces)}
    assert start[ids["\u2581the"]] and start[ids["\u2581a"]] and start[ids["{NAME}"]]
    assert not start[0] and not start[table.pad] and start[table.eos]
    assert not start[ids["e"]]  # "e" alone is no word's beginning
    th = mask.allowed("th")
    assert th[ids["e"]] and not th[ids["x"]] and not th[ids[","]] and not th[table.eos]
    the = mask.allowed("the")
    assert the[ids["n"]] and the[ids[","]] and the[table.eos] and the[ids["\u2581a"]]
    assert mask.state_after("th", ids["e"]) == "the"
    assert mask.state_after("", ids["{NAME}"]) == "}" and not mask.allowed("}")[ids["e"]]
    assert not mask.allowed("the")[ids["{NAME}"]] and not mask.allowed("}")[ids["{NAME}"]]
    assert mask.state_after("the", ids[","]) == ""
    assert not mask.allowed("o")[ids["x"]] and mask.allowed("o")[ids["'"]]


def test_reranking_on_and_off(engine: Engine) -> None:
    dec = decoder(engine)
    # the one-pass decoding (by_sentence makes medium and long lines a sentence at a time:
    # tests/dialogue/test_decoding_v2.py)
    options = plugin.DialogueOptions.parse({"candidates": 6, "by_sentence": False})
    found, tags = dec.candidates(3, options)
    assert len(found) == 6 and all(c.logprobs.size for c in found)
    (line,) = engine.generate("dialogue", seed=3, candidates=6, by_sentence=False, rerank="learned")
    chosen = line.metadata["chosen"]
    assert line.text.startswith(found[chosen].text[:10]) or "{" in found[chosen].text
    scores = dec.scores(found, "learned")
    floor = dec.floor(options, tags["length"])
    eligible = [k for k, c in enumerate(found) if len(c.text) >= floor] or list(range(6))
    # the line checks pass over failing candidates unless all fail; filters=false keeps them
    checked = [k for k in eligible if not faults(found[k].text)] or eligible
    assert chosen == max(checked, key=lambda k: (scores[k], -k))
    assert line.metadata["faults"] == faults(found[chosen].text)
    (unfiltered,) = engine.generate(
        "dialogue", seed=3, candidates=6, filters=False, by_sentence=False, rerank="learned"
    )
    assert unfiltered.metadata["chosen"] == max(eligible, key=lambda k: (scores[k], -k))
    eligible = checked
    # likelihood ranking: the best mean log-probability among the eligible
    (lik,) = engine.generate(
        "dialogue", seed=3, candidates=6, rerank="likelihood", by_sentence=False
    )
    means = [c.mean_logprob for c in found]
    assert lik.metadata["chosen"] == max(eligible, key=lambda k: (means[k], -k))
    # off: one candidate, nothing to choose
    (single,) = engine.generate("dialogue", seed=3, candidates=1)
    assert single.metadata["candidates"] == 1 and single.metadata["chosen"] == 0
    # the length floor: with a floor above every candidate, the scorer alone decides
    (floored,) = engine.generate(
        "dialogue",
        seed=3,
        candidates=6,
        min_chars=400,
        filters=False,
        by_sentence=False,
        rerank="learned",
    )
    assert floored.metadata["chosen"] == max(range(6), key=lambda k: (scores[k], -k))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We must defend the.", ["unfinished_sentence"]),
        ("Hold! We ride with my. Go.", ["unfinished_sentence"]),
        ("We will be able to fight, we will be able to win.", ["repeated_phrase"]),
        ("I am {NAME}, the {NAME} of old.", ["placeholder_run"]),
        ("{NAME} and {PLACE}: {NAME} rides to {PLACE}.", ["placeholder_run", "many_placeholders"]),
        ("{NAME} rides to {PLACE} at dawn. Tell {NAME}.", ["many_placeholders"]),
        ("And the... the...", []),
        ("Orcs! To arms, {NAME}! Defend {PLACE}.", []),
        ("Is that {NAME}, King {NAME}, you refer to?!", []),
    ],
)
def test_line_checks(text: str, expected: list[str]) -> None:
    assert faults(text) == expected
    assert set(expected) <= set(FAULTS)


def test_new_defaults_and_the_old_decoding(engine: Engine) -> None:
    opts = plugin.DialogueOptions.parse({})
    assert (opts.temperature, opts.top_p, opts.candidates, opts.filters) == (0.6, 0.9, 16, True)
    from assetgen_dialogue.training.readthrough import BASELINE

    (old,) = engine.generate("dialogue", seed=5, **BASELINE)
    assert old.metadata["candidates"] == 8
    (again,) = engine.generate("dialogue", seed=5, **BASELINE)
    assert old.text == again.text


def test_reranker_features_and_fit() -> None:
    words = frozenset(["hold", "the", "line"])
    x = features("Hold the line!", [-1.0, -2.0, -0.5], words)
    assert len(x) == len(FEATURES)
    assert x[FEATURES.index("known_word_share")] == 1.0
    assert x[FEATURES.index("ends_sentence")] == 1.0
    rng = np.random.default_rng(0)
    real = rng.normal(1.0, 1.0, (200, 3))
    fake = rng.normal(-1.0, 1.0, (200, 3))
    scorer = fit_logistic(np.vstack([real, fake]), np.array([1.0] * 200 + [0.0] * 200))
    acc = np.mean((scorer.logit(np.vstack([real, fake])) > 0) == np.array([1] * 200 + [0] * 200))
    assert acc > 0.8


def test_guidance_and_prompt(engine: Engine) -> None:
    a = engine.generate("dialogue", seed=4, count=2, archetype="soldier", archetype_guidance=2)
    b = engine.generate("dialogue", seed=4, count=2, archetype="soldier", archetype_guidance=2)
    assert [x.text for x in a] == [x.text for x in b]
    lines = engine.generate("dialogue", seed=1, count=3, prompt="Hold the")
    assert all(x.text.startswith("Hold the") for x in lines)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"race": "dragon"}, "option 'race' must be one of 'any'"),
        ({"archetype": "noble"}, "option 'archetype' must be one of"),
        ({"prompt": "caf\u00e9 \u2603"}, "characters the model does not know"),
        ({"candidates": 0}, "candidates"),
        ({"rerank": "vibes"}, "rerank"),
    ],
)
def test_bad_options(engine: Engine, options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidOptionsError, match=re.escape(fragment)):
        engine.generate("dialogue", seed=0, **options)


def test_pieces_match_sentencepiece(tiny_v2_data: Path) -> None:
    spm = pytest.importorskip("sentencepiece")
    proc = spm.SentencePieceProcessor(model_file=str(tiny_v2_data / "tokenizer.model"))
    tags = {"source": ["a"], "role": ["any"], "race": ["any"], "length": ["any"]}
    table = PieceTable.load(tiny_v2_data / "pieces.json", tags)
    for line in (tiny_v2_data / "train.jsonl").read_text().splitlines():
        text = json.loads(line)["text"]
        assert table.encode(text) == proc.encode(text)
        assert table.decode(table.encode(text)) == text


# -- exporters -------------------------------------------------------------------------------


def test_yarn_line_groups_ids_and_variables(engine: Engine, tmp_path: Path) -> None:
    lines = engine.generate("dialogue", seed=11, count=4, archetype="soldier", name="Sir Kay")
    lines += engine.generate("dialogue", seed=40, count=2, archetype="mage")
    (out,) = engine.render(lines, "yarn", name="barks")
    script = out.data.decode("utf-8")
    assert "// Licence: GPL-2.0-or-later" in script
    titles = re.findall(r"^title: (\w+)$", script, flags=re.M)
    assert titles == ["barks_Sir_Kay", "barks_mage"]
    body = [x for x in script.splitlines() if x.startswith("=> ")]
    assert len(body) == 6
    ids = [re.search(r" #(line:[0-9a-f]{12})$", x) for x in body]
    assert all(ids) and len({m.group(1) for m in ids if m}) == 6
    assert body[0].startswith("=> Sir_Kay: ")
    # stable: the same request gives the same IDs, another seed another ID
    again = engine.generate("dialogue", seed=11, count=4, archetype="soldier", name="Sir Kay")
    assert [line_id(a) for a in again] == [line_id(a) for a in lines[:4]]  # type: ignore[arg-type]
    (other,) = engine.generate("dialogue", seed=12, archetype="soldier", name="Sir Kay")
    assert line_id(other) == line_id(lines[1])  # type: ignore[arg-type]
    assert line_id(other) != line_id(lines[0])  # type: ignore[arg-type]
    assert yarn_text("Hail {NAME}, welcome to {PLACE} {at} #1") == (
        "Hail {$name}, welcome to {$place} \\{at\\} \\#1"
    )
    # one node per line
    (nodes,) = engine.render(lines, "yarn-nodes", name="barks")
    node_titles = re.findall(r"^title: (\w+)$", nodes.data.decode(), flags=re.M)
    assert node_titles == [f"barks_Sir_Kay_{s}" for s in range(11, 15)] + [
        "barks_mage_40",
        "barks_mage_41",
    ]
    command = ["generate", "dialogue", "--seed", "1", "--count", "3", "--format", "yarn-nodes"]
    assert main([*command, "--out", str(tmp_path)]) == 0
    assert len(re.findall("^title:", next(tmp_path.glob("*.yarn")).read_text(), flags=re.M)) == 3


def test_jsonl_and_csv(engine: Engine) -> None:
    lines = engine.generate("dialogue", seed=2, count=3, archetype="rogue")
    (jsonl,) = engine.render(lines, "jsonl")
    records = [json.loads(x) for x in jsonl.data.decode().splitlines()]
    assert [r["text"] for r in records] == [x.text for x in lines]  # type: ignore[union-attr]
    assert all("GPL-2.0-or-later" in r["license"] for r in records)
    (csv_file,) = engine.render(lines, "csv")
    assert csv_file.data.decode().splitlines()[0] == "seed,speaker,text"
    assert len(csv_file.data.decode().splitlines()) == 4


def test_info_names_the_licence(engine: Engine) -> None:
    info = engine.generator_info("dialogue")
    assert info.model is not None and "GPL-2.0-or-later" in info.model["license"]
    schema = info.options_schema["properties"]
    assert schema["archetype"]["default"] == "random" and "soldier" in schema["archetype"]["enum"]
    assert set(V2_RACES) <= set(decoder(engine).table.tags["race"])


def test_the_runtime_path_needs_neither_torch_nor_sentencepiece(
    tiny_gpt: Path, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "sys.modules['sentencepiece'] = None\n"  # importing it would fail
        "from assetgen_dialogue import plugin\n"
        f"plugin.MODEL_DIR = Path({str(tiny_gpt)!r})\n"
        "from assetgen import Engine\n"
        "engine = Engine(device='cpu', plugins=['dialogue', 'exporters'])\n"
        "lines = engine.generate('dialogue', seed=1, count=2, prompt='Hold')\n"
        "engine.render(lines, 'yarn')\n"
        "assert all(line.text.startswith('Hold') for line in lines)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_a_candidate_that_is_a_data_line_word_for_word_is_refused(
    tiny_gpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``filters`` (the default) a line that is a line of the data set (its hash in the
    model folder's ``data_lines.json``) is passed over for the next best candidate; without
    filters it may be chosen."""
    import shutil

    from assetgen import seeds
    from assetgen.training import read_manifest, write_manifest

    folder = tmp_path / "model"
    shutil.copytree(tiny_gpt, folder)
    monkeypatch.setattr(plugin, "MODEL_DIR", folder)
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    ask = {"candidates": 6, "by_sentence": False, "rerank": "likelihood"}
    first = Engine(device="cpu").generate("dialogue", seed=3, **ask)[0]
    chosen = first.text  # no name option: the text as the model wrote it
    doc = {"hash": "fnv1a64-utf8", "lines": [f"{seeds.fnv1a64(chosen):016x}"]}
    (folder / "data_lines.json").write_text(json.dumps(doc), encoding="utf-8")
    manifest = read_manifest(folder)
    write_manifest(folder, manifest, list(manifest["files"]))
    engine = Engine(device="cpu")
    dec = decoder(engine)
    assert dec.copied(chosen) and not dec.copied(chosen + " ")
    again = engine.generate("dialogue", seed=3, **ask)[0]
    assert again.text != chosen and again.metadata["chosen"] != first.metadata["chosen"]
    unfiltered = engine.generate("dialogue", seed=3, filters=False, **ask)[0]
    assert unfiltered.text == chosen or unfiltered.metadata["faults"]
