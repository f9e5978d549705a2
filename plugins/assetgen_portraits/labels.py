"""Runtime of the label-conditioned portraits model (numpy + ONNX Runtime, no torch).

A portrait is a **label set** (hair, hair colour, skin, eyes, eyebrows, mouth, glasses,
earrings, details) drawn by the model. A seed draws the labels it does not get as options
from the data set's label distribution (``manifest.json`` ``label_sampling``): hair first,
every other part given the hair, one uniform number per column in a fixed order, so a seed
draws the same face whatever options are set, and an option changes only its own part (and
what depends on the hair, when it is the hair that is set).

The label set becomes ``label_weights``: one one-hot block per column, side by side. Soft
weights (blends) are allowed: the talk, blink and morph animations move the mouth, eye or any
column's weights from one value to another, and since the model adds each value's learned
spatial map to its feature maps, a blend of weights is the local feature-map edit of the source
work, between two labelled states. Talk and blink frames are the labelled states themselves
(closed, half-open and open mouths; open and closed eyes), chosen per frame by the curve: a
blend halfway between two mouths is a double exposure of both, not a mouth in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from assetgen.errors import InvalidOptionsError, ModelError

RANDOM = "random"
#: the columns an animation moves, and the option that sets each
MOUTH, EYES = "mouth", "eyes"
#: morph: the moment (share of the way) at which each column's drawing changes over, so that
#: parts swap one after the other and every frame is a labelled face, not a double exposure
MORPH_SCHEDULE = {
    "skinColor": 0.5, "hairColor": 0.5, "hair": 0.5, "eyebrows": 0.35, "eyes": 0.4,
    "mouth": 0.6, "glasses": 0.3, "earrings": 0.7, "details": 0.65,
}
#: how long (share of the way) one column's change over takes; 0: at once. A blend of two
#: hair maps is a ghost of both (the morph sheet at 0.16 showed it on every middle frame);
#: the judge scores the in-betweens alike either way, and a clean swap is what a sprite needs
MORPH_WIDTH = 0.0


@dataclass(frozen=True)
class Column:
    name: str
    values: tuple[str, ...]
    offset: int


class LabelModel:
    """What a label-conditioned model folder's manifest says, checked and parsed once."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        try:
            self.columns = []
            at = 0
            for col in manifest["label_space"]:
                values = tuple(str(v) for v in col["values"])
                self.columns.append(Column(str(col["name"]), values, at))
                at += len(values)
            self.size = at
            self.by_name = {c.name: c for c in self.columns}
            self.options: dict[str, str] = dict(manifest["options"])
            self.color_names: dict[str, dict[str, str]] = manifest.get("color_names", {})
            sampling = manifest["label_sampling"]
            self.given = str(sampling["given"])
            self.order = [str(c) for c in sampling["order"]]
            self.marginal = np.asarray(sampling["marginal"], np.float64)
            self.conditional = {
                k: np.asarray(v, np.float64) for k, v in sampling["conditional"].items()
            }
            self.states: dict[str, dict[str, str]] = manifest["states"]
            self.families: list[dict[str, list[str]]] = manifest["mouth_families"]
            self.untrained = {
                str(k): {str(v) for v in vs}
                for k, vs in manifest.get("untrained_values", {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"manifest.json: bad label fields ({exc!r})") from None
        self._check()

    def _check(self) -> None:
        def bad(field: str, why: str) -> ModelError:
            return ModelError(f"manifest.json: field '{field}' {why}")

        if self.given not in self.by_name:
            raise bad("label_sampling.given", f"names an unknown column {self.given!r}")
        if len(self.marginal) != len(self.by_name[self.given].values):
            raise bad("label_sampling.marginal", "does not match its column's values")
        for name in self.order:
            table = self.conditional.get(name)
            col = self.by_name.get(name)
            if col is None or table is None:
                raise bad("label_sampling.order", f"names {name!r} without a table or column")
            if table.shape != (len(self.marginal), len(col.values)):
                raise bad(f"label_sampling.conditional.{name}", f"has shape {table.shape}")
        for field, table in [("marginal", self.marginal), *self.conditional.items()]:
            if not np.isfinite(table).all() or (table < 0).any():
                raise bad(f"label_sampling.{field}", "holds negative or non-finite values")
        for option, column in self.options.items():
            if column not in self.by_name:
                raise bad("options", f"maps {option!r} to an unknown column {column!r}")

    # -- labels ----------------------------------------------------------------------------

    def accepted(self, option: str) -> dict[str, str]:
        """What a label option accepts -> the column value it means: each value (colour
        columns: the hex code and a name for it; their 'none' is not a choice)."""
        column = self.options[option]
        names = self.color_names.get(column, {})
        out: dict[str, str] = {}
        skip = self.untrained.get(column, set())
        for value in self.by_name[column].values:
            if value in skip or (column in self.color_names and value == "none"):
                continue
            if value in names:
                out[names[value]] = value
            out[value] = value
        return out

    def choices(self, option: str) -> tuple[str, ...]:
        return (RANDOM, *self.accepted(option))

    def code(self, option: str, value: str) -> int | None:
        """The value's index in its column, None for 'random'; an unknown value is an error
        naming the option and listing the values."""
        if value == RANDOM:
            return None
        accepted = self.accepted(option)
        key = value.lower() if value.startswith("#") else value
        if key not in accepted:
            raise InvalidOptionsError(
                f"option '{option}' must be one of {', '.join(self.choices(option))}; "
                f"got {value!r}",
                parameter=option,
                value=value,
            )
        return self.by_name[self.options[option]].values.index(accepted[key])

    def draw(self, seed: int, fixed: dict[str, int]) -> dict[str, int]:
        """Column -> code for one seed; ``fixed`` (column -> code) wins over the draw."""
        rng = np.random.default_rng(seed)
        u = rng.random(1 + len(self.order))
        codes = {self.given: fixed.get(self.given, _pick(self.marginal, u[0]))}
        g = codes[self.given]
        for k, name in enumerate(self.order, start=1):
            codes[name] = fixed.get(name, _pick(self.conditional[name][g], u[k]))
        for col in self.columns:
            codes.setdefault(col.name, fixed.get(col.name, 0))
        return codes

    def weights(self, codes: dict[str, int]) -> np.ndarray:
        out = np.zeros(self.size, np.float32)
        for col in self.columns:
            out[col.offset + codes[col.name]] = 1.0
        return out

    def span(self, column: str) -> slice:
        col = self.by_name[column]
        return slice(col.offset, col.offset + len(col.values))

    def readable(self, codes: dict[str, int]) -> dict[str, str]:
        """Option name -> value (colour names where there is one), for asset metadata."""
        out = {}
        for option, column in self.options.items():
            value = self.by_name[column].values[codes[column]]
            out[option] = self.color_names.get(column, {}).get(value, value)
        return out

    # -- animation states --------------------------------------------------------------------

    def mouth_states(self, mouth: str, seed: int) -> tuple[str, str | None, str]:
        """(closed, half-open, open) mouths for a face whose still has ``mouth``: its own mouth
        in its own state, the others from the same family (red lips stay red), picked by
        ``seed``; half-open is None for a family without a small open mouth."""
        rng = np.random.default_rng([seed, 1])

        def pick(values: list[str]) -> str:
            return values[int(rng.integers(len(values)))]

        family = next(
            (f for f in self.families
             if mouth in f["closed"] or mouth in f["open"] or mouth in f.get("half", [])),
            self.families[0],
        )
        shut, opened = pick(family["closed"]), pick(family["open"])
        half = pick(family["half"]) if family.get("half") else None
        if mouth in family.get("half", []):
            half = mouth
        elif mouth in family["open"] or (
            mouth not in family["closed"] and self.states["mouth"].get(mouth) == "open"
        ):
            opened = mouth
        else:
            shut = mouth
        return shut, half, opened

    def eyes_pair(self, eyes: str, seed: int) -> tuple[str, str]:
        """(open, closed) eyes for a face whose still has ``eyes``."""
        rng = np.random.default_rng([seed, 2])
        values = self.by_name[EYES].values
        shut = [v for v in values if self.states["eyes"].get(v) == "closed"]
        opened = [v for v in values if self.states["eyes"].get(v) == "open"]
        if eyes in shut:
            return opened[int(rng.integers(len(opened)))], eyes
        return eyes, shut[int(rng.integers(len(shut)))]

    def frames_of(self, weights: np.ndarray, column: str, values: list[str]) -> np.ndarray:
        """len(values) copies of ``weights``, each with ``column`` set to one of ``values``."""
        out = np.repeat(weights[None], len(values), axis=0)
        span = self.span(column)
        out[:, span] = 0.0
        codes = [self.by_name[column].values.index(v) for v in values]
        out[np.arange(len(values)), span.start + np.asarray(codes)] = 1.0
        return out

    def morph(self, a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Label weights from ``a`` to ``b`` over ``t`` in [0, 1]: each column changes over in
        a short window around its own moment (``MORPH_SCHEDULE``)."""
        out = np.repeat(a[None], len(t), axis=0)
        for col in self.columns:
            span = self.span(col.name)
            centre = MORPH_SCHEDULE.get(col.name, 0.5)
            if MORPH_WIDTH > 0:
                s = np.clip((t - centre) / MORPH_WIDTH + 0.5, 0.0, 1.0)
                s = s * s * (3 - 2 * s)
            else:
                s = (t >= centre).astype(np.float64)
            s = s[:, None].astype(np.float32)
            out[:, span] = (1 - s) * a[span] + s * b[span]
        return out


def _pick(p: np.ndarray, u: float) -> int:
    """Inverse-CDF draw: the first index whose cumulative probability exceeds ``u``."""
    cdf = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cdf, u, side="right"), len(p) - 1))
