"""The blind read-through: the sheet hides which decoding made a line, the key knows, and the
count refuses a sheet that is not fully judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assetgen_dialogue.training import readthrough


def lines() -> dict[str, list[dict[str, object]]]:
    def rows(arm: str) -> list[dict[str, object]]:
        return [
            {
                "seed": i,
                "role": "soldier",
                "length": length,
                "text": f"{arm} line {i}.",
                "seconds": 0.1,
            }
            for i, length in enumerate(["short", "short", "long"])
        ]

    return {"baseline": rows("baseline"), "current": rows("current")}


def test_sheet_is_blind_and_the_count_follows_the_key(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.md"
    readthrough.write_sheet(sheet, lines(), seed=3, command="assetgen eval dialogue")
    text = sheet.read_text(encoding="utf-8")
    assert text.count("[  ]") == 6 and "baseline" not in text.split("\n\n", 2)[2].split("(")[0]
    key = json.loads(readthrough.key_path(sheet).read_text(encoding="utf-8"))
    assert sorted(k["arm"] for k in key) == ["baseline"] * 3 + ["current"] * 3
    with pytest.raises(ValueError, match="not judged"):
        readthrough.tally(sheet)
    # judge: every "current" short line ok, everything else no
    judged = []
    for line in text.splitlines():
        if line[:1].isdigit():
            item = int(line.split(".")[0])
            row = key[item - 1]
            ok = row["arm"] == "current" and row["length"] == "short"
            line = line.replace("[  ]", "[ok]" if ok else "[no]", 1)
        judged.append(line)
    sheet.write_text("\n".join(judged), encoding="utf-8")
    report = readthrough.tally(sheet)
    assert report["current"]["shippable"] == 2 and report["baseline"]["shippable"] == 0
    assert report["current"]["by_length"] == {"long": "0/1", "short": "2/2"}
    # the two short "current" lines differ; a line made twice counts once as distinct
    assert report["current"]["shippable_distinct"] == 2
    twice = text_of = sheet.read_text(encoding="utf-8").replace(
        "current line 1.", "current line 0."
    )
    sheet.write_text(twice, encoding="utf-8")
    assert text_of and readthrough.tally(sheet)["current"]["shippable_distinct"] == 1


def test_lines_said_word_for_word_in_the_data_are_counted_as_copies(tmp_path: Path) -> None:
    """With the data set's lines, the count says how many lines (and shippable ones) are
    a source line word for word; without them it does not claim to know."""
    sheet = tmp_path / "sheet.md"
    readthrough.write_sheet(sheet, lines(), seed=3, command="x")
    judged = [
        line.replace("[  ]", "[ok]" if "current line" in line else "[no]", 1)
        for line in sheet.read_text(encoding="utf-8").splitlines()
    ]
    sheet.write_text("\n".join(judged), encoding="utf-8")
    report = readthrough.tally(sheet, {"current line 0.", "baseline line 2.", "unrelated"})
    assert report["current"]["copied"] == 1 and report["current"]["shippable_copied"] == 1
    assert report["current"]["shippable_not_copied"] == report["current"]["shippable"] - 1 == 2
    assert report["baseline"]["copied"] == 1 and report["baseline"]["shippable_copied"] == 0
    assert "copied" not in readthrough.tally(sheet)["current"]


def test_same_seed_gives_the_same_shuffle(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "sheet.md", tmp_path / "b" / "sheet.md"
    readthrough.write_sheet(a, lines(), seed=3, command="x")
    readthrough.write_sheet(b, lines(), seed=3, command="x")
    assert a.read_text() == b.read_text()
