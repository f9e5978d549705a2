"""Mono's Unicode normalisation against Python's, code point by code point:

    python dotnet_runtime/tools/nfkc_compare.py

The text driver of the lip sync (LipSyncText.cs, Python: lipsync/text.py) folds a line with
NFKC and a word with NFKD. This compiles a small C# program with Mono's ``mcs``, has it
normalise every code point alone (NFKC and NFKD) with ``string.Normalize``, and counts the
code points where the result differs from Python's ``unicodedata.normalize``; prints the
counts, the lowest differing code point and the differing ones below U+2000.
"""

from __future__ import annotations

import subprocess
import tempfile
import unicodedata
from pathlib import Path

PROGRAM = r"""
using System; using System.IO; using System.Text;
static class Normalise { static void Main(string[] args) {
  var sb = new StringBuilder();
  foreach (var form in new[] { NormalizationForm.FormKC, NormalizationForm.FormKD })
    for (int c = 0; c < 0x110000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      string s = char.ConvertFromUtf32(c), n;
      try { n = s.Normalize(form); } catch (ArgumentException) { n = "?"; }
      if (n == s) continue;
      sb.Append(form == NormalizationForm.FormKC ? "NFKC" : "NFKD");
      sb.Append(' ').Append(c).Append(' ');
      foreach (char u in n) sb.Append(((int)u).ToString("x4"));
      sb.Append('\n');
    }
  File.WriteAllText(args[0], sb.ToString());
} }
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "n.cs").write_text(PROGRAM, "utf-8")
        subprocess.run(["mcs", "-nologo", "-out:" + str(folder / "n.exe"), str(folder / "n.cs")],
                       check=True)
        subprocess.run(["mono", str(folder / "n.exe"), str(folder / "out.txt")], check=True)
        mono: dict[tuple[str, int], str] = {}
        for line in (folder / "out.txt").read_text("utf-8").splitlines():
            form, code, units = line.split(" ")
            mono[(form, int(code))] = units
    print(f"Python's Unicode {unicodedata.unidata_version}")
    for form in ("NFKC", "NFKD"):
        differ = []
        for code in range(0x110000):
            if 0xD800 <= code <= 0xDFFF:
                continue
            text = chr(code)
            normal = unicodedata.normalize(form, text)
            python = normal.encode("utf-16-be").hex() if normal != text else None
            if mono.get((form, code)) != python:
                differ.append(code)
        low = [f"U+{c:04X}" for c in differ if c < 0x2000]
        print(f"{form}: {len(differ)} code points differ; lowest U+{differ[0]:04X}; "
              f"below U+2000: {', '.join(low) or 'none'}; "
              f"U+FB00-FB06 (Latin ligatures): {sum(0xFB00 <= c <= 0xFB06 for c in differ)}")


if __name__ == "__main__":
    main()
