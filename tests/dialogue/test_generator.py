"""The dialogue generator through the engine: options, sampling, determinism, stops, exporters.

These run against a tiny model trained for a few seconds (``tiny_model`` in conftest.py),
monkeypatched in as the shipped model, so they check the plumbing, not the prose.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import plugin
from assetgen_dialogue.training import corpus
from assetgen_dialogue.yarn import YarnExporter, yarn_escape

from assetgen import Engine, InvalidOptionsError, TextAsset, seeds
from assetgen.cli import main

from .conftest import dialogue_engine

ARCHETYPES = list(corpus.ARCHETYPES)


@pytest.fixture
def engine(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    return dialogue_engine(tiny_model, monkeypatch)


def texts(assets: list[Any]) -> list[str]:
    return [a.text for a in assets]


def test_lines_are_text_assets_spoken_by_the_archetype(engine: Engine) -> None:
    lines = engine.generate("dialogue", seed=0, count=6, archetype="soldier")
    for line in lines:
        assert isinstance(line, TextAsset) and line.kind == "text"
        assert line.speaker == "soldier" and line.metadata["archetype"] == "soldier"
        assert line.metadata["stop"] in ("eos", "max_chars")
        assert "\n" not in line.text and len(line.text) <= 200
        assert line.metadata["options"]["temperature"] == 0.6
    info = engine.generator_info("dialogue")
    assert info.kind == "text"
    schema = info.options_schema["properties"]
    # the choices cover every shipped model; this model's own list is checked on use
    assert schema["archetype"]["enum"][0] == "random"
    assert set(ARCHETYPES) <= set(schema["archetype"]["enum"])
    assert schema["archetype"]["default"] == "random"
    assert (schema["temperature"]["minimum"], schema["temperature"]["maximum"]) == (0.1, 2.0)
    assert (schema["max_chars"]["minimum"], schema["max_chars"]["maximum"]) == (1, 400)
    assert info.model is not None and info.model["archetypes"] == ARCHETYPES


def test_random_archetype_varies_with_the_seed(engine: Engine) -> None:
    lines = engine.generate("dialogue", seed=100, count=30)
    speakers = {line.speaker for line in lines}
    assert len(speakers) > 3 and speakers <= set(ARCHETYPES)
    assert all(line.metadata["options"]["archetype"] == "random" for line in lines)


def test_seeding_rule_and_determinism(engine: Engine, tiny_model: Path) -> None:
    batch = engine.generate("dialogue", seed=7, count=4, temperature=1.2)
    singles = [engine.generate("dialogue", seed=s, temperature=1.2)[0] for s in (7, 8, 9, 10)]
    assert texts(batch) == texts(singles)
    assert [a.speaker for a in batch] == [a.speaker for a in singles]
    assert [a.metadata["seed"] for a in batch] == [7, 8, 9, 10]
    again = Engine(device="cpu").generate("dialogue", seed=7, count=4, temperature=1.2)
    assert texts(again) == texts(batch)
    assert len(set(texts(batch))) > 1  # different seeds, different lines


def test_a_named_archetype_keeps_the_seed_s_sampling_stream(engine: Engine) -> None:
    """The archetype draw happens whatever the option, so a seed's random stream is fixed."""
    (free,) = engine.generate("dialogue", seed=5)
    (named,) = engine.generate("dialogue", seed=5, archetype=free.speaker)
    assert named.text == free.text


def test_sampling_options(engine: Engine) -> None:
    greedy = engine.generate("dialogue", seed=0, count=5, archetype="fool", top_k=1)
    assert len(set(texts(greedy))) == 1  # top_k=1 is greedy: the seed no longer matters
    nucleus = engine.generate("dialogue", seed=0, count=5, archetype="fool", top_p=1e-6)
    assert texts(nucleus) == texts(greedy)  # a tiny nucleus keeps only the likeliest char
    cold = engine.generate("dialogue", seed=0, count=5, archetype="fool", temperature=0.1)
    hot = engine.generate("dialogue", seed=0, count=5, archetype="fool", temperature=2.0)
    assert texts(cold) != texts(hot)
    short = engine.generate("dialogue", seed=0, count=10, max_chars=5, temperature=2.0)
    assert all(len(a.text) <= 5 for a in short)
    assert any(a.metadata["stop"] == "max_chars" for a in short)


