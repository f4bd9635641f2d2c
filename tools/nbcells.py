"The tools' one reading of notebook cells: nbdev's directive parser, and each cell as markdown (README, preview)"
import base64, html, re

from fastcore.basics import AttrDict
from nbdev.process import extract_directives, first_code_ln

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def src(x): return "".join(x) if isinstance(x, list) else (x or "")


def directives(cell):
    "({directive: value}, code without the directive lines) of a cell, by nbdev's parser; `#| hide` gives {'hide': ''}"
    code = src(cell.get("source"))
    opts, lines = extract_directives(AttrDict(source=code), remove=False), code.splitlines()
    start = first_code_ln(lines)
    return {k.rstrip(":"): " ".join(v).strip("\"'") for k, v in opts.items()}, "" if start is None else "\n".join(lines[start:]).strip("\n")


def off(opts, key): return opts.get(key, "").lower() in ("false", "no", "0")


def fence(text, lang=""):
    "`text` in a code fence longer than any run of backticks inside it"
    ticks = "`" * max([3] + [len(t) + 1 for t in re.findall("`{3,}", text)])
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def output_md(o, page=True, asis=False):
    "Markdown for one output; for a `page` (not the README) figures, errors and stderr too, fences tagged `output-KIND`"
    data, kind, tag = o.get("data", {}), o.get("output_type"), lambda name: f"output-{name}" * page
    if kind == "stream":
        text = ANSI.sub("", src(o.get("text")))
        if not page and (o.get("name") != "stdout" or not text.strip()): return ""
        return text if asis else fence(text, tag(o.get("name", "stdout")))
    if kind == "error": return fence(ANSI.sub("", "\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}"), tag("error")) * page
    for mime in [m for m in data if m.startswith("image/")][:1]:
        b64 = base64.b64encode(src(data[mime]).encode()).decode() if mime.endswith("xml") else "".join(src(data[mime]).split())
        alt = html.escape(src(data.get("text/plain", "figure"))[:200])
        return f'<div class="cell-output-display"><img src="data:{mime};base64,{b64}" alt="{alt}"></div>' * page
    if "text/markdown" in data:  # shown as part of the page, as Quarto does with `output: asis` (show_doc's output)
        return f'<div class="cell-output-markdown">\n\n{src(data["text/markdown"])}\n\n</div>' if page else src(data["text/markdown"]).strip()
    if page and "text/html" in data: return '<div class="cell-output-display">' + re.sub(r"\n\s*\n", "\n", src(data["text/html"])) + "</div>"
    if page and "text/latex" in data: return "$$" + src(data["text/latex"]).strip().strip("$") + "$$"
    return fence(ANSI.sub("", src(data["text/plain"])), tag("result")) if "text/plain" in data else ""


def cell_md(cell, page=True):
    "Markdown for one cell following nbdev's directives: hide, include, echo, output, code-fold"
    if cell.get("cell_type") != "code": return src(cell.get("source")).strip() if cell.get("cell_type") == "markdown" else ""
    opts, code = directives(cell)
    if "hide" in opts or off(opts, "include"): return ""
    parts = [fence(code, "python")] if code.strip() and not off(opts, "echo") else []
    if page and parts and opts.get("code-fold", "").lower() in ("true", "show"):
        summary = html.escape(opts.get("code-summary", "Code"))
        parts = [f'<details class="code-fold"{" open" * (opts["code-fold"] == "show")}><summary>{summary}</summary>', *parts, "</details>"]
    if not off(opts, "output"): parts += [output_md(o, page, opts.get("output") == "asis") for o in cell.get("outputs", [])]
    parts = [p for p in parts if p.strip()]
    return "\n\n".join(['<div class="cell">', *parts, "</div>"] if page and parts else parts)
