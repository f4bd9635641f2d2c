"README.md mirrors nbs/index.ipynb, nbs/sidebar.yml is what `make sidebar` (nbdev_sidebar) makes of the notebooks present"
import contextlib, io, json

import yaml
from nbdev.quarto import nbdev_sidebar

from conftest import ROOT, load_tool

sync_readme = load_tool("sync_readme")


def sidebar_yaml(nbs):
    "The sidebar.yml `make sidebar` (`nbdev_sidebar --force`) writes for the notebooks in `nbs`"
    out = io.StringIO()
    with contextlib.redirect_stdout(out): nbdev_sidebar.__wrapped__(path=nbs, printit=True, force=True)
    return out.getvalue()[:-1]


def test_readme_in_sync_with_index():
    want = sync_readme.render(json.loads((ROOT / "nbs" / "index.ipynb").read_text(encoding="utf-8")))
    have = (ROOT / "README.md").read_text(encoding="utf-8")
    assert have == want, "README.md differs from nbs/index.ipynb: run `make readme` (python tools/sync_readme.py)"


def test_sidebar_in_sync_with_notebooks():
    want = sidebar_yaml(ROOT / "nbs")
    assert (ROOT / "nbs" / "sidebar.yml").read_text() == want, f"nbs/sidebar.yml does not list the notebooks present: run `make sidebar`. Expected:\n{want}"


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
        _cell("code", "#|echo:false\n#| output: False\nneither()", [out2]),
        _cell("markdown", "Some **text** with $x^2$."),
    ]}
    text = sync_readme.render(nb)
    assert text.startswith("# Title\n> summary\n\n<!-- This file is generated")
    assert "secret" not in text and "nothing()" not in text and "shown_output_only" not in text and "neither" not in text
    assert "```python\nx = 1\nprint(x)\n```\n\n```\nprinted\n```" in text
    assert "```\n42\n```" in text and text.count("42") == 1 and "no_output()" in text and text.count("printed") == 1
    assert "<Figure>" not in text and "AAAA" not in text
    assert text.endswith("Some **text** with $x^2$.\n")


def test_sidebar_order(tmp_path):
    for name in ["99_compat.ipynb", "index.ipynb", "12_training.ipynb", "02_synapses.ipynb", "00_lagrangians.ipynb",
                 "11_demo_b.ipynb", "10_demo_a.ipynb", "_hidden.ipynb", "notes.txt", "tutorials/02_b.ipynb",
                 "tutorials/01_a.ipynb", "_private/x.ipynb", ".ipynb_checkpoints/y.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    text = sidebar_yaml(tmp_path)
    assert yaml.safe_load(text)["website"]["sidebar"]["contents"] == [
        "index.ipynb", "00_lagrangians.ipynb", "02_synapses.ipynb", "10_demo_a.ipynb", "11_demo_b.ipynb", "12_training.ipynb",
        "99_compat.ipynb", {"section": "tutorials", "contents": ["tutorials/01_a.ipynb", "tutorials/02_b.ipynb"]}]
    assert text.splitlines()[:4] == ["website:", "  sidebar:", "    contents:", "      - index.ipynb"]
    nbdev_sidebar.__wrapped__(path=tmp_path, force=True)  # what `make sidebar` runs
    assert (tmp_path / "sidebar.yml").read_text() == text
