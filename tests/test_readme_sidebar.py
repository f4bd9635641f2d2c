"README.md mirrors nbs/index.ipynb, nbs/sidebar.yml lists the notebooks present, and the two generators behave"
import json

from conftest import ROOT, load_tool

sync_readme, make_sidebar = load_tool("sync_readme"), load_tool("make_sidebar")


def test_readme_in_sync_with_index():
    want = sync_readme.render(json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8")))
    have = (ROOT / "README.md").read_text(encoding="utf-8")
    assert have == want, "README.md differs from nbs/index.ipynb: run `make readme` (python tools/sync_readme.py)"


def test_sidebar_in_sync_with_notebooks():
    want = make_sidebar.sidebar_yaml(make_sidebar.sidebar_entries(ROOT / "nbs"))
    have = (ROOT / "nbs" / "sidebar.yml").read_text()
    assert have == want, f"nbs/sidebar.yml does not list the notebooks present: run `make sidebar`. Expected:\n{want}"


def _cell(kind, src, outputs=()):
    c = {"cell_type": kind, "source": src, "metadata": {}}
    if kind == "code": c["outputs"] = list(outputs)
    return c


def test_readme_render_follows_directives():
    out1 = {"output_type": "stream", "name": "stdout", "text": ["printed\n"]}
    out2 = {"output_type": "execute_result", "data": {"text/plain": ["42"]}}
    img = {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": ["<Figure>"]}}
    nb = {"cells": [
        _cell("markdown", "# Title\n> summary"),
        _cell("code", "#| hide\nsecret = 1", [out1]),
        _cell("code", "x = 1\nprint(x)", [out1, img]),
        _cell("code", "#| echo: false\nshown_output_only()", [out2]),
        _cell("code", "#| output: false\nno_output()", [out1]),
        _cell("code", "#| include: false\nnothing()", [out1]),
        _cell("markdown", "Some **text** with $x^2$."),
    ]}
    text = sync_readme.render(nb)
    assert text.startswith("# Title\n> summary\n\n<!-- This file is generated")
    assert "secret" not in text and "nothing()" not in text and "shown_output_only" not in text
    assert "```python\nx = 1\nprint(x)\n```\n\n```\nprinted\n```" in text
    assert "```\n42\n```" in text and "no_output()" in text and text.count("printed") == 1
    assert "<Figure>" not in text and "AAAA" not in text
    assert text.endswith("Some **text** with $x^2$.\n")


def test_sidebar_order(tmp_path):
    module = json.dumps({"cells": [{"cell_type": "code", "source": ["#| default_exp x\n"]}]})
    for name in ["99_compat.ipynb", "index.ipynb", "12_training.ipynb", "02_synapses.ipynb", "00_lagrangians.ipynb",
                 "11_demo_b.ipynb", "10_demo_a.ipynb", "_hidden.ipynb", "notes.txt", "tutorials/02_b.ipynb",
                 "tutorials/01_a.ipynb", "_private/x.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(module if name[:2] in ("00", "02", "12", "99") else "{}")
    entries = make_sidebar.sidebar_entries(tmp_path)
    assert entries == ["index.ipynb", "00_lagrangians.ipynb", "02_synapses.ipynb", "12_training.ipynb",
                       {"section": "Examples", "contents": ["10_demo_a.ipynb", "11_demo_b.ipynb"]},
                       {"section": "Tutorials", "contents": ["tutorials/01_a.ipynb", "tutorials/02_b.ipynb"]}, "99_compat.ipynb"]
    assert make_sidebar.sidebar_yaml(entries).splitlines()[:4] == ["website:", "  sidebar:", "    contents:", "      - index.ipynb"]
    assert "      - section: Tutorials\n        contents:\n          - tutorials/01_a.ipynb\n" in make_sidebar.sidebar_yaml(entries)
    assert make_sidebar.main(["--nbs", str(tmp_path), "--check"]) == 1
    assert make_sidebar.main(["--nbs", str(tmp_path)]) == 0 and make_sidebar.main(["--nbs", str(tmp_path), "--check"]) == 0
