"""Execute notebooks in place, keeping their outputs (plots, printed values) for the docs.

Usage: python tools/run_nbs.py [NOTEBOOK ...]   (default: every notebook in nbs/)
Cells marked `#| eval: false` are skipped, as nbdev does. Stops at the first failing notebook.
"""
import sys, os, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def run_nb(path):
    path = Path(path)
    nb = read_nb(path)
    os.chdir(path.parent.resolve())
    t0 = time.time()
    shell = CaptureShell()
    shell.run_all(nb, exc_stop=True, preproc=lambda c: '#| eval: false' in c.source or '#|eval: false' in c.source)
    write_nb(nb, path.name)
    print(f"{path}: ran in {time.time()-t0:.1f}s")

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((root/"nbs").glob("[!_]*.ipynb"))
    for p in paths: run_nb(p)
