"""Print the index of every function in ONNX Runtime's ``struct OrtApi`` from a header.

    python dotnet_runtime/tools/ort_api_indices.py path/to/onnxruntime_c_api.h [NAME ...]

The runtime (unity/com.assetgen.runtime/Runtime/Onnx.cs) calls the C API through this table by
index, so the indices there must be the ones this prints for the header of the ONNX Runtime it
was written against (ORT_API_VERSION 29, com.github.asus4.onnxruntime 0.4.9). The table only
grows at its end, so an index stays valid in every later version. Each entry of the struct is
one of ``ORT_API2_STATUS(Name, ...)``, ``ORT_API_T(type, Name, ...)``, ``ORT_CLASS_RELEASE(X)``
(-> ReleaseX) or a plain ``(ORT_API_CALL* Name)(...)`` pointer."""

from __future__ import annotations

import re
import sys


def indices(header: str) -> list[str]:
    start = header.index("struct OrtApi {")
    i = header.index("{", start)
    depth = 0
    end = i
    for j in range(i, len(header)):
        if header[j] == "{":
            depth += 1
        elif header[j] == "}":
            depth -= 1
            if depth == 0:
                end = j
                break
    body = header[i + 1 : end]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    body = re.sub(r"//[^\n]*", "", body)
    body = re.sub(r"^\s*#.*$", "", body, flags=re.M)
    names = []
    for raw in (s for s in body.split(";") if s.strip()):
        s = " ".join(raw.split())
        m = re.match(r"ORT_API2_STATUS\(\s*(\w+)", s) or re.match(r"ORT_API_T\([^,]+,\s*(\w+)", s)
        if m:
            names.append(m.group(1))
            continue
        m = re.match(r"ORT_CLASS_RELEASE2?\(\s*(\w+)", s)
        if m:
            names.append("Release" + m.group(1))
            continue
        m = re.search(r"\(\s*ORT_API_CALL\s*\*\s*(\w+)\s*\)", s)
        if m:
            names.append(m.group(1))
            continue
        raise SystemExit(f"cannot read this OrtApi entry: {s[:200]}")
    return names


def main() -> None:
    names = indices(open(sys.argv[1], encoding="utf-8").read())
    wanted = set(sys.argv[2:])
    for k, name in enumerate(names):
        if not wanted or name in wanted:
            print(k, name)


if __name__ == "__main__":
    main()
