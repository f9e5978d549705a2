"""The option names users type and the colour names of the adventurer palette, written into
an exported model's manifest (``options``, ``color_names``) and used to name its attribute
vectors."""

from __future__ import annotations

#: option name -> label column (the options users type: ``-o hair_color=red``)
OPTION_COLUMNS = {
    "hair": "hair",
    "hair_color": "hairColor",
    "skin": "skinColor",
    "eyes": "eyes",
    "eyebrows": "eyebrows",
    "mouth": "mouth",
    "glasses": "glasses",
    "earrings": "earrings",
    "details": "details",
}

#: names for the adventurer palette (hex as DiceBear reports it)
COLOR_NAMES = {
    "hairColor": {
        "#0e0e0e": "black", "#3eac2c": "green", "#6a4e35": "brown", "#796a45": "dark_blonde",
        "#85c2c6": "teal", "#562306": "auburn", "#592454": "plum", "#ab2a18": "red",
        "#ac6511": "ginger", "#afafaf": "grey", "#b9a05f": "sandy", "#cb6820": "copper",
        "#dba3be": "pink", "#e5d7a3": "blonde",
    },
    "skinColor": {
        "#f2d3b1": "light", "#ecad80": "medium", "#9e5622": "tan", "#763900": "dark",
    },
}
