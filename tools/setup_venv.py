"""Create `.venv` if missing and install the pinned stack and hamux (editable) into it.

Usage: PYTHON tools/setup_venv.py [--venv .venv] [--recreate-if-other-python]   (run by `make install`)

Checks this Python is 3.10+; creates the venv (replacing one of another Python with the flag, which make passes
when PYTHON was given); unless the stamp `.venv/.hamux-install` (a hash of settings.ini, setup.py, pyproject.toml,
Python version) is current, upgrades pip (older ones backtrack for minutes here), installs treex and treeo with
`--no-deps --ignore-requires-python` (they claim Python <3.11, but run there), then `pip install -e ".[dev]"`.
"""
import hashlib, os, re, shutil, subprocess, sys
from configparser import ConfigParser

MIN_PYTHON = (3, 10)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUTS = ("settings.ini", "setup.py", "pyproject.toml")


def fail(msg): sys.exit("error: " + msg)  # (no f-strings in this file, so that an old Python reaches the version check)


def version_ok(version_info): return tuple(version_info[:2]) >= MIN_PYTHON


def treex_pins(settings_text):
    "The `treeo==X` and `treex==Y` pins of settings.ini's `requirements`"
    cfg = ConfigParser(delimiters=["="])
    cfg.read_string(settings_text)
    pins = sorted(r for r in cfg["DEFAULT"].get("requirements", "").split() if re.match(r"tree[xo]==", r))
    if [p.split("==")[0] for p in pins] != ["treeo", "treex"]:
        fail("settings.ini must pin treex==... and treeo==... once each in `requirements`, found %r" % pins)
    return pins


def install_hash(root, version_info):
    "Hash of the files that decide what gets installed, and of the Python version"
    h = hashlib.sha256(("python %d.%d" % tuple(version_info[:2])).encode())
    for name in INPUTS:
        h.update(name.encode())
        if os.path.exists(os.path.join(root, name)):
            with open(os.path.join(root, name), "rb") as f: h.update(f.read())
    return h.hexdigest()


def should_recreate(old, here, explicit):
    "Replace a venv of Python `old` when running Python `here`? Yes if PYTHON was `explicit`, or `old` is too old"
    return old is not None and old != here and (explicit or not version_ok(old))


def venv_version(venv):
    "The venv's Python version (major, minor), read from pyvenv.cfg; None if unknown"
    cfg = os.path.join(venv, "pyvenv.cfg")
    m = os.path.exists(cfg) and re.search(r"^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", open(cfg).read(), re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


def run(cmd):
    print("+ " + " ".join(cmd)); sys.stdout.flush()
    if subprocess.call(cmd, cwd=ROOT) != 0: fail("command failed: " + " ".join(cmd))


def main(argv):
    venv = os.path.join(ROOT, argv[argv.index("--venv") + 1] if "--venv" in argv else ".venv")
    here = tuple(sys.version_info[:2])
    if not version_ok(here):
        fail("hamux needs Python %d.%d or newer, but %s is Python %d.%d. Run make with PYTHON set to a newer "
             "interpreter, e.g. `make test PYTHON=python3.11`." % (MIN_PYTHON + (sys.executable,) + here))
    if should_recreate(venv_version(venv), here, "--recreate-if-other-python" in argv):
        print("%s was made with Python %d.%d; recreating it with %s" % ((venv,) + venv_version(venv) + (sys.executable,)))
        shutil.rmtree(venv)
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        print("creating %s with %s (Python %d.%d)" % ((venv, sys.executable) + here)); sys.stdout.flush()
        if subprocess.call([sys.executable, "-m", "venv", venv]) != 0 or not os.path.exists(py):
            if os.path.exists(venv): shutil.rmtree(venv)
            fail("could not create %s; on Debian/Ubuntu install the venv module: apt-get install python3-venv" % venv)
    stamp, want = os.path.join(venv, ".hamux-install"), install_hash(ROOT, venv_version(venv) or here)
    if os.path.exists(stamp) and open(stamp).read().strip() == want:
        return print("%s is up to date (delete %s to force a reinstall)" % (venv, stamp))
    with open(os.path.join(ROOT, "settings.ini")) as f: pins = treex_pins(f.read())
    pip = [py, "-m", "pip", "install", "--quiet", "--progress-bar", "off", "--disable-pip-version-check"]
    run(pip + ["--upgrade", "pip"])
    run(pip + ["--no-deps", "--ignore-requires-python"] + pins)
    run(pip + ["-e", ".[dev]"])
    with open(stamp, "w") as f: f.write(want + "\n")
    print("installed hamux and its pinned stack into " + venv)


if __name__ == "__main__":
    main(sys.argv[1:])
