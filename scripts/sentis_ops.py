"""List what every shipped ONNX graph uses and check it against Unity Sentis's operator table.

For each ``*.onnx`` file named in a shipped model folder's ``manifest.json`` (``plugins/*/model``
and ``plugins/assetgen_dialogue/shakespeare_model``) this lists, with the ``onnx`` package:

- the opset of every domain the graph imports;
- every operator type, how often it occurs and every value each of its attributes takes
  (``Resize`` modes, ``DepthToSpace`` mode, ``Cast`` targets as type names, ...); tensors held
  in attributes are listed by type and shape, not by value;
- the element types of the initialisers, of ``Constant`` tensors, of the graph inputs and
  outputs, and of each ``Cast``'s input and output;
- the largest tensor rank, from ``onnx.shape_inference`` (with data propagation);
  tensors whose rank shape inference cannot tell are listed as unknown, not guessed.

:func:`check` compares a listing with ``docs/sentis_operators.json`` (Unity's Sentis operator
table with its source and version, ``docs/sentis.md``) and returns one sentence per problem,
each naming the graph and the operator. ``tests/runtime/test_sentis_ops.py`` runs it.

    python scripts/sentis_ops.py              # a table per graph and the check's result
    python scripts/sentis_ops.py --json       # the listings as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "sentis_operators.json"
DEFAULT_DOMAINS = ("", "ai.onnx")
ABSENT = "<absent>"  # the attribute is not set on the node


def dtype_name(elem_type: int) -> str:
    import onnx

    return str(onnx.TensorProto.DataType.Name(elem_type))


def model_dirs(root: Path = ROOT) -> list[Path]:
    """The shipped model folders: every folder under ``plugins/<plugin>/`` with a manifest."""
    return sorted(p.parent for p in (root / "plugins").glob("*/*/manifest.json"))


def shipped_graphs(root: Path = ROOT) -> list[Path]:
    """Every ``.onnx`` file a shipped manifest lists under ``files`` (which must exist)."""
    graphs: list[Path] = []
    for folder in model_dirs(root):
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        for name in sorted(manifest.get("files", {})):
            if name.endswith(".onnx"):
                path = folder / name
                if not path.is_file():
                    raise FileNotFoundError(f"{path} is listed in its manifest but missing")
                graphs.append(path)
    return graphs


@dataclass
class OpUse:
    count: int = 0
    # attribute name -> every value it takes in this graph, as strings (sorted on output)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    # attribute name -> how many of the nodes set it (the others take the ONNX default)
    set_on: Counter[str] = field(default_factory=Counter)


@dataclass
class Listing:
    graph: str  # path relative to the repository root
    opsets: dict[str, int]
    ops: dict[str, OpUse]
    initializer_dtypes: dict[str, int]  # type name -> number of initialisers
    constant_dtypes: dict[str, int]  # type of tensors held in Constant / ConstantOfShape nodes
    io_dtypes: dict[str, str]  # graph input or output name -> type name
    casts: dict[str, int]  # "FROM->TO" -> count
    max_rank: int
    max_rank_tensor: str
    unknown_rank: list[str]  # "OpType:output" whose rank shape inference does not give

    def to_json(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "opsets": self.opsets,
            "ops": {
                op: {
                    "count": use.count,
                    "attributes": {a: sorted(v) for a, v in sorted(use.attributes.items())},
                }
                for op, use in sorted(self.ops.items())
            },
            "initializer_dtypes": self.initializer_dtypes,
            "constant_dtypes": self.constant_dtypes,
            "io_dtypes": self.io_dtypes,
            "casts": self.casts,
            "max_rank": self.max_rank,
            "max_rank_tensor": self.max_rank_tensor,
            "unknown_rank": self.unknown_rank,
        }


def _attr_value(attr: Any, listing_ops: dict[str, OpUse], consts: Counter[str]) -> str:
    import onnx
    from onnx import helper

    kind = attr.type
    if kind == onnx.AttributeProto.TENSOR:
        t = attr.t
        consts[tensor_key(t)] += 1
        return f"tensor {dtype_name(t.data_type)}{list(t.dims)}"
    if kind == onnx.AttributeProto.GRAPH:
        _walk(attr.g, listing_ops, Counter(), consts)
        return "<graph>"
    if kind == onnx.AttributeProto.GRAPHS:
        for g in attr.graphs:
            _walk(g, listing_ops, Counter(), consts)
        return "<graphs>"
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return (
            "["
            + ", ".join(
                v.decode("utf-8", "replace") if isinstance(v, bytes) else repr(v) for v in value
            )
            + "]"
        )
    return repr(value)


def tensor_key(t: Any) -> str:
    """``TYPE:storage`` of a stored tensor: storage ``raw`` (raw_data), ``external`` (an
    external data file) or ``typed`` (float_data, int32_data, ... fields). Sentis's importer
    reads some types from some storages only (docs/sentis_operators.json, tensor_types)."""
    import onnx

    if t.data_location == onnx.TensorProto.EXTERNAL:
        storage = "external"
    elif t.HasField("raw_data"):
        storage = "raw"
    else:
        storage = "typed"
    return f"{dtype_name(t.data_type)}:{storage}"


def _walk(graph: Any, ops: dict[str, OpUse], inits: Counter[str], consts: Counter[str]) -> None:
    """Operators of ``graph`` and of any subgraph (If / Loop / Scan bodies) into ``ops``."""
    for init in graph.initializer:
        inits[tensor_key(init)] += 1
    for node in graph.node:
        key = node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}::{node.op_type}"
        use = ops.setdefault(key, OpUse())
        use.count += 1
        for attr in node.attribute:
            value = _attr_value(attr, ops, consts)
            if node.op_type == "Cast" and attr.name == "to":
                value = dtype_name(attr.i)
            use.attributes.setdefault(attr.name, set()).add(value)
            use.set_on[attr.name] += 1


def list_graph(path: Path, root: Path = ROOT) -> Listing:
    import onnx
    from onnx import shape_inference

    model = onnx.load(str(path))
    ops: dict[str, OpUse] = {}
    inits: Counter[str] = Counter()
    consts: Counter[str] = Counter()
    _walk(model.graph, ops, inits, consts)

    # Not strict: an operator shape inference does not know leaves its outputs without a
    # rank, and those are reported as unknown (a problem for check) instead of raising here.
    inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    g = inferred.graph
    infos = {v.name: v for v in [*g.input, *g.output, *g.value_info]}
    for init in g.initializer:
        infos.setdefault(init.name, None)  # rank from dims below

    def rank_of(name: str) -> int | None:
        for init in g.initializer:
            if init.name == name:
                return len(init.dims)
        info = infos.get(name)
        if info is None or not info.type.HasField("tensor_type"):
            return None
        tt = info.type.tensor_type
        return len(tt.shape.dim) if tt.HasField("shape") else None

    def elem_of(name: str) -> str:
        for init in g.initializer:
            if init.name == name:
                return dtype_name(init.data_type)
        info = infos.get(name)
        if info is None or not info.type.HasField("tensor_type"):
            return "?"
        return dtype_name(info.type.tensor_type.elem_type)

    max_rank, max_tensor, unknown = 0, "", []
    names = [i.name for i in g.input] + [init.name for init in g.initializer]
    names += [o for n in g.node for o in n.output if o]
    owner = {o: n.op_type for n in g.node for o in n.output}
    for name in names:
        r = rank_of(name)
        if r is None:
            unknown.append(f"{owner.get(name, 'input')}:{name}")
        elif r > max_rank:
            max_rank, max_tensor = r, name

    casts: Counter[str] = Counter()
    for node in g.node:
        if node.op_type == "Cast":
            to = next(dtype_name(a.i) for a in node.attribute if a.name == "to")
            casts[f"{elem_of(node.input[0])}->{to}"] += 1

    io = {v.name: dtype_name(v.type.tensor_type.elem_type) for v in [*g.input, *g.output]}
    try:
        rel = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        rel = str(path)
    return Listing(
        graph=rel,
        opsets={(o.domain or "ai.onnx"): int(o.version) for o in model.opset_import},
        ops=ops,
        initializer_dtypes=dict(sorted(inits.items())),
        constant_dtypes=dict(sorted(consts.items())),
        io_dtypes=io,
        casts=dict(sorted(casts.items())),
        max_rank=max_rank,
        max_rank_tensor=max_tensor,
        unknown_rank=unknown,
    )


def load_table(path: Path = TABLE) -> dict[str, Any]:
    table: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return table


def _attr_default(spec: dict[str, Any]) -> str:
    return str(spec.get("default", ABSENT))


def _tensor_verdict(table: dict[str, Any], dtype: str, storage: str | None) -> str:
    entry = table["tensor_types"].get(dtype)
    if entry is None:
        return "missing from the table"
    verdict = str(entry["supported"])
    if verdict == "yes" and storage is not None:
        verdict = str(entry["storage"].get(storage, "storage missing from the table"))
    return verdict


def check(listing: Listing, table: dict[str, Any]) -> list[str]:
    """Problems of one graph against the table, each naming the graph and what fails:
    an opset outside the documented range or a domain other than the default one, an
    operator missing from the table or not "yes", an attribute value the table does not mark
    "yes" (where the table lists that attribute's values), an initialiser / constant / graph
    input or output type the table does not mark "yes", a rank above the limit or unknown."""
    g = listing.graph
    limits = table["limits"]
    problems: list[str] = []
    for domain, version in listing.opsets.items():
        if domain not in DEFAULT_DOMAINS:
            problems.append(f"{g}: imports the opset domain {domain!r} (version {version})")
        elif not limits["opset_min"] <= version <= limits["opset_max"]:
            problems.append(
                f"{g}: opset {version} is outside {limits['opset_min']}-{limits['opset_max']}"
            )
    ops_table: dict[str, Any] = table["operators"]
    for op, use in sorted(listing.ops.items()):
        entry = ops_table.get(op)
        if entry is None:
            problems.append(f"{g}: operator {op} is missing from the Sentis table")
            continue
        if entry["supported"] != "yes":
            problems.append(f"{g}: operator {op}: Sentis support is {entry['supported']!r}")
        for name, spec in entry.get("attributes", {}).items():
            values = set(use.attributes.get(name, set()))
            if use.set_on[name] < use.count:  # some nodes leave it at the ONNX default
                values.add(_attr_default(spec))
            for value in sorted(values):
                verdict = spec["values"].get(value, spec.get("other", "missing from the table"))
                if verdict != "yes":
                    problems.append(f"{g}: operator {op} with {name}={value}: {verdict}")
    for what, counts in (
        ("initialiser", listing.initializer_dtypes),
        ("constant", listing.constant_dtypes),
    ):
        for key in counts:
            dtype, _, storage = key.partition(":")
            verdict = _tensor_verdict(table, dtype, storage)
            if verdict != "yes":
                problems.append(f"{g}: {what} of type {dtype} ({storage} data): {verdict}")
    for name, dtype in listing.io_dtypes.items():
        verdict = _tensor_verdict(table, dtype, None)
        if verdict != "yes":
            problems.append(f"{g}: input/output {name} of type {dtype}: {verdict}")
    if listing.max_rank > limits["max_rank"]:
        problems.append(
            f"{g}: tensor {listing.max_rank_tensor} has rank {listing.max_rank} "
            f"(more than {limits['max_rank']})"
        )
    for tensor in listing.unknown_rank:
        problems.append(f"{g}: shape inference gives no rank for {tensor}; check it by hand")
    return problems


def _markdown(listing: Listing) -> str:
    lines = [
        f"### {listing.graph}",
        "",
        f"opsets: {listing.opsets}; max rank {listing.max_rank} ({listing.max_rank_tensor}); "
        f"unknown ranks: {len(listing.unknown_rank)}",
        f"initialisers: {listing.initializer_dtypes}; constants: {listing.constant_dtypes}; "
        f"casts: {listing.casts}",
        f"inputs/outputs: {listing.io_dtypes}",
        "",
        "| operator | count | attributes |",
        "|---|---|---|",
    ]
    for op, use in sorted(listing.ops.items()):
        attrs = "; ".join(f"{a}={'|'.join(sorted(v))}" for a, v in sorted(use.attributes.items()))
        lines.append(f"| {op} | {use.count} | {attrs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the listings as JSON")
    args = parser.parse_args(argv)
    listings = [list_graph(p) for p in shipped_graphs()]
    if args.json:
        print(json.dumps([x.to_json() for x in listings], indent=2))
        return 0
    table = load_table()
    failed = 0
    for x in listings:
        print(_markdown(x))
        problems = check(x, table)
        failed += len(problems)
        print("\n".join(f"- PROBLEM {p}" for p in problems) or "- passes the Sentis check")
        print()
    print(f"Sentis {table['package']['version']}: {failed} problem(s) in {len(listings)} graphs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