def test_archetype_guidance_is_deterministic_and_off_by_default(engine: Engine) -> None:
    base = texts(engine.generate("dialogue", seed=0, count=6, archetype="fool"))
    off = texts(
        engine.generate("dialogue", seed=0, count=6, archetype="fool", archetype_guidance=0.0)
    )
    assert off == base
    guided = texts(
        engine.generate("dialogue", seed=0, count=6, archetype="fool", archetype_guidance=4.0)
    )
    again = texts(
        engine.generate("dialogue", seed=0, count=6, archetype="fool", archetype_guidance=4.0)
    )
    assert guided == again and guided != base
    # the seeding rule holds with guidance too
    (single,) = engine.generate("dialogue", seed=3, archetype="fool", archetype_guidance=4.0)
    assert single.text == guided[3]


def test_prompt_begins_the_line(engine: Engine) -> None:
    lines = engine.generate("dialogue", seed=3, count=4, prompt="Good morrow", archetype="elder")
    assert all(line.text.startswith("Good morrow") for line in lines)
    assert all(line.metadata["options"]["prompt"] == "Good morrow" for line in lines)
    (exact,) = engine.generate("dialogue", seed=3, prompt="Hark", max_chars=4)
    assert exact.text == "Hark" and exact.metadata["stop"] == "max_chars"
    (plain,) = engine.generate("dialogue", seed=3, archetype="elder")
    (empty,) = engine.generate("dialogue", seed=3, archetype="elder", prompt="")
    assert plain.text == empty.text


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"archetype": "pirate"}, "option 'archetype' must be one of 'random'"),
        ({"temperature": 0.05}, "option 'temperature' must be a number from 0.1 to 2"),
        ({"temperature": 2.5}, "option 'temperature' must be a number from 0.1 to 2"),
        ({"top_k": -1}, "option 'top_k' must be an integer from 0 to"),
        ({"top_k": 250}, "option 'top_k' must be an integer from 0 to"),
        ({"top_p": 0.0}, "option 'top_p' must be a number greater than 0"),
        ({"top_p": 1.5}, "option 'top_p' must be a number from 0 to 1"),
        ({"max_chars": 0}, "option 'max_chars' must be an integer from 1 to 400"),
        ({"max_chars": 401}, "option 'max_chars' must be an integer from 1 to 400"),
        ({"prompt": "Café\n"}, r"option 'prompt' contains characters .*'\\n', 'é'"),
        ({"prompt": "Hark", "max_chars": 3}, "option 'prompt' is 4 characters long"),
        ({"speaker": "x"}, "unknown option 'speaker'"),
        ({"archetype_guidance": -1}, "option 'archetype_guidance' must be a number from 0 to 8"),
        ({"archetype_guidance": 9}, "option 'archetype_guidance' must be a number from 0 to 8"),
    ],
)
def test_bad_options(engine: Engine, options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidOptionsError, match=fragment) as caught:
        engine.generate("dialogue", **options)
    assert caught.value.parameter == next(iter(options))


# -- the sampling loop and sampler, with scripted logits ---------------------------------------


