"""Run hamux's whole test suite and end with one line, `N passed, M failed`.

Usage: .venv/bin/python tools/run_tests.py [--workers 2] [--only STEP[,STEP...]] [NOTEBOOK ...]

Run it with the venv's Python (`make test` does). Each of these counts as one test:
- `import`: `import hamux` works from another directory, and imports this checkout;
- `export`: `nbdev_export` leaves `hamux/` unchanged (library and notebooks in sync); if it changed
  anything, the old files are put back and the test fails, naming the files;
- `pyflakes`: pyflakes reports nothing on `hamux/*.py` (a message on a line carrying `# noqa` or
  `# noqa: CODE` with the message's flake8 code, e.g. F401 for a re-exported import, is not counted);
- `notebooks`: every notebook under `nbs/` passes `nbdev_test` (one test each, run 2 at a time, with
  MPLBACKEND=agg); folders and files whose names start with `_` or `.` are skipped, as nbdev does;
then `pytest tests/`, whose passed and failed tests are added to the count.
The exit status is 0 only when nothing failed and at least one test ran.
"""
import argparse, difflib, os, re, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPS = ("import", "export", "pyflakes", "notebooks", "pytest")
NB_TIMEOUT = int(os.environ.get("HAMUX_NB_TIMEOUT", 900))  # seconds per notebook


class Result:
    def __init__(self, name, ok, seconds=0.0, detail=""):
        self.name, self.ok, self.seconds, self.detail = name, ok, seconds, detail


def _tail(text, n=60):
    lines = text.rstrip().splitlines()
    return "\n".join((["..."] if len(lines) > n else []) + lines[-n:])


def _tool(name):
    "Path of a console script of the venv (falls back to PATH)"
    p = BIN / name
    return str(p) if p.exists() else name


def report(r):
    print(f"{'PASS' if r.ok else 'FAIL'}  {r.name}  ({r.seconds:.1f}s)", flush=True)
    if not r.ok and r.detail: print("      " + r.detail.replace("\n", "\n      "), flush=True)
    return r


# ---------------------------------------------------------------- import
def check_import():
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([sys.executable, "-c", "import hamux, pathlib; print(pathlib.Path(hamux.__file__).resolve())"],
                           cwd=d, capture_output=True, text=True)
    name = "import hamux (from another directory)"
    if p.returncode != 0: return Result(name, False, time.time() - t0, _tail(p.stdout + p.stderr))
    where = Path(p.stdout.strip().splitlines()[-1])
    ok = where == ROOT / "hamux" / "__init__.py"
    return Result(name, ok, time.time() - t0, "" if ok else f"imported {where}, not this checkout's {ROOT/'hamux'}")


# ---------------------------------------------------------------- export
def snapshot(folder):
    "{relative path: bytes} of every file under `folder`, caches left out"
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def diff_snapshots(before, after):
    "Sorted list of (path, 'changed'|'added'|'removed')"
    out = [(k, "removed") for k in before if k not in after] + [(k, "added") for k in after if k not in before]
    out += [(k, "changed") for k in before if k in after and before[k] != after[k]]
    return sorted(out)


def restore(folder, before):
    "Put `folder` back to the snapshot `before`: rewrite changed/removed files, delete added ones"
    folder = Path(folder)
    for k, what in diff_snapshots(before, snapshot(folder)):
        p = folder / k
        if what == "added": p.unlink()
        else: p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(before[k])


