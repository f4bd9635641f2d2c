"""Execute notebooks in place, keeping their outputs (plots, printed values) for the docs.

Usage: python tools/run_nbs.py [NOTEBOOK ...]   (default: every notebook in nbs/)
Cells marked `#| eval: false` are skipped, as nbdev does. Stops at the first failing cell, whose error is saved with the outputs.
"""
import os, sys, time
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbcells import directives, off

for path in [Path(p).resolve() for p in sys.argv[1:]] or sorted(Path(__file__).resolve().parents[1].glob("nbs/[!_]*.ipynb")):
    nb, t0 = read_nb(path), time.time()
    os.chdir(path.parent)
    try: CaptureShell().run_all(nb, exc_stop=True, preproc=lambda c: off(directives(c)[0], "eval"))
    finally: write_nb(nb, path)   # also on a failure: outputs up to the failing cell, its error too (test_docs reports it)
    print(f"{path}: ran in {time.time() - t0:.1f}s")
