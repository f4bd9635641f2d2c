"""Write README.md from nbs/index.ipynb (the home page), so that the two cannot drift apart.

Usage: python tools/sync_readme.py [--check]

`nbdev_readme` needs Quarto; this needs only nbdev. Markdown cells are kept, code cells fenced with their text outputs
after them (no images: GitHub would need them as files), by nbdev's directives (tools/nbcells.py); --check exits 1
when README.md differs.
"""
import json, sys
from pathlib import Path

from nbcells import cell_md

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ("<!-- This file is generated from nbs/index.ipynb by tools/sync_readme.py: edit the notebook, "
          "then run `make readme`. -->")


def render(nb) -> str:
    "README.md text for the notebook `nb` (a dict as read from an .ipynb file): the notice after its title"
    blocks = [b for b in (cell_md(c, page=False) for c in nb.get("cells", [])) if b]
    return "\n\n".join(blocks[:1] + [NOTICE] + blocks[1:]) + "\n"


if __name__ == "__main__":
    text, readme = render(json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8"))), ROOT / "README.md"
    if readme.read_text(encoding="utf-8") == text: print(f"{readme} is up to date")
    elif "--check" in sys.argv: sys.exit(f"{readme} differs from nbs/index.ipynb; run `make readme`")
    else: readme.write_text(text, encoding="utf-8"); print(f"wrote {readme}")