class ScriptedSession:
    """Stands in for the ONNX session: each call makes the next scripted token certain."""

    def __init__(self, script: list[int], vocab_size: int) -> None:
        self.script = list(script)
        self.vocab_size = vocab_size
        self.fed: list[int] = []

    def run(self, _outputs: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.fed.append(int(feeds["char"][0]))
        logits = np.full((1, self.vocab_size), -50.0, np.float32)
        logits[0, self.script.pop(0) if self.script else 2] = 50.0
        return [logits, feeds["h"], feeds["c"]]


def scripted_line(script: list[str], **options: Any) -> tuple[TextAsset, ScriptedSession]:
    tokens = ["<pad>", "<bos>", "<eos>", "\n", " ", "H", "a", "i", "!"]
    index = {t: i for i, t in enumerate(tokens)}
    vocab = {
        "tokens": tokens,
        "index": index,
        "special": {"pad": 0, "bos": 1, "eos": 2},
        "archetypes": ["noble", "fool"],
    }
    bundle = SimpleNamespace(manifest={"layers": 2, "hidden": 3})
    session = ScriptedSession([index[t] for t in script], len(tokens))
    generator = plugin.DialogueGenerator(runtime=None)  # type: ignore[arg-type]
    opts = plugin.DialogueOptions.parse({"archetype": "fool", **options})
    line = generator._line(0, opts, bundle, vocab, session)  # type: ignore[arg-type]
    return line, session


def test_stop_conditions() -> None:
    line, session = scripted_line(["H", "i", "!", "<eos>", "a", "a"])
    assert (line.text, line.metadata["stop"], line.speaker) == ("Hi!", "eos", "fool")
    assert session.fed == [1, 5, 7, 8]  # <bos>, then each sampled character
    line, _ = scripted_line(["H", "i", "\n", "a"])
    assert (line.text, line.metadata["stop"]) == ("Hi", "newline")
    line, _ = scripted_line(["H", "a"] * 10, max_chars=5)
    assert (line.text, line.metadata["stop"]) == ("HaHaH", "max_chars")
    # the outputs of the <bos> and "H" steps are overridden by the prompt's next character
    line, session = scripted_line(["a", "a", "i", " ", " ", "<eos>"], prompt="Ha")
    assert (line.text, line.metadata["stop"]) == ("Hai", "eos")  # trailing spaces dropped
    assert session.fed == [1, 5, 6, 7, 4, 4]  # <bos>, the prompt, then what was sampled


def test_sampler() -> None:
    banned = np.array([0, 1])
    logits = np.array([9.0, 9.0, 1.0, 2.0, 3.0, 0.0])
    draws = [
        plugin.sample_token(logits.copy(), seeds.SeedStream(s), 1.0, 0, 1.0, banned)
        for s in range(300)
    ]
    assert 0 not in draws and 1 not in draws  # <pad> and <bos> are never produced
    assert set(draws) == {2, 3, 4, 5}
    top2 = {
        plugin.sample_token(logits.copy(), seeds.SeedStream(s), 1.0, 2, 1.0, banned)
        for s in range(100)
    }
    assert top2 == {3, 4}
    nucleus = {
        plugin.sample_token(logits.copy(), seeds.SeedStream(s), 1.0, 0, 0.5, banned)
        for s in range(100)
    }
    assert nucleus == {4}  # p(4) ~ 0.64 alone covers half the mass
    a = [
        plugin.sample_token(logits.copy(), seeds.SeedStream(9), 0.7, 0, 0.9, banned)
        for _ in range(3)
    ]
    assert len(set(a)) == 1  # same seed, same draw


# -- exporters ---------------------------------------------------------------------------------

YARN_LINE = re.compile(r"^=> ([A-Za-z_][A-Za-z0-9_]*): (.*) #line:[0-9a-f]{12}$")
YARN_TITLE = re.compile(r"^title: ([A-Za-z][A-Za-z0-9_]*)$")


def parse_yarn(script: str) -> list[dict[str, Any]]:
    """Split a .yarn script into nodes (headers + body lines), checking the structure."""
    nodes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    in_body = False
    for raw in script.splitlines():
        if current is None:
            if not raw.strip() or raw.startswith("//"):
                continue
            current, in_body = {"headers": {}, "lines": []}, False
        if not in_body:
            if raw == "---":
                in_body = True
                continue
            key, sep, value = raw.partition(": ")
            assert sep and re.fullmatch(r"[a-z]+", key), raw
            current["headers"][key] = value
        elif raw == "===":
            nodes.append(current)
            current = None
        else:
            current["lines"].append(raw)
    assert current is None, "unterminated node"
    return nodes


def yarn_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_yarn_export_structure(engine: Engine, tmp_path: Path) -> None:
    lines = engine.generate("dialogue", seed=11, count=6, archetype="soldier")
    lines += engine.generate("dialogue", seed=40, count=3, archetype="lover")
    (out,) = engine.render(lines, "yarn", name="npc_lines")
    assert out.name == "npc_lines.yarn"
    nodes = parse_yarn(out.data.decode("utf-8"))
    assert len(nodes) == 2
    titles = [YARN_TITLE.match("title: " + n["headers"]["title"]) for n in nodes]
    assert all(titles) and len({t.group(1) for t in titles if t}) == 2
    assert nodes[0]["headers"]["title"] == "npc_lines_soldier"
    assert nodes[0]["headers"]["tags"].split() == ["assetgen", "dialogue", "soldier"]
    for node, speaker, group in ((nodes[0], "soldier", lines[:6]), (nodes[1], "lover", lines[6:])):
        assert len(node["lines"]) == len(group)
        for entry, asset in zip(node["lines"], group, strict=True):
            match = YARN_LINE.match(entry)
            assert match and match.group(1) == speaker
            assert yarn_unescape(match.group(2)) == asset.text.strip()
    # the command line: one request, one .yarn file
    command = ["generate", "dialogue", "--seed", "1", "--count", "5", "-o", "archetype=clergy"]
    assert main([*command, "--format", "yarn", "--out", str(tmp_path)]) == 0
    (written,) = list(tmp_path.glob("*.yarn"))
    (node,) = parse_yarn(written.read_text(encoding="utf-8"))
    assert len(node["lines"]) == 5 and all(e.startswith("=> clergy: ") for e in node["lines"])


def test_yarn_escapes_what_yarn_treats_specially() -> None:
    text = "Go {now} <<jump Home>> #tag // [b]bold[/b] back\\slash\nnext line"
    assets = [
        TextAsset(text, speaker="Old Man #2", metadata={"seed": 1, "generator": "dialogue"}),
        TextAsset("Plain.", speaker="", metadata={"seed": 2, "generator": "dialogue"}),
    ]
    (out,) = YarnExporter().render(assets, "7-batch")
    nodes = parse_yarn(out.data.decode())
    assert [n["headers"]["title"] for n in nodes] == ["N7_batch_Old_Man__2", "N7_batch_NPC"]
    (entry,) = nodes[0]["lines"]
    speaker, _, body = entry.partition(": ")
    assert speaker == "=> Old_Man__2"
    body, _, line_tag = body.rpartition(" #")
    assert re.fullmatch("line:[0-9a-f]{12}", line_tag)
    # no special character is left unescaped: strip escapes, nothing special remains
    assert not re.search(r"(?<!\\)[{}<>#/\[\]]", body.replace("\\\\", ""))
    assert yarn_unescape(body) == text.replace("\n", " ")
    assert yarn_escape("a\r\nb") == "a b"
    assert re.fullmatch(r"=> NPC: Plain\. #line:[0-9a-f]{12}", nodes[1]["lines"][0])


def test_jsonl_and_csv_exporters(engine: Engine) -> None:
    lines = engine.generate("dialogue", seed=2, count=3, archetype="villain")
    (jsonl,) = engine.render(lines, "jsonl")
    records = [json.loads(x) for x in jsonl.data.decode().splitlines()]
    assert [r["text"] for r in records] == texts(lines)
    assert {r["speaker"] for r in records} == {"villain"}
    (csv_file,) = engine.render(lines, "csv")
    assert csv_file.data.decode().splitlines()[0] == "seed,speaker,text"


def test_the_runtime_path_never_imports_torch(tiny_model: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assetgen_dialogue import plugin\n"
        f"plugin.MODEL_DIR = Path({str(tiny_model)!r})\n"
        "from assetgen import Engine\n"
        "engine = Engine(device='cpu', plugins=['dialogue', 'exporters'])\n"
        "lines = engine.generate('dialogue', seed=1, count=2, prompt='Ha')\n"
        "engine.render(lines, 'yarn')\n"
        "assert all(line.text.startswith('Ha') for line in lines)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    # run outside the source tree so only the installed package metadata is seen
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
