"The build tooling: the test runner's checks, the venv set-up, and the CI entry points"
import ast, json, stat, subprocess, sys, textwrap
from pathlib import Path

import pytest

from conftest import ROOT, load_tool

rt, sv = load_tool("run_tests"), load_tool("setup_venv")


def test_snapshot_restore(tmp_path):
    lib = tmp_path / "lib"; (lib / "sub").mkdir(parents=True)
    (lib / "a.py").write_text("a = 1\n"); (lib / "sub" / "b.py").write_text("b = 2\n"); (lib / "c.py").write_text("c\n")
    (lib / "__pycache__").mkdir(); (lib / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    before = rt.snapshot(lib)
    assert sorted(before) == ["a.py", "c.py", "sub/b.py"]
    (lib / "a.py").write_text("a = 2\n"); (lib / "new.py").write_text("n\n"); (lib / "c.py").unlink()
    assert rt.restore(lib, before) == [("a.py", "changed"), ("c.py", "removed"), ("new.py", "added")]
    assert rt.snapshot(lib) == before and not (lib / "new.py").exists()


def test_noqa(tmp_path):
    "The lint step (ruff's pyflakes rules) honours `# noqa` bare or naming the code, and nothing else"
    p = tmp_path / "m.py"
    p.write_text("import a  # noqa\nimport b  # noqa: E402,F401\nimport c  # noqa: E402  (must come after)\nimport d\n")
    assert [(ln, code) for _, ln, code, _ in rt.pyflakes_messages([p])] == [(3, "F401"), (4, "F401")]


def test_pyflakes_messages(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import os\nimport sys  # noqa: F401\nfrom json import *  # noqa: F403\n\ndef f():\n    return undefined_name\n")
    msgs = rt.pyflakes_messages([p])
    codes = sorted(code for _, _, code, _ in msgs)
    assert codes == ["F401", "F405"] or codes == ["F401", "F821"], msgs  # os unused; the undefined (or star-) name
    assert all(ln != 2 for _, ln, _, _ in msgs)


def test_unused_imports_in_notebooks(tmp_path):
    "The lint step finds an import that no cell of a notebook uses, and none that a later cell uses"
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
             for s in ("import os, json\nimport sys", "print(json.dumps(sys.argv))")]
    p = tmp_path / "n.ipynb"
    p.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    msgs = rt.pyflakes_messages([p], select="F401")
    assert [(code, "`os`" in text) for _, _, code, text in msgs] == [("F401", True)], msgs


def test_find_notebooks(tmp_path):
    for name in ["00_a.ipynb", "_skip.ipynb", "sub/01_b.ipynb", "_hidden/c.ipynb", ".ipynb_checkpoints/d.ipynb",
                 "quiet/e.ipynb", "notes.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True); (tmp_path / name).write_text("{}")
    (tmp_path / "quiet" / ".notest").write_text("")
    assert [str(p.relative_to(tmp_path)) for p in rt.find_notebooks(tmp_path)] == ["00_a.ipynb", "sub/01_b.ipynb"]


def test_junit_counts(tmp_path):
    xml = tmp_path / "j.xml"
    xml.write_text('<testsuites><testsuite name="pytest" tests="7" failures="1" errors="1" skipped="2"></testsuite></testsuites>')
    assert rt.junit_counts(xml) == (3, 2, 2)


def test_python_version_check():
    assert not sv.version_ok((3, 9, 18)) and sv.version_ok((3, 10, 0)) and sv.version_ok((3, 12, 1))
    tree = ast.parse(Path(ROOT / "tools" / "setup_venv.py").read_text())
    new = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, (ast.JoinedStr, ast.NamedExpr))]
    assert not new, f"setup_venv.py must parse on old Pythons to print its version message; it uses {new}"


def test_venv_recreation_rule():
    assert not sv.should_recreate(None, (3, 11), True) and not sv.should_recreate((3, 11), (3, 11), True)
    assert sv.should_recreate((3, 12), (3, 11), True) and not sv.should_recreate((3, 12), (3, 11), False)
    assert sv.should_recreate((3, 9), (3, 11), False)


def test_treex_pins_and_install_hash(tmp_path):
    ini = (ROOT / "settings.ini").read_text()
    assert sv.treex_pins(ini) == ["treeo==0.0.10", "treex==0.6.12"]
    with pytest.raises(SystemExit): sv.treex_pins("[DEFAULT]\nrequirements = jax treex==1\n")
    for name in sv.INPUTS: (tmp_path / name).write_text(name)
    h = sv.install_hash(tmp_path, (3, 11))
    assert h == sv.install_hash(tmp_path, (3, 11)) and h != sv.install_hash(tmp_path, (3, 12))
    (tmp_path / "setup.py").write_text("changed")
    assert sv.install_hash(tmp_path, (3, 11)) != h


def test_setup_venv_refuses_old_python(tmp_path):
    "Too old an interpreter gets a clear message and nothing is created (simulated by raising the minimum)"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT / 'tools')!r})
        import setup_venv; setup_venv.MIN_PYTHON = (99, 0); setup_venv.main(["--venv", {str(tmp_path / 'v')!r}])
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert p.returncode == 1 and "needs Python 99.0 or newer" in p.stderr and "PYTHON=" in p.stderr
    assert not (tmp_path / "v").exists()


def test_ci_entry_points():
    ci = ROOT / ".ci" / "run"
    assert ci.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"
    assert "make test" in ci.read_text()
    mk = (ROOT / "Makefile").read_text()
    for target in ("test:", "demo:", "docs:", "docs-check:", "install:"): assert f"\n{target}" in mk
    assert "tools/run_tests.py" in mk and "hamux.demo $(ARGS)" in mk
    wf = ROOT / ".github" / "workflows"
    assert "make test" in (wf / "test.yaml").read_text()
    dep = (wf / "deploy.yaml").read_text()
    assert "make docs" in dep and "nbdev-ci" not in dep and "deploy-pages" in dep