def check_export():
    t0, lib = time.time(), ROOT / "hamux"
    name = "nbdev_export leaves hamux/ unchanged"
    before = snapshot(lib)
    p = subprocess.run([_tool("nbdev_export")], cwd=ROOT, capture_output=True, text=True)
    changes = diff_snapshots(before, snapshot(lib))
    if p.returncode != 0:
        restore(lib, before)
        return Result(name, False, time.time() - t0, "nbdev_export failed:\n" + _tail(p.stdout + p.stderr))
    if not changes: return Result(name, True, time.time() - t0)
    after = snapshot(lib)
    lines = ["the notebooks and hamux/ are out of sync; run .venv/bin/nbdev_export and review the diff. Files:"]
    lines += [f"  {what}: hamux/{k}" for k, what in changes]
    for k, what in changes[:3]:
        if what != "changed": continue
        a, b = before[k].decode(errors="replace").splitlines(), after[k].decode(errors="replace").splitlines()
        lines += list(difflib.unified_diff(a, b, f"hamux/{k} (before)", f"hamux/{k} (exported)", n=1, lineterm=""))[:40]
    restore(lib, before)
    lines.append("(hamux/ was put back as it was)")
    return Result(name, False, time.time() - t0, "\n".join(lines))


# ---------------------------------------------------------------- pyflakes
# flake8's codes for pyflakes messages, so that `# noqa: F401` works as it does with flake8
FLAKE8_CODES = {
    "UnusedImport": "F401", "ImportShadowedByLoopVar": "F402", "ImportStarUsed": "F403", "LateFutureImport": "F404",
    "ImportStarUsage": "F405", "ImportStarNotPermitted": "F406", "FutureFeatureNotDefined": "F407",
    "MultiValueRepeatedKeyLiteral": "F601", "MultiValueRepeatedKeyVariable": "F602", "TooManyExpressionsInStarredAssignment": "F621",
    "TwoStarredExpressions": "F622", "AssertTuple": "F631", "IsLiteral": "F632", "InvalidPrintSyntax": "F633",
    "IfTuple": "F634", "BreakOutsideLoop": "F701", "ContinueOutsideLoop": "F702", "YieldOutsideFunction": "F704",
    "ReturnOutsideFunction": "F706", "DefaultExceptNotLast": "F707", "DoctestSyntaxError": "F721",
    "ForwardAnnotationSyntaxError": "F722", "RedefinedWhileUnused": "F811", "UndefinedName": "F821",
    "UndefinedExport": "F822", "UndefinedLocal": "F823", "UnusedIndirectAssignment": "F824", "DuplicateArgument": "F831",
    "UnusedVariable": "F841", "UnusedAnnotation": "F842", "RaiseNotImplemented": "F901",
}
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


def noqa_allows(line, code):
    "True when source `line` carries `# noqa` (bare), or `# noqa: ...` listing `code`"
    m = _NOQA.search(line)
    if not m: return False
    if not m.group("codes"): return True
    return code is not None and code.upper() in re.split(r"[,\s]+", m.group("codes").upper())


def pyflakes_messages(paths):
    "pyflakes messages for `paths` as (path, line, code, text), without those silenced by `# noqa`"
    from pyflakes import api, reporter as rep
    class Collect(rep.Reporter):
        def __init__(self): self.msgs = []
        def flake(self, m): self.msgs.append(m)
        def syntaxError(self, filename, msg, lineno, offset, text): self.msgs.append((filename, lineno, "E999", msg))
        def unexpectedError(self, filename, msg): self.msgs.append((filename, 0, "E902", msg))
    out = []
    for path in paths:
        r = Collect(); api.checkPath(str(path), r)
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        for m in r.msgs:
            if isinstance(m, tuple): out.append(m); continue
            code = FLAKE8_CODES.get(type(m).__name__)
            src = lines[m.lineno - 1] if 0 < m.lineno <= len(lines) else ""
            if noqa_allows(src, code): continue
            out.append((str(path), m.lineno, code or "F", m.message % m.message_args))
    return out


def check_pyflakes():
    t0 = time.time()
    paths = sorted((ROOT / "hamux").glob("*.py"))
    msgs = pyflakes_messages(paths)
    detail = "\n".join(f"{Path(p).relative_to(ROOT)}:{ln}: {code} {text}" for p, ln, code, text in msgs)
    return Result(f"pyflakes hamux/*.py ({len(paths)} files)", not msgs, time.time() - t0, detail)


