"""Parity of the C# runtime's dialogue generator
(``unity/com.assetgen.runtime/Runtime/Dialogue.cs``, no Python) with
``Engine().generate("dialogue", ...)``: for the same seeds and options, the same line (text)
and the same metadata a game uses (speaker, role, source, race, length bucket, placeholders,
stop, the chosen candidate and how many there were, faults, sentences, rounds), for the
defaults and with each sampling lever switched, each reranker (likelihood, learned, mixed and
judged, whose n-gram features hash words with FNV-1a) whole-line and sentence by sentence,
rounds of candidates (``rounds``, ``accept``, ``give_up``); bad options give
Python's InvalidOptionsError message and parameter, and a broken reranker file
(``judged_scorer.json``, ``scorer.json``) Python's ModelError message.

The reranking score (a float the game does not need) is compared within 1e-12: numpy's
float64 exp and log (its own AVX-512 code on CPUs that have it, the C library's elsewhere)
and its matrix-vector product (OpenBLAS, a CPU-dependent summation order) may round it
differently in the last bit from the C# runtime's Math.Exp, Math.Log and left-to-right dot
product (see docs/runtime.md); the count of bit-identical scores is printed.

Option values (roles, sources, races, the vocabulary size, the context) are read from the
model folder, not written here, so the test holds for a retrained model of the same formats.
Python makes about 2 lines a second with the defaults: a few seeds per configuration."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine

from .conftest import check_python_errors, run_csharp

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "plugins" / "assetgen_dialogue" / "model"
SAME = ("text", "speaker", "archetype", "source", "race", "length", "stop", "candidates",
        "chosen", "placeholders", "faults", "sentences", "rounds", "license")


def manifest() -> dict[str, Any]:
    return json.loads((MODEL / "manifest.json").read_text("utf-8"))


def roles_with_lines(source: str) -> list[str]:
    m = manifest()
    counts = m.get("role_lines", {}).get(source, {})
    roles = [r for r in m["tags"]["role"] if r != "any"]
    return [r for r in roles if counts.get(r, 0) >= 40] or roles


def vocab_size() -> int:
    m = manifest()
    pieces = json.loads((MODEL / "pieces.json").read_text("utf-8"))["pieces"]
    return len(pieces) + 2 + sum(len(m["tags"][k]) for k in ("source", "role", "race", "length"))


def cases() -> list[tuple[str, list[int], dict[str, Any]]]:
    m = manifest()
    sources = m["tags"]["source"]
    races = [r for r in m["tags"]["race"] if r != "any"]
    second = sources[1 % len(sources)]
    last = sources[-1]
    return [
        ("defaults", [0, 1, 2, 3, 4, 5], {}),
        ("one_candidate", [10, 11, 12, 13], {"candidates": 1}),
        ("learned", [20, 21, 22], {"rerank": "learned", "by_sentence": False}),
        ("mixed", [23, 24, 25], {"rerank": "mixed", "by_sentence": False, "candidates": 9}),
        ("sentence_learned", [26, 27, 28],
         {"sentence_rerank": "learned", "sentence_temperature": 0.9, "length": "medium",
          "by_sentence": True}),
        ("by_sentence_on", [29, 39], {"by_sentence": True}),
        ("by_sentence_off", [30, 31, 32], {"by_sentence": False, "length": "long"}),
        ("source_words_off", [33, 34, 35], {"source_words": False}),
        ("slip_checks_off", [36, 37, 38], {"slip_checks": False}),
        ("no_filters_no_mask", [40, 41], {"filters": False, "word_mask": False}),
        ("hot_top_k", [42, 43, 44], {"temperature": 1.3, "top_k": 40, "top_p": 1.0}),
        ("cold_top_p", [45, 46], {"temperature": 0.2, "top_p": 0.5, "top_k": 5}),
        ("other_source_named", [47, 48, 49],
         {"source": second, "archetype": roles_with_lines(second)[-1], "name": "Ash",
          "place": "Weldon"}),
        ("last_source_long", [50, 51],
         {"source": last, "length": "long", "race": races[-1], "min_chars": 0}),
        ("prompt", [52, 53], {"prompt": "We must hold the", "max_chars": 90}),
        ("guidance", [54, 55],
         {"archetype_guidance": 1.5, "archetype": roles_with_lines(sources[0])[0],
          "candidates": 4}),
        ("short_cap", [56, 57], {"min_chars": 0, "length": "medium", "max_chars": 60}),
        ("big_seed", [2**63 - 2], {"candidates": 4}),
        *judged_cases(),
        *rounds_cases(),
    ]


def judged_cases() -> list[tuple[str, list[int], dict[str, Any]]]:
    """The judged reranker (judged_scorer.json), whole-line and sentence by sentence, over
    roles, length buckets, sources and seeds."""
    m = manifest()
    sources = m["tags"]["source"]
    roles = roles_with_lines(sources[0])
    picked = [roles[0], roles[len(roles) // 2], roles[-1]]
    plan: list[tuple[str, list[int], dict[str, Any]]] = [
        ("judged", [60, 61, 62, 63], {"rerank": "judged", "by_sentence": False}),
        ("judged_mixed_sentences", [64, 65],
         {"rerank": "mixed", "sentence_rerank": "judged", "by_sentence": True,
          "length": "long"}),
        ("sentence_judged_hot", [66, 67],
         {"rerank": "judged", "sentence_rerank": "judged", "by_sentence": True,
          "sentence_temperature": 0.9, "length": "medium", "candidates": 8}),
        ("judged_other_source", [68, 69],
         {"rerank": "judged", "source": sources[-1], "by_sentence": False,
          "archetype": roles_with_lines(sources[-1])[0], "name": "Ash"}),
    ]
    for r, role in enumerate(picked):
        for n, length in enumerate(("short", "medium", "long")):
            seeds = [100 + 10 * r + 3 * n, 101 + 10 * r + 3 * n]
            plan.append((f"judged_{role}_{length}", seeds,
                         {"rerank": "judged", "archetype": role, "length": length,
                          "by_sentence": False}))
            if length != "short":
                plan.append((f"sentence_judged_{role}_{length}", seeds,
                             {"sentence_rerank": "judged", "archetype": role,
                              "length": length, "by_sentence": True, "candidates": 6}))
    return plan


def rounds_cases() -> list[tuple[str, list[int], dict[str, Any]]]:
    """Rounds of candidates (whole-line decoding with judged or learned reranking): the
    defaults (rounds 4, accept 0.5, give_up 0.15) over three roles and the three length
    buckets, so some requests stop after one round (accepted, or given up: most long lines),
    some sample more; each of rounds, accept and give_up at its ends; learned reranking; and
    the decodings that always sample one round (likelihood, mixed, one candidate)."""
    m = manifest()
    sources = m["tags"]["source"]
    roles = roles_with_lines(sources[0])
    picked = [roles[0], roles[len(roles) // 2], roles[-1]]
    plan: list[tuple[str, list[int], dict[str, Any]]] = []
    for r, role in enumerate(picked):
        for n, length in enumerate(("short", "medium", "long")):
            seeds = [200 + 10 * r + 3 * n, 201 + 10 * r + 3 * n]
            plan.append((f"rounds_{role}_{length}", seeds, {"archetype": role, "length": length}))
    plan += [
        ("rounds_one", [230, 231], {"rounds": 1, "length": "medium"}),
        ("rounds_two", [232, 233], {"rounds": 2, "length": "medium", "archetype": picked[1]}),
        ("rounds_sixteen", [234, 235],
         {"rounds": 16, "length": "medium", "candidates": 6, "accept": 0.8}),
        ("rounds_accept_zero", [236, 237, 238], {"accept": 0.0}),
        ("rounds_every_round", [239], {"accept": 1.0, "give_up": 0.0, "rounds": 3,
                                        "candidates": 8, "length": "medium"}),
        ("rounds_accept_one", [240, 241], {"accept": 1.0, "rounds": 3, "candidates": 8}),
        ("rounds_never_give_up", [242, 243],
         {"give_up": 0.0, "rounds": 3, "length": "long", "candidates": 8}),
        ("rounds_learned", [244, 245, 246],
         {"rerank": "learned", "rounds": 3, "accept": 0.9, "length": "medium"}),
        ("rounds_likelihood", [247, 248], {"rerank": "likelihood", "rounds": 16, "accept": 1.0}),
        ("rounds_mixed", [249], {"rerank": "mixed", "rounds": 16, "accept": 1.0,
                                 "candidates": 6}),
        ("rounds_one_candidate", [250, 251], {"candidates": 1, "rounds": 16, "accept": 1.0}),
        ("rounds_prompt_filters_off", [252, 253],
         {"prompt": "We must", "filters": False, "rounds": 3, "accept": 0.9,
          "candidates": 5, "length": "medium"}),
        ("rounds_by_sentence", [254], {"by_sentence": True, "length": "medium",
                                       "rounds": 16, "accept": 1.0, "candidates": 4}),
    ]
    return plan


#: rounds cases whose round count the options fix: (case, rounds of every line)
FIXED_ROUNDS = {"rounds_one": 1, "rounds_every_round": 3, "rounds_likelihood": 1,
                "rounds_mixed": 1, "rounds_one_candidate": 1, "rounds_by_sentence": 1}


def test_dialogue_lines_match_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    plan = cases()
    requests = [{"id": n, "seeds": s, "options": o} for n, s, o in plan]
    code, log, results = run_csharp(parity_exe, MODEL, requests, tmp_path)
    assert code == 0, log
    engine = Engine()
    lines = exact_scores = placeholders = 0
    rounds: dict[int, int] = {}
    for name, seeds, options in plan:
        result = results[name]
        assert "error" not in result, (name, result)
        assert len(result["lines"]) == len(seeds), name
        for seed, ours in zip(seeds, result["lines"], strict=True):
            (asset,) = engine.generate("dialogue", seed=seed, **options)
            theirs = dict(asset.metadata, text=asset.text, speaker=asset.speaker)
            for key in SAME:
                assert ours[key] == theirs[key], (name, seed, key, ours[key], theirs[key])
            score, expected = ours["score"], float(theirs["score"])
            assert abs(score - expected) <= 1e-12 * max(1.0, abs(expected)), (name, seed)
            lines += 1
            exact_scores += score == expected
            placeholders += bool(ours["placeholders"])
            rounds[ours["rounds"]] = rounds.get(ours["rounds"], 0) + 1
            if name in FIXED_ROUNDS:
                assert ours["rounds"] == FIXED_ROUNDS[name], (name, seed, ours["rounds"])
            assert ours["candidates"] == ours["rounds"] * options.get("candidates", 16), name
        print(f"{name}: {len(seeds)} lines identical ({result['ms']} ms in C#)")
    print(f"{lines} lines, {exact_scores} scores bit-identical, {placeholders} with placeholders,"
          f" rounds {dict(sorted(rounds.items()))}")


def test_the_option_defaults_are_pythons(parity_exe: Path, tmp_path: Path) -> None:
    """Every DialogueOptions default of the C# runtime is plugin.py's (rerank, by_sentence and
    sentence_rerank among them), so a line made with no options is the same line."""
    from assetgen_dialogue.plugin import DialogueOptions

    code, log, results = run_csharp(
        parity_exe, MODEL, [{"id": "defaults", "seeds": [], "defaults": True}], tmp_path
    )
    assert code == 0, log
    ours = results["defaults"]["defaults"]
    theirs = {k: v for k, v in vars(DialogueOptions.parse({})).items() if k != "model"}
    assert ours == theirs


def test_bad_dialogue_options_give_the_python_messages(parity_exe: Path, tmp_path: Path) -> None:
    m = manifest()
    from assetgen_dialogue.plugin import DialogueOptions

    # the option choices (roles and sources of every shipped model)
    specs = {s.name: s for s in DialogueOptions.specs()}

    cases: dict[str, dict[str, Any]] = {
        "negative_seed": {"seed": -1},
        "cold": {"temperature": 0.05},
        "hot": {"temperature": 2.5},
        "top_k_range": {"top_k": 5000},
        "top_k_vocab": {"top_k": vocab_size() + 1},
        "top_p_zero": {"top_p": 0.0},
        "top_p_range": {"top_p": 1.5},
        "max_chars_zero": {"max_chars": 0},
        "max_chars_big": {"max_chars": 401},
        "prompt_long": {"prompt": "We shall see. " * 3, "max_chars": 20},
        "prompt_unknown": {"prompt": "Hail \u2603 and \u00e9 friend"},
        "prompt_astral": {"prompt": "Ho \U0001f600 ho"},
        "prompt_nul": {"prompt": "a\x00b"},
        "prompt_pieces": {"prompt": "a, " * 130, "max_chars": 400},
        "race_unknown": {"race": "martian"},
        "race_long": {"race": "x" * 41},
        "length": {"length": "huge"},
        "rerank": {"rerank": "best"},
        "sentence_rerank": {"sentence_rerank": "worst"},
        "candidates_zero": {"candidates": 0},
        "candidates_many": {"candidates": 33},
        "rounds_zero": {"rounds": 0},
        "rounds_many": {"rounds": 17},
        "accept_negative": {"accept": -0.1},
        "accept_big": {"accept": 1.5},
        "give_up_big": {"give_up": 2},
        "min_chars": {"min_chars": -2},
        "sentence_temperature": {"sentence_temperature": 2.5},
        "guidance": {"archetype_guidance": 9.0},
        "name_long": {"name": "N" * 101},
        "place_long": {"place": "P" * 101},
    }
    roles = set(m["tags"]["role"])
    other_roles = [r for r in specs["archetype"].choices or () if r not in roles | {"random"}]
    if other_roles:  # a role of another shipped model: refused by this model's own check
        cases["archetype_other_model"] = {"archetype": other_roles[0]}
    if list(specs["source"].choices or ()) == list(m["tags"]["source"]):
        cases["source"] = {"source": "klingon"}
    check_python_errors(parity_exe, MODEL, "dialogue", cases, tmp_path)


def test_a_manifest_that_does_not_match_the_graph_is_refused(
    parity_exe: Path, tmp_path: Path
) -> None:
    """The cache's shape comes from the graph; the manifest's layers, heads, dim and vocab_size
    must agree with it (a retrained model ships both), else the folder is refused by name."""
    import shutil

    m = manifest()
    for field, value, expected in (
        ("layers", m["layers"] + 1, f"field 'layers' is {m['layers'] + 1}; "),
        ("heads", m["heads"] * 2, f"field 'heads' is {m['heads'] * 2}; "),
        ("vocab_size", vocab_size() + 1, f"field 'vocab_size' is {vocab_size() + 1}; "),
    ):
        folder = tmp_path / field
        shutil.copytree(MODEL, folder)
        (folder / "manifest.json").write_text(json.dumps(dict(m, **{field: value})), "utf-8")
        code, log, _ = run_csharp(parity_exe, folder, [], tmp_path / f"{field}-out")
        assert code == 3, log
        assert "ModelException: manifest.json: " + expected in log, log


def test_a_broken_data_line_list_is_refused_with_pythons_message(
    parity_exe: Path, tmp_path: Path
) -> None:
    """``data_lines.json`` (the data set's lines, hashed, for refusing copies) that is empty,
    holds something else than 16-digit hexadecimal hashes or lacks its field is refused on
    both sides with the same message."""
    import shutil

    from assetgen_dialogue.gpt_lines import read_data_lines

    from assetgen import ModelError
    from assetgen.training import read_manifest, write_manifest

    for name, doc, expected in (
        ("not_hex", {"lines": ["z" * 16]}, "field 'lines' must hold 16-digit hexadecimal hashes"),
        ("short", {"lines": ["0123"]}, "field 'lines' must hold 16-digit hexadecimal hashes"),
        ("empty", {"lines": []}, "field 'lines' holds no hashes"),
        ("missing", {"hashes": []}, "field 'lines' is missing or not JSON"),
    ):
        folder = tmp_path / name
        shutil.copytree(MODEL, folder)
        (folder / "data_lines.json").write_text(json.dumps(doc), "utf-8")
        m = read_manifest(folder)
        write_manifest(folder, m, list(m["files"]))
        with pytest.raises(ModelError) as info:
            read_data_lines(folder / "data_lines.json")
        assert str(info.value) == "data_lines.json: " + expected
        code, log, _ = run_csharp(parity_exe, folder, [], tmp_path / f"{name}-out")
        assert code == 3, log
        assert "ModelException: data_lines.json: " + expected in log, log


@pytest.fixture(scope="session")
def retrained_dialogue_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dialogue GPT of other sizes than the shipped one (1 layer, 2 heads of 8, a 90-piece
    vocabulary, context 64, its own role and race tags), trained for 20 steps and exported by
    the training code, with the tiny data set of tests/dialogue/conftest.py (a few seconds)."""
    for module in ("torch", "onnx", "sentencepiece"):
        pytest.importorskip(module)
    spec = importlib.util.spec_from_file_location(
        "dialogue_test_data", ROOT / "tests" / "dialogue" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    from assetgen_dialogue.training import export, train

    root = tmp_path_factory.mktemp("runtime_dialogue_gpt")
    data = fixtures.write_v2_data(root / "data")
    train.train(root / "run", data, {**train.DEFAULT_CONFIG, **fixtures.TINY_GPT}, resume=False)
    export.export(root / "run", root / "model")
    return root / "model"


def test_a_retrained_model_of_other_sizes_matches_too(
    parity_exe: Path, retrained_dialogue_model: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assetgen_dialogue import plugin

    model = retrained_dialogue_model
    m = json.loads((model / "manifest.json").read_text("utf-8"))
    assert (m["layers"], m["heads"], m["context"]) != (manifest()["layers"], manifest()["heads"],
                                                     manifest()["context"])
    plan: list[tuple[str, list[int], dict[str, Any]]] = [
        ("defaults", [0, 1, 2, 3, 4, 5], {}),
        ("one_candidate", [6, 7], {"candidates": 1}),
        ("learned", [8, 9], {"rerank": "mixed", "sentence_rerank": "learned",
                             "by_sentence": True}),
        # no judged_scorer.json in a freshly exported folder: likelihood on both sides
        ("judged_absent", [15, 16], {"rerank": "judged", "sentence_rerank": "judged",
                                     "by_sentence": True, "length": "long"}),
        ("no_mask_top_k", [10, 11], {"word_mask": False, "by_sentence": False, "top_k": 10}),
        ("guidance_long", [12, 13], {"archetype_guidance": 1.0, "candidates": 3,
                                     "length": "long", "by_sentence": True}),
        ("prompt", [14], {"prompt": "Stand, ho", "source": m["tags"]["source"][1]}),
    ]
    requests = [{"id": n, "seeds": s, "options": o} for n, s, o in plan]
    code, log, results = run_csharp(parity_exe, model, requests, tmp_path)
    assert code == 0, log
    monkeypatch.setattr(plugin, "MODEL_DIR", model)
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    engine = Engine(device="cpu")
    for name, seeds, options in plan:
        for seed, ours in zip(seeds, results[name]["lines"], strict=True):
            (asset,) = engine.generate("dialogue", seed=seed, **options)
            theirs = dict(asset.metadata, text=asset.text, speaker=asset.speaker)
            for key in SAME:
                assert ours[key] == theirs[key], (name, seed, key, ours[key], theirs[key])
            assert abs(ours["score"] - theirs["score"]) <= 1e-12 * max(1.0, abs(theirs["score"]))


def copy_model(folder: Path, files: dict[str, Any]) -> Path:
    """The shipped model folder copied to ``folder``, each of ``files`` (name: a JSON document,
    or None to drop it from the folder) written over it, the manifest's file table
    rewritten."""
    import shutil

    from assetgen.training import read_manifest, write_manifest

    shutil.copytree(MODEL, folder)
    m = read_manifest(folder)
    names = set(m["files"])
    for name, doc in files.items():
        if doc is None:
            (folder / name).unlink()
            names.discard(name)
        else:
            (folder / name).write_text(json.dumps(doc), "utf-8")
            names.add(name)
    write_manifest(folder, m, sorted(names))
    return folder


def test_judged_without_its_file_ranks_by_likelihood_on_both_sides(
    parity_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model folder whose manifest lists no judged_scorer.json: ``rerank=judged`` (and
    ``sentence_rerank=judged``) rank by likelihood in Python and in C#, the same lines."""
    from assetgen_dialogue import plugin

    if "judged_scorer.json" not in manifest()["files"]:
        pytest.skip("the shipped model has no judged_scorer.json")
    folder = copy_model(tmp_path / "model", {"judged_scorer.json": None})
    plan: list[tuple[str, list[int], dict[str, Any]]] = [
        ("judged", [0, 1, 2], {"rerank": "judged", "by_sentence": False}),
        ("sentence_judged", [3, 4], {"sentence_rerank": "judged", "by_sentence": True,
                                     "length": "long"}),
    ]
    requests = [{"id": n, "seeds": s, "options": o} for n, s, o in plan]
    code, log, results = run_csharp(parity_exe, folder, requests, tmp_path / "out")
    assert code == 0, log
    monkeypatch.setattr(plugin, "MODEL_DIR", folder)
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    engine = Engine(device="cpu")
    for name, seeds, options in plan:
        plain = dict(options, rerank="likelihood", sentence_rerank="likelihood")
        for seed, ours in zip(seeds, results[name]["lines"], strict=True):
            (asset,) = engine.generate("dialogue", seed=seed, **options)
            (likelier,) = engine.generate("dialogue", seed=seed, **plain)
            theirs = dict(asset.metadata, text=asset.text, speaker=asset.speaker)
            for key in SAME:
                assert ours[key] == theirs[key], (name, seed, key, ours[key], theirs[key])
            assert (asset.text, asset.metadata["score"]) == (likelier.text,
                                                             likelier.metadata["score"])


REQUIRED = "fields 'mean', 'scale', 'weights' (lists of numbers) and 'bias' are required"


def test_a_broken_reranker_file_is_refused_with_pythons_message(
    parity_exe: Path, tmp_path: Path
) -> None:
    """``judged_scorer.json`` (or ``scorer.json``) with a field missing or not numbers, of
    another length than its features and n-gram buckets, with numbers that are not finite, a
    scale that is not positive or all-zero weights is refused on both sides with the same
    message, naming the file."""
    from assetgen_dialogue import plugin
    from assetgen_dialogue.rerank import Scorer

    from assetgen import ModelError
    from assetgen.runtime import Runtime

    if "judged_scorer.json" not in manifest()["files"]:
        pytest.skip("the shipped model has no judged_scorer.json")
    judged = json.loads((MODEL / "judged_scorer.json").read_text("utf-8"))
    learned = json.loads((MODEL / "scorer.json").read_text("utf-8"))
    buckets = judged["ngram_buckets"]
    size = len(judged["weights"])

    def changed(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
        out = dict(doc, **fields)
        return {k: v for k, v in out.items() if v is not None}

    lengths = (f"'mean', 'scale' and 'weights' must each hold {size} numbers "
               f"(10 features and {buckets} n-gram buckets)")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("no_bias", "judged_scorer.json", changed(judged, bias=None), REQUIRED),
        ("text_weight", "judged_scorer.json",
         changed(judged, weights=["x", *judged["weights"][1:]]), REQUIRED),
        ("ragged_mean", "judged_scorer.json",
         changed(judged, mean=[[0.0], *judged["mean"][1:]]), REQUIRED),
        ("buckets_text", "judged_scorer.json", changed(judged, ngram_buckets="many"), REQUIRED),
        ("short_weights", "judged_scorer.json",
         changed(judged, weights=judged["weights"][:-1]), lengths),
        ("no_buckets", "judged_scorer.json", changed(judged, ngram_buckets=None),
         "'mean', 'scale' and 'weights' must each hold 10 numbers (10 features and 0 n-gram "
         "buckets)"),
        ("null_weight", "judged_scorer.json",
         changed(judged, weights=[*judged["weights"][:5], None, *judged["weights"][6:]]),
         "'weights' and 'bias' must be finite numbers"),
        ("zero_scale", "judged_scorer.json",
         changed(judged, scale=[*judged["scale"][:-1], 0.0]),
         "'mean' must be finite and 'scale' positive"),
        ("zero_weights", "judged_scorer.json", changed(judged, weights=[0.0] * size),
         "'weights' are all zero (an untrained scorer)"),
        ("learned_short", "scorer.json", changed(learned, mean=learned["mean"][:-1]),
         "'mean', 'scale' and 'weights' must each hold 10 numbers (10 features and 0 n-gram "
         "buckets)"),
    ]
    for case, name, doc, expected in cases:
        with pytest.raises(ModelError) as info:
            Scorer.from_json(json.loads(json.dumps(doc)), name)
        assert str(info.value) == f"{name}: {expected}", case
        folder = copy_model(tmp_path / case, {name: doc})
        gen = plugin.DialogueGenerator(Runtime("cpu"))
        with pytest.raises(ModelError) as loaded:
            gen.gpt(Runtime("cpu").load_model(folder))
        assert str(loaded.value) == f"{name}: {expected}", case
        code, log, _ = run_csharp(parity_exe, folder, [], tmp_path / f"{case}-out")
        assert code == 3, (case, log)
        assert f"ModelException: {name}: {expected}" in log, (case, log)


# -- the character LSTM (shakespeare_model: dialogue_step.onnx, vocab.json) ------------------

LSTM = ROOT / "plugins" / "assetgen_dialogue" / "shakespeare_model"
#: what Python's LSTM line carries (text, speaker, metadata archetype and stop)
LSTM_SAME = ("text", "speaker", "archetype", "stop")
#: GPT metadata an LSTM line does not have in Python (null, or the fixed values, in C#)
GPT_ONLY_METADATA = ("source", "race", "length", "candidates", "chosen", "score",
                     "placeholders", "faults", "sentences", "rounds")


def lstm_vocab() -> dict[str, Any]:
    return json.loads((LSTM / "vocab.json").read_text("utf-8"))


def lstm_cases() -> list[tuple[str, list[int], dict[str, Any]]]:
    """Seeds, archetypes (random, first, last, named), prompts, each sampling lever, guidance
    and max_chars cuts; the archetypes and prompts come from vocab.json."""
    vocab = lstm_vocab()
    roles = vocab["archetypes"]
    return [
        ("defaults", [0, 1, 2, 3, 4, 5, 6, 7], {}),
        ("first_archetype", [10, 11, 12], {"archetype": roles[0]}),
        ("last_archetype", [13, 14], {"archetype": roles[-1]}),
        ("middle_archetype", [15, 16], {"archetype": roles[len(roles) // 2]}),
        ("hot_top_k", [20, 21, 22], {"temperature": 1.3, "top_k": 12, "top_p": 1.0}),
        ("cold_top_p", [23, 24], {"temperature": 0.2, "top_p": 0.5}),
        ("top_k_vocab", [25], {"top_k": len(vocab["tokens"]), "top_p": 1.0}),
        ("top_k_one", [26], {"top_k": 1}),
        ("max_temperature", [27, 28], {"temperature": 2.0, "top_p": 1.0}),
        ("prompt", [30, 31], {"prompt": "My lord, I ", "archetype": roles[1]}),
        ("prompt_space_end", [32], {"prompt": "Go ", "temperature": 0.9}),
        ("prompt_fills_max_chars", [33], {"prompt": "Ay.", "max_chars": 3}),
        ("guidance", [40, 41, 42], {"archetype_guidance": 1.5, "archetype": roles[3]}),
        ("guidance_random_hot", [43, 44],
         {"archetype_guidance": 4.0, "temperature": 1.1, "top_k": 20}),
        ("guidance_prompt", [45], {"archetype_guidance": 0.5, "prompt": "Why, ",
                                   "max_chars": 60}),
        ("max_chars_cut", [50, 51, 52], {"max_chars": 25}),
        ("max_chars_one", [53, 54], {"max_chars": 1}),
        ("max_chars_long", [55], {"max_chars": 400, "temperature": 1.5, "top_p": 1.0}),
        # the GPT-only options: checked, then ignored (the same line as without them)
        ("gpt_only_options", [0, 1],
         {"source": "crawl", "race": "any", "length": "long", "candidates": 1,
          "rerank": "likelihood", "min_chars": 0, "filters": False, "slip_checks": False,
          "word_mask": False, "source_words": False, "by_sentence": True,
          "sentence_rerank": "learned", "sentence_temperature": 1.0, "name": "Ash",
          "place": "Weldon", "rounds": 16, "accept": 1.0, "give_up": 0.0}),
        ("big_seed", [2**63 - 2, 2**63 - 1], {}),
    ]


def test_lstm_lines_match_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    """The character LSTM (``-o model=shakespeare``), one line per seed as in Python: the same
    text, speaker, archetype and stop (eos, newline, max_chars)."""
    plan = lstm_cases()
    requests = [{"id": n, "seeds": s, "options": o} for n, s, o in plan]
    code, log, results = run_csharp(parity_exe, LSTM, requests, tmp_path)
    assert code == 0, log
    engine = Engine()
    lines = 0
    stops: dict[str, int] = {}
    texts: dict[tuple[str, int], str] = {}
    for name, seeds, options in plan:
        result = results[name]
        assert "error" not in result, (name, result)
        assert len(result["lines"]) == len(seeds), name
        for seed, ours in zip(seeds, result["lines"], strict=True):
            (asset,) = engine.generate("dialogue", seed=seed, model="shakespeare", **options)
            theirs = dict(asset.metadata, text=asset.text, speaker=asset.speaker)
            for key in LSTM_SAME:
                assert ours[key] == theirs[key], (name, seed, key, ours[key], theirs[key])
            for key in GPT_ONLY_METADATA:
                assert key not in asset.metadata, (name, key)
            assert (ours["source"], ours["race"], ours["length"]) == (None, None, None)
            assert (ours["sentences"], ours["rounds"]) == (1, 1)
            assert ours["license"] == json.loads((LSTM / "manifest.json").read_text())["license"]
            assert len(asset.text) <= options.get("max_chars", 200)
            lines += 1
            stops[ours["stop"]] = stops.get(ours["stop"], 0) + 1
            texts[name, seed] = ours["text"]
        print(f"lstm {name}: {len(seeds)} lines identical ({result['ms']} ms in C#)")
    # the GPT-only options change nothing; naming the drawn archetype keeps the line
    assert texts["gpt_only_options", 0] == texts["defaults", 0]
    assert texts["gpt_only_options", 1] == texts["defaults", 1]
    assert results["gpt_only_options"]["lines"][0]["speaker"] != "Ash"
    print(f"lstm: {lines} lines identical, stops {dict(sorted(stops.items()))}")


def test_lstm_named_archetype_keeps_the_seeds_stream(parity_exe: Path, tmp_path: Path) -> None:
    """The archetype draw is always made: naming the archetype a seed would draw gives the
    seed's random line, on both sides."""
    requests = [{"id": "random", "seeds": [7], "options": {}}]
    code, log, results = run_csharp(parity_exe, LSTM, requests, tmp_path / "a")
    assert code == 0, log
    drawn = results["random"]["lines"][0]
    requests = [{"id": "named", "seeds": [7], "options": {"archetype": drawn["archetype"]}}]
    code, log, results = run_csharp(parity_exe, LSTM, requests, tmp_path / "b")
    assert code == 0, log
    assert results["named"]["lines"][0]["text"] == drawn["text"]
    (asset,) = Engine().generate("dialogue", seed=7, model="shakespeare",
                                 archetype=drawn["archetype"])
    assert asset.text == drawn["text"]


def test_bad_lstm_options_give_the_python_messages(parity_exe: Path, tmp_path: Path) -> None:
    """The LSTM branch of ``validate`` (archetype of this model, top_k up to the vocabulary,
    unknown prompt characters) and the checks before it, and the GPT-only options' own
    declarations, which Python checks for this model too."""
    from assetgen_dialogue.plugin import DialogueOptions

    vocab = lstm_vocab()
    gpt_roles = [r for r in manifest()["tags"]["role"]
                 if r not in vocab["archetypes"] and r != "any"]
    specs = {s.name: s for s in DialogueOptions.specs()}
    cases: dict[str, dict[str, Any]] = {
        "negative_seed": {"seed": -1},
        "archetype_any": {"archetype": "any"},
        "top_k_vocab": {"top_k": len(vocab["tokens"]) + 1},
        "top_k_range": {"top_k": 5000},
        "top_p_zero": {"top_p": 0.0},
        "top_p_range": {"top_p": 1.5},
        "cold": {"temperature": 0.05},
        "max_chars_zero": {"max_chars": 0},
        "max_chars_big": {"max_chars": 401},
        "prompt_long": {"prompt": "We shall see. " * 3, "max_chars": 20},
        "prompt_unknown": {"prompt": "Hail \u2603 and \u00e9 friend \u00e9"},
        "prompt_newline": {"prompt": "Stay.\nGo"},
        "prompt_nul": {"prompt": "b\x00"},
        "prompt_astral": {"prompt": "Ho \U0001f600 ho"},
        "guidance": {"archetype_guidance": 9.0},
        # GPT-only options: ignored by the LSTM, but their declarations are checked
        "candidates_zero": {"candidates": 0},
        "rerank": {"rerank": "best"},
        "length": {"length": "huge"},
        "race_long": {"race": "x" * 41},
        "name_long": {"name": "N" * 101},
        "min_chars": {"min_chars": -2},
        "rounds_many": {"rounds": 17},
        "accept_big": {"accept": 1.5},
    }
    if gpt_roles and gpt_roles[0] in (specs["archetype"].choices or ()):
        # a role of the GPT: refused by this model's own check ("... for this model")
        cases["archetype_gpt_role"] = {"archetype": gpt_roles[0]}
    for case in cases.values():
        case["model"] = "shakespeare"
    check_python_errors(parity_exe, LSTM, "dialogue", cases, tmp_path)

