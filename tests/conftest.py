"Shared fixtures for the build and docs tests: the repository root, the tools, and nbdev's processed notebooks"
import importlib.util, json, os, re, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # the tools import their shared helpers (tools/nbcells.py) by name
from nbcells import src as _src  # noqa: E402


def load_tool(name):
    "Import tools/<name>.py as a module (tools/ is a folder of scripts, not a package)"
    spec = importlib.util.spec_from_file_location(f"hamux_tools_{name}", ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def processed_docs(tmp_path_factory):
    "nbdev's processing of every notebook (tools/build_preview.py --proc-only), once, into a folder of its own: (exit code, output, folder)"
    proc = tmp_path_factory.mktemp("docs") / "_proc"
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "build_preview.py"), "--proc-only", "--proc", str(proc)], cwd=ROOT,
                       capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="agg"))
    return p.returncode, p.stdout + p.stderr, proc


def markdown_outputs(proc):
    "{notebook: [text of every text/markdown output]} of the processed notebooks (show_doc's output among them)"
    out = {}
    for p in sorted(Path(proc).rglob("*.ipynb")):
        nb = json.loads(p.read_text(encoding="utf-8"))
        out[str(p.relative_to(proc))] = [_src(o["data"]["text/markdown"]) for c in nb["cells"] if c["cell_type"] == "code"
                                         for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    return out


_HEADING = re.compile(r"^#{2,4}\s+(\S+)\s*$", re.M)


def doc_sections(proc, all_=False):
    "{documented name: markdown of its show_doc section} over all processed notebooks ({name: [sections]} with `all_`)"
    sections = {}
    for texts in markdown_outputs(proc).values():
        for text in texts:
            heads = list(_HEADING.finditer(text))
            for i, m in enumerate(heads):
                end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
                sections.setdefault(m.group(1).replace("\\_", "_"), []).append(text[m.start():end])
    return sections if all_ else {k: v[0] for k, v in sections.items()}


def page_text(proc):
    "All the text of the processed pages: markdown cells, code shown, and text outputs, as one string"
    parts = []
    for p in sorted(Path(proc).rglob("*.ipynb")):
        for c in json.loads(p.read_text(encoding="utf-8"))["cells"]:
            parts.append(_src(c["source"]))
            for o in c.get("outputs", []):
                parts += [_src(o.get("text"))] + [_src(v) for k, v in o.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


@pytest.fixture(scope="session")
def docs(processed_docs):
    "(doc sections by name, markdown outputs by notebook, all page text, all sections by name) of the processed notebooks"
    rc, output, proc = processed_docs
    if not proc.exists(): pytest.fail(f"no _proc/ folder after processing:\n{output[-3000:]}")
    return doc_sections(proc), markdown_outputs(proc), page_text(proc), doc_sections(proc, all_=True)
