"""Create `.venv` if missing and install the pinned stack and hamux (editable) into it.

Usage: PYTHON tools/setup_venv.py [--venv .venv] [--recreate-if-other-python]

Run by `make install` (and so by `make test`, `make demo`, `make docs`) with the interpreter named by
`make PYTHON=...` (default `python3`). Steps:
1. check that this interpreter is Python 3.10 or newer (a clear message otherwise);
2. create the virtual environment if it is missing; with `--recreate-if-other-python` (make passes it
   when PYTHON was given explicitly) a venv made by another Python version is replaced;
3. unless the stamp file `.venv/.hamux-install` says that nothing changed since the last install:
   upgrade pip (old pips backtrack for many minutes on this stack), then `pip install --no-deps --ignore-requires-python treex==... treeo==...` (pins read from
   settings.ini: their metadata claims Requires-Python <3.11, although they run there), then
   `pip install -e ".[dev]"`, then write the stamp. The stamp records a hash of settings.ini,
   setup.py and pyproject.toml and the Python version, so editing any of them reinstalls.

This file avoids f-strings and other new syntax so that an old interpreter reaches the version check.
"""
import hashlib, os, re, shutil, subprocess, sys

MIN_PYTHON = (3, 10)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAMP_NAME = ".hamux-install"
INPUTS = ("settings.ini", "setup.py", "pyproject.toml")


def fail(msg):
    sys.stderr.write("error: " + msg + "\n")
    sys.exit(1)


def version_ok(version_info):
    "True when `version_info` (a tuple such as sys.version_info) is at least MIN_PYTHON"
    return tuple(version_info[:2]) >= MIN_PYTHON


def treex_pins(settings_text):
    "The `treeo==X` and `treex==Y` pins of the `requirements` line of settings.ini"
    try: from configparser import ConfigParser
    except ImportError: fail("this Python is too old to read settings.ini")
    cfg = ConfigParser(delimiters=["="])
    cfg.read_string(settings_text)
    reqs = cfg["DEFAULT"].get("requirements", "").split()
    pins = sorted(r for r in reqs if re.match(r"tree[xo]==", r))
    if [p.split("==")[0] for p in pins] != ["treeo", "treex"]:
        fail("settings.ini must pin treex==... and treeo==... once each in `requirements`, found %r" % pins)
    return pins


def install_hash(root, version_info):
    "Hash of the files that decide what gets installed, and of the Python version"
    h = hashlib.sha256(("python %d.%d" % tuple(version_info[:2])).encode())
    for name in INPUTS:
        path = os.path.join(root, name)
        h.update(name.encode())
        if os.path.exists(path):
            with open(path, "rb") as f: h.update(f.read())
    return h.hexdigest()


def should_recreate(old, here, explicit):
    "Replace a venv of Python `old` when running Python `here`? Yes if PYTHON was `explicit`, or `old` is too old"
    return old is not None and old != here and (explicit or not version_ok(old))


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def venv_version(venv):
    "The major.minor version of the venv's Python as a tuple, read from pyvenv.cfg (None if unknown)"
    cfg = os.path.join(venv, "pyvenv.cfg")
    if not os.path.exists(cfg): return None
    with open(cfg) as f:
        for line in f:
            m = re.match(r"\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", line)
            if m: return (int(m.group(1)), int(m.group(2)))
    return None


def run(cmd):
    print("+ " + " ".join(cmd)); sys.stdout.flush()
    rc = subprocess.call(cmd, cwd=ROOT)
    if rc != 0: fail("command failed with exit code %d: %s" % (rc, " ".join(cmd)))


def main(argv):
    venv = ".venv"
    recreate = "--recreate-if-other-python" in argv
    if "--venv" in argv: venv = argv[argv.index("--venv") + 1]
    venv = os.path.join(ROOT, venv)
    if not version_ok(sys.version_info):
        fail("hamux needs Python %d.%d or newer, but %s is Python %d.%d. Run make with PYTHON set to a newer "
             "interpreter, e.g. `make test PYTHON=python3.11`." % (MIN_PYTHON + (sys.executable,) + tuple(sys.version_info[:2])))
    here = tuple(sys.version_info[:2])
    if should_recreate(venv_version(venv) if os.path.exists(venv) else None, here, recreate):
        print("%s was made with Python %d.%d; recreating it with %s (Python %d.%d)"
              % ((venv,) + venv_version(venv) + (sys.executable,) + here))
        shutil.rmtree(venv)
    if not os.path.exists(venv_python(venv)):
        print("creating %s with %s (Python %d.%d)" % ((venv, sys.executable) + here)); sys.stdout.flush()
        import importlib.util
        if importlib.util.find_spec("venv") is None:
            fail("this Python has no `venv` module; on Debian/Ubuntu: apt-get install python3-venv")
        rc = subprocess.call([sys.executable, "-m", "venv", venv])
        if rc != 0 or not os.path.exists(venv_python(venv)):
            if os.path.exists(venv): shutil.rmtree(venv)
            fail("could not create %s; on Debian/Ubuntu install the venv module: apt-get install python3-venv" % venv)
    stamp = os.path.join(venv, STAMP_NAME)
    want = install_hash(ROOT, venv_version(venv) or here)
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == want:
                print("%s is up to date (delete %s to force a reinstall)" % (os.path.relpath(venv, ROOT), os.path.relpath(stamp, ROOT)))
                return
    with open(os.path.join(ROOT, "settings.ini")) as f: pins = treex_pins(f.read())
    py = venv_python(venv)
    pip = [py, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check"]
    # a current pip first: the pip bundled with Python 3.10/3.11 (23.x) backtracks for many minutes over
    # flax/orbax-checkpoint versions that need a newer Python; pip 25+ resolves the same set in seconds
    run(pip + ["--quiet", "--upgrade", "pip"])
    run(pip + ["--quiet", "--no-deps", "--ignore-requires-python"] + pins)
    run(pip + ["--quiet", "-e", ".[dev]"])
    with open(stamp, "w") as f: f.write(want + "\n")
    print("installed hamux and its pinned stack into %s" % os.path.relpath(venv, ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
