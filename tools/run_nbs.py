"""Execute notebooks in place, keeping their outputs (plots, printed values) for the docs.

Usage: python tools/run_nbs.py [NOTEBOOK ...]   (default: every notebook in nbs/)
Cells marked `#| eval: false` are skipped, as nbdev does. Stops at the first failing notebook.
"""
import os, sys, time
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbcells import directives, off

for path in [Path(p).resolve() for p in sys.argv[1:]] or sorted(Path(__file__).resolve().parents[1].glob("nbs/[!_]*.ipynb")):
    nb, t0 = read_nb(path), time.time()
    os.chdir(path.parent)
    CaptureShell().run_all(nb, exc_stop=True, preproc=lambda c: off(directives(c)[0], "eval"))
    write_nb(nb, path)
    print(f"{path}: ran in {time.time() - t0:.1f}s")
