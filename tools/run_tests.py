"""Run hamux's whole test suite and end with one line, `N passed, M failed`.

Usage: .venv/bin/python tools/run_tests.py [--workers 2] [--only STEP[,STEP...]] [NOTEBOOK ...]

One test each: `import` (`import hamux` from elsewhere imports this checkout), `export` (`nbdev_export` leaves
hamux/ unchanged, else it is put back), `pyflakes` (`ruff check --select F` finds nothing in hamux/*.py, nor unused
imports in the notebooks), and `notebooks` (`nbdev_test` passes on each notebook it picks outside folders holding
`.notest`, 2 at a time); then `pytest tests/` adds its counts. The exit status is 0 only when nothing failed and something ran.
"""
import argparse, json, os, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPS = ("import", "export", "pyflakes", "notebooks", "pytest")
NB_TIMEOUT = int(os.environ.get("HAMUX_NB_TIMEOUT", 900))  # seconds per notebook


def tail(text, n=60): return "\n".join(text.rstrip().splitlines()[-n:])


def sh(*cmd, **kw): return subprocess.run([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), capture_output=True, text=True, **kw)


def check_import():
    with tempfile.TemporaryDirectory() as d:
        p = sh(sys.executable, "-c", "import hamux, pathlib; print(pathlib.Path(hamux.__file__).resolve())", cwd=d)
    if p.returncode: return False, tail(p.stdout + p.stderr)
    where = Path(p.stdout.splitlines()[-1])
    return where == ROOT / "hamux" / "__init__.py", f"imported {where}, not this checkout's {ROOT / 'hamux'}"


def snapshot(folder):
    "{relative path: bytes} of every file under `folder`, caches left out"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def restore(folder, before):
    "Put `folder` back to the snapshot `before`; return what had changed, sorted (path, 'changed'|'added'|'removed')"
    now = snapshot(folder)
    changes = sorted((k, "removed" if k not in now else "added" if k not in before else "changed")
                     for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    for k, what in changes:
        p = Path(folder) / k
        if what == "added": p.unlink()
        else: p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(before[k])
    return changes


def check_export():
    lib = ROOT / "hamux"
    before = snapshot(lib)
    p = sh(BIN / "nbdev_export")
    changes = restore(lib, before)
    if p.returncode: return False, "nbdev_export failed:\n" + tail(p.stdout + p.stderr)
    return not changes, "\n".join(["the notebooks and hamux/ are out of sync (hamux/ was put back as it was); run "
                                   ".venv/bin/nbdev_export and review `git diff hamux/`. Files:"] + [f"  {w}: hamux/{k}" for k, w in changes])


def pyflakes_messages(paths, select="F"):
    "ruff's messages of the rules `select` (pyflakes' by default) for `paths` (.py or .ipynb) as (path, line, code, text); `# noqa` honoured"
    p = sh(BIN / "ruff", "check", "--isolated", "--no-cache", "--select", select, "--output-format", "json", *paths)
    if p.returncode not in (0, 1): return [("ruff", 0, "E902", tail(p.stdout + p.stderr))]
    return [(m["filename"], m["location"]["row"], m["code"] or "E999", m["message"]) for m in json.loads(p.stdout)]


def check_pyflakes():
    msgs = pyflakes_messages(sorted((ROOT / "hamux").glob("*.py"))) + pyflakes_messages(find_notebooks(), select="F401")
    return not msgs, "\n".join(f"{Path(f).relative_to(ROOT)}:{ln}: {code} {text}" for f, ln, code, text in msgs)


def find_notebooks(nbs=None):
    "The notebooks nbdev_test picks under `nbs`, but none below a folder holding `.notest`"
    from nbdev.doclinks import nbglob
    nbs = Path(nbs or ROOT / "nbs").resolve()
    keep = lambda p: not any((nbs / d / ".notest").exists() for d in p.relative_to(nbs).parents)
    return sorted((p for p in nbglob(nbs, as_path=True) if keep(p)), key=lambda p: str(p.relative_to(nbs)))


def run_notebook(nb):
    try: p = sh(BIN / "nbdev_test", "--path", nb, "--n_workers", "0", env=dict(os.environ, MPLBACKEND="agg"), timeout=NB_TIMEOUT)
    except subprocess.TimeoutExpired: return False, f"timed out after {NB_TIMEOUT}s (HAMUX_NB_TIMEOUT)"
    ok = p.returncode == 0 and "Success." in p.stdout  # "No files were eligible" exits 0 too
    return ok, tail(p.stdout + p.stderr)


def junit_counts(xml_path):
    "(passed, failed, skipped) from a pytest junit XML report; errors count as failed"
    root = ET.parse(xml_path).getroot()
    n = lambda k: sum(int(s.get(k, 0)) for s in ([root] if root.tag == "testsuite" else root.iter("testsuite")))
    return n("tests") - n("failures") - n("errors") - n("skipped"), n("failures") + n("errors"), n("skipped")


def run_pytest():
    "Run pytest on tests/ with its output shown; return (passed, failed, skipped)"
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "tests", "-q", "--tb=short", "-p", "no:cacheprovider", f"--junitxml={xml}"]
        print("+ " + " ".join(cmd[2:]), flush=True)
        rc = subprocess.call(cmd, cwd=ROOT, env=dict(os.environ, MPLBACKEND="agg"))
        if rc == 5: return 0, 0, 0  # no tests collected
        if not xml.exists(): return 0, 1, 0  # pytest itself broke
        passed, failed, skipped = junit_counts(xml)
        return passed, max(failed, int(rc != 0)), skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="notebooks run at the same time")
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps among {', '.join(STEPS)}")
    ap.add_argument("notebooks", nargs="*", help="run only these notebooks (default: all)")
    args = ap.parse_args(argv)
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    if set(steps) - set(STEPS): ap.error(f"unknown step(s) {sorted(set(steps) - set(STEPS))}; choose among {STEPS}")
    t0, results = time.time(), []
    def run(name, check):
        t = time.time(); ok, detail = check()
        msg = f"{'PASS' if ok else 'FAIL'}  {name}  ({time.time() - t:.1f}s)"
        print(msg if ok else msg + "\n      " + detail.replace("\n", "\n      "), flush=True)
        results.append((name, ok))
    for step, name in [("import", "import hamux (from another directory)"), ("export", "nbdev_export leaves hamux/ unchanged"),
                       ("pyflakes", "pyflakes rules (ruff) on hamux/*.py, unused imports in nbs/")]:
        if step in steps: run(name, globals()[f"check_{step}"])
    if "notebooks" in steps:
        nbs = [Path(p).resolve() for p in args.notebooks] or find_notebooks()
        print(f"running {len(nbs)} notebooks with nbdev_test, {args.workers} at a time", flush=True)
        with ThreadPoolExecutor(max(1, args.workers)) as ex:
            list(ex.map(lambda nb: run(f"notebook {nb.relative_to(ROOT)}", lambda: run_notebook(nb)), nbs))
    failures = [name for name, ok in results if not ok]
    passed, failed, skipped = len(results) - len(failures), len(failures), 0
    if "pytest" in steps:
        p, f, skipped = run_pytest(); passed += p; failed += f
    print(f"\ntotal time {time.time() - t0:.0f}s" + (f"; {skipped} skipped" if skipped else ""))
    if failures: print("failed: " + "; ".join(failures))
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
