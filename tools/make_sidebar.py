"""Write nbs/sidebar.yml (the docs' sidebar, read by Quarto and by tools/build_preview.py) from the notebooks present.

Usage: python tools/make_sidebar.py [--check] [--nbs nbs]

Order: index first; then the module notebooks of nbs/ (those with `#| default_exp`) in numeric order
(00_lagrangians, 01_layers, ...); then a section "Examples" with the other top-level notebooks (the
ones that export no module, e.g. 10_classification); then each sub-folder as a section of its own,
its notebooks in the same order; the notebooks numbered 90 and above (99_compat) come last. Files and folders starting with `_` or `.` are left out,
as nbdev does. With --check, nothing is written and the exit status is 1 when nbs/sidebar.yml differs.
"""
import argparse, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_SUFFIXES = (".ipynb", ".qmd")
LAST_FROM = 90  # notebooks numbered from here on (appendices such as 99_compat) go after the sections


def _key(name):
    "Sort key: numbered names by number, then the unnumbered ones by name"
    m = re.match(r"(\d+)[_-]", name)
    return (0, int(m.group(1)), name) if m else (1, 0, name)


def _number(name):
    m = re.match(r"(\d+)[_-]", name)
    return int(m.group(1)) if m else None


def _pages(folder):
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix in PAGE_SUFFIXES
                   and not p.name.startswith(("_", "."))), key=lambda p: _key(p.name))


def _is_module(path):
    "Does the notebook at `path` export a module (a `#| default_exp` line)? .qmd pages count as modules"
    if path.suffix != ".ipynb": return True
    return re.search(r"#\s*\|\s*default_exp\s+\w", path.read_text(encoding="utf-8", errors="replace")) is not None


def _section_title(name):
    return re.sub(r"^\d+[_-]", "", name).replace("_", " ").strip().capitalize()


def sidebar_entries(nbs) -> list:
    "The sidebar's contents: paths relative to `nbs`, and {'section': title, 'contents': [...]} for sub-folders"
    nbs = Path(nbs)
    top = _pages(nbs)
    index = [p for p in top if p.stem == "index"]
    main = [p for p in top if p.stem != "index" and (_number(p.name) is None or _number(p.name) < LAST_FROM)]
    last = [p for p in top if p.stem != "index" and _number(p.name) is not None and _number(p.name) >= LAST_FROM]
    modules, examples = [p for p in main if _is_module(p)], [p for p in main if not _is_module(p)]
    out = [p.name for p in index + modules]
    if examples: out.append({"section": "Examples", "contents": [p.name for p in examples]})
    for d in sorted((d for d in nbs.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))), key=lambda d: _key(d.name)):
        pages = [str(p.relative_to(nbs)) for p in sorted(d.rglob("*"), key=lambda p: [_key(x) for x in p.relative_to(d).parts])
                 if p.is_file() and p.suffix in PAGE_SUFFIXES
                 and not any(x.startswith(("_", ".")) for x in p.relative_to(nbs).parts)]
        if pages: out.append({"section": _section_title(d.name), "contents": pages})
    return out + [p.name for p in last]


def sidebar_yaml(entries) -> str:
    "The text of sidebar.yml for `entries`, in the layout nbdev writes"
    lines = ["website:", "  sidebar:", "    contents:"]
    for e in entries:
        if isinstance(e, str): lines.append(f"      - {e}")
        else:
            lines += [f"      - section: {e['section']}", "        contents:"]
            lines += [f"          - {p}" for p in e["contents"]]
    return "\n".join(lines) + "\n"


def flatten(entries) -> list:
    "Every page path of `entries`, in sidebar order"
    return [x for e in entries for x in ([e] if isinstance(e, str) else e["contents"])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare with the existing sidebar.yml")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="the notebooks folder")
    args = ap.parse_args(argv)
    nbs = Path(args.nbs)
    text, path = sidebar_yaml(sidebar_entries(nbs)), nbs / "sidebar.yml"
    old = path.read_text() if path.exists() else None
    if args.check:
        if old == text: return 0
        print(f"{path} is out of date with the notebooks present; run `make sidebar`. Expected:\n{text}")
        return 1
    if old != text: path.write_text(text); print(f"wrote {path}")
    else: print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