# ---------------------------------------------------------------- notebooks
def find_notebooks(nbs=None):
    "Notebooks nbdev_test would run: under nbs/, skipping `_`/`.`-prefixed files and folders and folders with .notest"
    nbs = Path(nbs or ROOT / "nbs")
    out = []
    for dirpath, dirnames, filenames in os.walk(nbs):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        if (Path(dirpath) / ".notest").exists(): dirnames[:] = []; continue
        out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".ipynb") and not f.startswith(("_", "."))]
    return sorted(out, key=lambda p: str(p.relative_to(nbs)))


def run_notebook(nb):
    t0 = time.time()
    env = dict(os.environ, MPLBACKEND="agg", PYTHONUNBUFFERED="1")
    name = f"notebook {nb.relative_to(ROOT)}"
    try:
        p = subprocess.run([_tool("nbdev_test"), "--path", str(nb), "--n_workers", "0"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=NB_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Result(name, False, time.time() - t0, f"timed out after {NB_TIMEOUT}s (HAMUX_NB_TIMEOUT)")
    out = p.stdout + p.stderr
    ok = p.returncode == 0 and "Success." in out  # nbdev_test says "No files were eligible" and exits 0 otherwise
    return Result(name, ok, time.time() - t0, "" if ok else _tail(out))


# ---------------------------------------------------------------- pytest
def junit_counts(xml_path):
    "(passed, failed, skipped) from a pytest junit XML report; errors count as failed"
    root = ET.parse(xml_path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


def run_pytest():
    "Run pytest on tests/ with its output shown; return (passed, failed, skipped)"
    tests = ROOT / "tests"
    if not tests.exists(): return 0, 0, 0
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", str(tests), "-q", "--tb=short", "-p", "no:cacheprovider", f"--junitxml={xml}", "-o", "junit_family=xunit2"]
        print("+ " + " ".join(cmd[2:]), flush=True)
        rc = subprocess.call(cmd, cwd=ROOT, env=dict(os.environ, MPLBACKEND="agg"))
        if rc == 5: return 0, 0, 0  # no tests collected
        if not xml.exists(): return 0, 1, 0  # pytest itself broke (usage error, crash)
        passed, failed, skipped = junit_counts(xml)
        if rc != 0 and failed == 0: failed = 1  # e.g. an internal error after the report
        return passed, failed, skipped


# ---------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="notebooks run at the same time")
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps among {', '.join(STEPS)}")
    ap.add_argument("notebooks", nargs="*", help="run only these notebooks (default: all)")
    args = ap.parse_args(argv)
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    if bad := [s for s in steps if s not in STEPS]: ap.error(f"unknown step(s) {bad}; choose among {STEPS}")
    t0, results = time.time(), []
    if "import" in steps: results.append(report(check_import()))
    if "export" in steps: results.append(report(check_export()))
    if "pyflakes" in steps: results.append(report(check_pyflakes()))
    if "notebooks" in steps:
        nbs = [Path(p).resolve() for p in args.notebooks] or find_notebooks()
        print(f"running {len(nbs)} notebooks with nbdev_test, {args.workers} at a time", flush=True)
        with ThreadPoolExecutor(max(1, args.workers)) as ex:
            for r in ex.map(run_notebook, nbs): results.append(report(r))
    passed, failed = sum(r.ok for r in results), sum(not r.ok for r in results)
    skipped = 0
    if "pytest" in steps:
        p, f, skipped = run_pytest(); passed += p; failed += f
        if p + f + skipped: print(f"pytest: {p} passed, {f} failed, {skipped} skipped", flush=True)
    bad = [r.name for r in results if not r.ok]
    print(f"\ntotal time {time.time() - t0:.0f}s" + (f"; {skipped} skipped" if skipped else ""))
    if bad: print("failed: " + "; ".join(bad))
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
