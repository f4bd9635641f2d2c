"""Write README.md from nbs/index.ipynb (the home page), so that the two cannot drift apart.

Usage: python tools/sync_readme.py [--check]

`nbdev_readme` does this with Quarto; this script needs nothing but the standard library, so it runs
everywhere `make test` runs (and `make test` fails when README.md differs from its output). It keeps
the markdown cells as they are, puts code cells in ```python fences and their text outputs (printed
text, plain-text results, markdown results) after them, and follows nbdev's cell directives: cells
marked `#| hide` or `#| include: false` are left out, `#| echo: false` drops the code and keeps the
output, `#| output: false` drops the output. Images are left out (GitHub would need them as files).
"""
import argparse, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ("<!-- This file is generated from nbs/index.ipynb by tools/sync_readme.py: edit the notebook, "
          "then run `make readme`. -->")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*(?::\s*(.*?))?\s*$")


def _src(x): return "".join(x) if isinstance(x, list) else (x or "")


def split_directives(source):
    "({directive: value}, code without its leading `#|` lines); a bare `#| hide` gives {'hide': 'true'}"
    lines, opts, i = source.splitlines(), {}, 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            if lines[i].strip() == "" and not opts: i += 1; continue
            break
        opts[m.group(1).lower()] = (m.group(2) or "true").strip().lower(); i += 1
    return opts, "\n".join(lines[i:]).strip("\n")


def _false(opts, key): return opts.get(key) in ("false", "no", "0")


def _fence(text, lang=""):
    ticks = "```"
    while ticks in text: ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def render_outputs(outputs):
    "Markdown for the text outputs of a code cell"
    out = []
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream" and o.get("name", "stdout") == "stdout":
            text = _ANSI.sub("", _src(o.get("text")))
            if text.strip(): out.append(_fence(text))
        elif kind in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "text/markdown" in data: out.append(_src(data["text/markdown"]).strip())
            elif "text/plain" in data and not any(k.startswith("image/") for k in data):
                out.append(_fence(_ANSI.sub("", _src(data["text/plain"]))))
    return out


def render(nb) -> str:
    "README.md text for the notebook `nb` (a dict as read from an .ipynb file)"
    blocks = []
    for cell in nb.get("cells", []):
        src = _src(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            if src.strip(): blocks.append(src.strip())
            if len(blocks) == 1: blocks.append(NOTICE)  # after the title and summary
        elif cell.get("cell_type") == "code":
            opts, code = split_directives(src)
            if "hide" in opts or _false(opts, "include"): continue
            if code.strip() and not _false(opts, "echo"): blocks.append(_fence(code, "python"))
            if not _false(opts, "output"): blocks += render_outputs(cell.get("outputs", []))
    return "\n\n".join(blocks) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when README.md differs, write nothing")
    ap.add_argument("--nb", default=str(ROOT / "nbs" / "index.ipynb"))
    ap.add_argument("--out", default=str(ROOT / "README.md"))
    args = ap.parse_args(argv)
    text = render(json.loads(Path(args.nb).read_text(encoding="utf-8")))
    out = Path(args.out)
    old = out.read_text(encoding="utf-8") if out.exists() else None
    if args.check:
        if old == text: return 0
        print(f"{out} differs from what {args.nb} gives; run `make readme` (or python tools/sync_readme.py)")
        return 1
    if old != text: out.write_text(text, encoding="utf-8"); print(f"wrote {out}")
    else: print(f"{out} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
