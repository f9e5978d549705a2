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
    # every line opens "current line N." / "baseline line N.": the commonest three-word
    # openings with their counts
    assert report["current"]["top_openings"] == {
        "current line 0.": 1, "current line 1.": 1, "current line 2.": 1
    }
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


MANIFEST = {
    "length_buckets": {"short": [12, 50], "medium": [51, 120], "long": [121, 240]},
    "length_counts": {
        "wesnoth": {"soldier": {"short": 30, "long": 10}, "mage": {"short": 1, "medium": 3}},
        "crawl": {"soldier": {"medium": 5}},
    },
}


def test_drawn_weights_follow_what_random_length_draws() -> None:
    """Each role's own bucket shares, averaged over the roles; a role the source has no
    lines of takes the source's shares over all roles (as ``length=random`` does)."""
    w = readthrough.drawn_weights(MANIFEST, "wesnoth", ["soldier"])
    assert w == pytest.approx({"short": 0.75, "long": 0.25})
    w = readthrough.drawn_weights(MANIFEST, "wesnoth", ["soldier", "mage"])
    assert w == pytest.approx({"short": (0.75 + 0.25) / 2, "medium": 0.375, "long": 0.125})
    assert readthrough.drawn_weights(MANIFEST, "wesnoth", ["god"]) == pytest.approx(
        {"short": 31 / 44, "medium": 3 / 44, "long": 10 / 44}
    )


def test_drawn_share_weighs_the_sheet_s_bucket_rates(tmp_path: Path) -> None:
    """The sheet of lines(): "current" ships both short lines and not the long one, so its
    drawn share for soldiers (75% short, 25% long) is 0.75 whatever the sheet drew; without
    the manifest the count does not give one."""
    sheet = tmp_path / "sheet.md"
    readthrough.write_sheet(sheet, lines(), seed=3, command="x")
    key = json.loads(readthrough.key_path(sheet).read_text(encoding="utf-8"))
    judged = []
    for line in sheet.read_text(encoding="utf-8").splitlines():
        if line[:1].isdigit():
            row = key[int(line.split(".")[0]) - 1]
            ok = row["arm"] == "current" and row["length"] == "short"
            line = line.replace("[  ]", "[ok]" if ok else "[no]", 1)
        judged.append(line)
    sheet.write_text("\n".join(judged), encoding="utf-8")
    report = readthrough.tally(sheet, None, MANIFEST)
    assert report["current"]["shippable_share"] == pytest.approx(2 / 3)
    assert report["current"]["drawn_share"] == pytest.approx(0.75)
    assert report["baseline"]["drawn_share"] == 0.0
    assert "drawn_share" not in readthrough.tally(sheet)["current"]


def test_same_seed_gives_the_same_shuffle(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "sheet.md", tmp_path / "b" / "sheet.md"
    readthrough.write_sheet(a, lines(), seed=3, command="x")
    readthrough.write_sheet(b, lines(), seed=3, command="x")
    assert a.read_text() == b.read_text()
