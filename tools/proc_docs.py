"""nbdev's notebook processing for the docs (what `nbdev_proc_nbs` does), without Quarto.

Usage: .venv/bin/python tools/proc_docs.py [--force] [--workers 2]

Writes the processed notebooks to `_proc/`: this is where nbdev runs the `show_doc` cells (and adds
them for exported symbols that have none), turns `# Title` + `> summary` into the page's front matter,
hides `#| hide` and exported cells, and links backticked names to their docs. Quarto renders `_proc/`
into the site (`nbdev_docs`); `tools/build_preview.py` renders it without Quarto.

Why not `nbdev_proc_nbs` itself: where Quarto is missing it first tries to install it with `sudo` and
then runs `pip install -e ".[dev]"` with whatever pip is first on PATH. This does the same processing
steps minus that: refresh nbs/nbdev.yml from settings.ini, then nbdev's `proc_nbs`. The sidebar comes
from `tools/make_sidebar.py`; `hamux/_modidx.py` from `nbdev_export`. Exits non-zero when a notebook
fails to process (nbdev prints which cell).
"""
import argparse, os, sys, time, traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from shutil import rmtree

from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.quarto import refresh_quarto_yml
import nbdev.serve as _serve
import nbdev.serve_drv


def proc_docs(force: bool = False, n_workers: int = 2) -> tuple:
    "Process the notebooks that changed (all with `force`) into `_proc/`; return (`_proc` path, {notebook: error})"
    cfg = get_config()
    refresh_quarto_yml()  # nbs/nbdev.yml from settings.ini; keeps an existing nbs/_quarto.yml
    # the same file selection and cache rules as nbdev.serve.proc_nbs, but every notebook is tried and
    # every failure reported (proc_nbs stops at the first)
    cache, path = cfg.config_path / "_proc", Path(cfg.nbs_path)
    files = nbglob(path, func=Path, file_glob="", file_re="")
    for extra in ("_quarto.yml", "_brand.yml"):
        if (path / extra).exists(): files.append(path / extra)
    chk_mtime = max(cfg.config_file.stat().st_mtime, Path(_serve.__file__).stat().st_mtime)
    cache.mkdir(parents=True, exist_ok=True)
    cache_mtime = cache.stat().st_mtime
    if force or cache_mtime < chk_mtime: rmtree(cache); cache.mkdir()
    jobs = [j for j in files.map(_serve._proc_file, mtime=cache_mtime, cache=cache, path=path) if j]
    errors = {}
    if jobs:
        with ProcessPoolExecutor(max(1, n_workers), mp_context=get_context("spawn")) as ex:
            # nbdev's own worker function: the workers' IPython shells replace __main__, so a function
            # defined in this script could not be found there after the first notebook
            futures = [(job, ex.submit(nbdev.serve_drv.main, job)) for job in jobs]
            for job, fut in futures:
                try: fut.result(); continue
                except Exception as e: err = f"{type(e).__name__}: {e}" if str(e) else traceback.format_exc()
                errors[str(job[0].relative_to(cfg.config_path))] = err
                if job[1].exists(): job[1].unlink()  # no stale page for a notebook that no longer processes
    cache.touch()
    return cache, errors


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="process every notebook, not only the changed ones")
    ap.add_argument("--workers", type=int, default=2, help="notebooks processed at the same time")
    args = ap.parse_args()
    t0 = time.time()
    os.environ.setdefault("MPLBACKEND", "agg")
    cache, errors = proc_docs(args.force, args.workers)
    for nb, err in errors.items(): print(f"FAILED {nb}:\n  " + err.strip().replace("\n", "\n  "), file=sys.stderr)
    print(f"processed notebooks into {cache} in {time.time() - t0:.1f}s" + (f"; {len(errors)} failed" if errors else ""))
    sys.exit(1 if errors else 0)
