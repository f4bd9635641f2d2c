"""Build a static HTML preview of the docs into _site/ from nbdev's processed notebooks, without Quarto.

Usage: .venv/bin/python tools/build_preview.py [--out _site] [--force] [--proc _proc] [--proc-only]

nbdev processes the changed notebooks into `_proc/` with `nbdev_proc_nbs`'s worker and processors (without its
attempt to install Quarto, and past a failing notebook). Each then becomes one page, named as Quarto names it,
rendered by markdown-it-py with mdit-py-plugins (math, `{target=...}`, `:::` blocks, heading anchors), with the
sidebar of nbs/sidebar.yml, a table of contents and inlined figures; `pages.json` lists the pages for
tools/docs_check.py. MathJax 2 comes from Debian's libjs-mathjax (or $MATHJAX_DIR), else from a CDN. Exits 1
when a notebook failed to process; the other pages are still built.
"""
import argparse, html, json, os, re, shutil, sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.attrs.parse import parse as parse_attrs
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from nbdev.config import get_config
from pygments import formatters, highlight, lexers, util

from nbcells import cell_md, src

ROOT = Path(__file__).resolve().parent.parent
MATHJAX_DIRS = [os.environ.get("MATHJAX_DIR", ""), "/usr/share/javascript/mathjax"]
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@2.7.9/MathJax.js"


def slugify(text):
    "Heading anchor as Quarto/pandoc makes it: lowercase, spaces to '-', only letters, digits, _ - . kept"
    return re.sub(r"^[^a-z]+", "", re.sub(r"[^\w.-]", "", re.sub(r"\s+", "-", text.strip().lower()))) or "section"


def _code(code, lang, attrs=""):
    "Fenced code: `output-NAME` fences are cell outputs, the others highlighted by pygments"
    if lang.startswith("output-"): return f'<pre class="cell-output cell-output-{lang[7:]}">{html.escape(code)}</pre>'
    try: lexer = lexers.get_lexer_by_name({"sh": "bash", "shell": "bash", "": "text"}.get(lang, lang))
    except util.ClassNotFound: lexer = lexers.get_lexer_by_name("text")
    return f'<pre class="highlight"><code class="language-{html.escape(lang or "text")}">{highlight(code, lexer, formatters.HtmlFormatter(nowrap=True))}</code></pre>'


def _div(self, tokens, idx, options, env):
    "`::: {.callout-note title=...}` (or `::: name`) as a div, or as details when `collapse=\"true\"`"
    t, stack, info = tokens[idx], env.setdefault("divs", []), tokens[idx].info.strip()
    if t.nesting == -1: return f"</{stack.pop()}>\n" if stack else ""
    attrs = parse_attrs(info)[1] if info.startswith("{") else {"class": info}
    kind = next((c[8:] for c in attrs.get("class", "").split() if c.startswith("callout-")), "")
    cls, title = html.escape(("callout " if kind else "") + attrs.get("class", "")), html.escape(attrs.get("title") or kind.capitalize())
    stack.append("details" if attrs.get("collapse") == "true" else "div")
    if stack[-1] == "details": return f'<details class="{cls}"><summary>{title or "Details"}</summary>\n'
    return f'<div class="{cls}">' + (f'<p class="callout-title">{title}</p>' if title else "") + "\n"


def _math(tex, opts): return ("\\[{}\\]" if opts["display_mode"] else "\\({}\\)").format(html.escape(tex, quote=False))


def _intraword(state, silent):
    "Underscores between a letter, digit or dot and a letter or digit are text, as in pandoc (`Layer.__call__`)"
    end = state.pos
    while end < state.posMax and state.src[end] == "_": end += 1
    if end in (state.pos, state.posMax) or not state.pos or not re.match(r"[\w.]\w", state.src[state.pos - 1] + state.src[end]): return False
    if not silent: state.pending += state.src[state.pos:end]
    state.pos = end
    return True


MD = (MarkdownIt("commonmark", {"html": True, "highlight": _code}).enable(["table", "strikethrough"])
      .use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True, renderer=_math).use(attrs_plugin).use(container_plugin, name="div", validate=lambda p, *a: bool(p.strip()), render=_div)
      .use(anchors_plugin, min_level=1, max_level=4, slug_func=slugify, permalink=True, permalinkBefore=True, permalinkSymbol="#"))

MD.inline.ruler.before("emphasis", "intraword_underscores", _intraword)
MD.add_render_rule("math_inline_double", lambda self, tokens, idx, options, env: f'<span class="math display">{_math(tokens[idx].content.strip(), {"display_mode": True})}</span>')


def md_to_html(text):
    "(HTML, [(level, id, text) of the h2/h3 headings]) for nbdev/Quarto markdown `text`"
    tokens = MD.parse(text, {})
    toc = [(int(t.tag[1]), t.attrGet("id"), "".join(c.content for c in tokens[i + 1].children if c.type in ("text", "code_inline")).strip())
           for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag in ("h2", "h3")]
    return MD.renderer.render(tokens, MD.options, {}), toc


def rewrite_links(body, page_file, site_url, name_map):
    "Make links to the published site relative to `page_file`, and links to notebooks point at their pages"
    here = os.path.dirname(page_file)
    def sub(m):
        path, _, frag = html.unescape(m.group(1)).partition("#")
        if site_url and (path + "/").startswith(site_url + "/"): path = path[len(site_url) + 1:] or "index.html"
        elif re.match(r"^[a-z][\w+.-]*:|//", path) or not path: return m.group(0)
        else: path = os.path.normpath(os.path.join(here, path))
        new = os.path.relpath(name_map.get(path, path), here or ".") + (f"#{frag}" if frag else "")
        return f'href="{html.escape(new)}"'
    return re.sub(r'\bhref="([^"]*)"', sub, body)


def sidebar_order(nbs):
    "[(notebook path, section or None)] in the order of nbs/sidebar.yml"
    def walk(items, section=None):
        for it in items or []: yield from walk(it.get("contents"), it.get("section")) if isinstance(it, dict) else [(it, section)]
    p = Path(nbs) / "sidebar.yml"
    return list(walk(yaml.safe_load(p.read_text())["website"]["sidebar"]["contents"])) if p.exists() else []


MATHJAX = ("<script type=\"text/x-mathjax-config\">MathJax.Hub.Config({messageStyle:'none', tex2jax:{inlineMath:[['\\\\(','\\\\)']], "
           "displayMath:[['\\\\[','\\\\]']], processEscapes:false}}); MathJax.Hub.Register.StartupHook('End', function()"
           "{document.documentElement.dataset.mathjax='done';});</script><script src=\"{src}?config=TeX-AMS_CHTML\"></script>")


def page_html(site, page, pages, body, toc, mathjax):
    "The HTML page of `page`: site header, sidebar listing `pages`, title, description, body, table of contents"
    here, prefix, nav, sec = os.path.dirname(page["file"]) or ".", "../" * page["file"].count("/"), ["<ul>"], None
    for p in pages:
        if p["section"] != sec: sec = p["section"]; nav.append("</ul>" + (f'<p class="section">{html.escape(sec)}</p>' if sec else "") + "<ul>")
        active = ' class="active" aria-current="page"' if p is page else ""
        nav.append(f'<li><a href="{html.escape(os.path.relpath(p["file"], here))}"{active}>{html.escape(p["title"])}</a></li>')
    toc = "".join(f'<li class="l{lvl}"><a href="#{hid}">{html.escape(text)}</a></li>' for lvl, hid, text in toc)
    mj, esc = MATHJAX.replace("{src}", f"{prefix}mathjax/MathJax.js" if mathjax else MATHJAX_CDN), html.escape
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{esc(page["page_title"])}</title><link rel="stylesheet" href="{prefix}preview.css">\n{mj}\n</head><body>\n<header class="top">'
            f'<a href="{prefix}index.html">{esc(site["title"])}</a><span>{esc(site["description"])}</span></header>\n<div class="layout">'
            f'<nav class="sidebar" aria-label="pages">{"".join(nav)}</ul></nav>\n<main><h1 class="title">{esc(page["title"])}</h1>\n'
            f'<p class="description">{MD.renderInline(page["description"])}</p>\n{body}\n<footer>Preview built from the notebooks in '
            f'<code>nbs/</code> · <a href="{esc(site["repo"])}">source</a></footer></main>\n<nav class="toc" aria-label="on this page">'
            f'<p>On this page</p><ul>{toc}</ul></nav></div>\n</body></html>\n')


def build(proc=ROOT / "_proc", out=ROOT / "_site", nbs=ROOT / "nbs"):
    "Render every notebook of `proc` into a page of `out`; return the manifest written to out/pages.json"
    proc, out, nbs, cfg = Path(proc), Path(out), Path(nbs), get_config()
    site = {"title": cfg.get("title", "docs"), "url": (cfg.get("doc_host", "") + cfg.get("doc_baseurl", "")).rstrip("/"),
            "repo": cfg.get("git_url", ""), "description": cfg.get("description", "")}
    order = sidebar_order(nbs)
    rank, sections, pages = {s: i for i, (s, _) in enumerate(order)}, dict(order), []
    for p in sorted(proc.rglob("*.ipynb")):
        rel = p.relative_to(proc)
        if any(x.startswith((".", "_")) for x in rel.parts): continue
        nb = json.loads(p.read_text(encoding="utf-8"))
        raw = next((src(c["source"]) for c in nb["cells"][:2] if c["cell_type"] == "raw" and src(c["source"]).startswith("---")), "")
        fm = yaml.safe_load(raw.strip().strip("-")) or {} if raw else {}
        title = str(fm.get("title") or p.stem)
        pages.append({"source": str(rel), "file": str(rel.parent / fm.get("output-file", rel.stem + ".html")), "title": title,
                      "page_title": title if title == site["title"] or rel.stem == "index" else f"{title} – {site['title']}",
                      "description": str(fm.get("description") or ""), "section": sections.get(str(rel)), "nb": nb})
    if not pages: sys.exit(f"no processed notebooks in {proc}")
    pages.sort(key=lambda pg: (rank.get(pg["source"], len(rank)), pg["source"]))
    name_map = {str(Path(pg["source"]).with_suffix(ext)): pg["file"] for pg in pages for ext in (".ipynb", ".qmd", ".html")}
    out.mkdir(parents=True, exist_ok=True)
    if (out / "mathjax").is_symlink(): (out / "mathjax").unlink()  # first, so that rglob does not walk into MathJax
    for old in out.rglob("*.html"): old.unlink()
    mathjax = next((Path(d) for d in MATHJAX_DIRS if d and (Path(d) / "MathJax.js").exists()), None)
    if mathjax: (out / "mathjax").symlink_to(mathjax.resolve(), target_is_directory=True)
    css = [Path(__file__).parent / "preview.css"] + [nbs / "styles.css"] * (nbs / "styles.css").exists()  # the project's own styles last
    (out / "preview.css").write_text(formatters.HtmlFormatter().get_style_defs(".highlight") + "".join(p.read_text() for p in css))
    manifest = {"site": site["title"], "mathjax": "local" if mathjax else "cdn", "pages": []}
    for pg in pages:
        body, toc = md_to_html("\n\n".join(cell_md(c) for c in pg.pop("nb")["cells"]))
        body = rewrite_links(body, pg["file"], site["url"], name_map)
        doc = page_html(site, pg, pages, body, toc, mathjax)
        (out / pg["file"]).parent.mkdir(parents=True, exist_ok=True)
        (out / pg["file"]).write_text(doc, encoding="utf-8")
        manifest["pages"].append({"file": pg["file"], "source": pg["source"], "title": pg["page_title"], "heading": pg["title"],
                                  "images": body.count("<img "), "math": body.count('class="math '), "ids": re.findall(r'\bid="([^"]+)"', doc)})
    (out / "pages.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def process(proc=ROOT / "_proc", force=False, n_workers=2):
    "nbdev's processing of each changed notebook into `proc` (every one with `force`); return {notebook: error}"
    import nbdev.serve_drv
    from nbdev.doclinks import nbglob
    from nbdev.processors import FilterDefaults
    nbs, proc, cfg = ROOT / "nbs", Path(proc).resolve(), get_config()
    if force: shutil.rmtree(proc, ignore_errors=True)
    newer = lambda s, d: not d.exists() or d.stat().st_mtime < max(s.stat().st_mtime, cfg.config_file.stat().st_mtime)
    jobs = [(s, proc / s.relative_to(nbs)) for s in nbglob(nbs, as_path=True) if newer(s, proc / s.relative_to(nbs))]
    for s, d in jobs: d.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "agg")
    with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as ex:  # spawn: nbdev's shells replace __main__
        futures = [(s, d, ex.submit(nbdev.serve_drv.main, (s, d, FilterDefaults))) for s, d in jobs]
    errors = {s: f"{type(f.exception()).__name__}: {f.exception()}" for s, d, f in futures if f.exception()}
    for s in errors: (proc / s.relative_to(nbs)).unlink(missing_ok=True)  # no stale page for a notebook that fails
    return {str(s.relative_to(ROOT)): e for s, e in errors.items()}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "_site"), help="folder to write the preview into")
    ap.add_argument("--force", action="store_true", help="process every notebook, not only the changed ones")
    ap.add_argument("--proc", default=str(ROOT / "_proc"), help="folder for the processed notebooks")
    ap.add_argument("--proc-only", action="store_true", help="only process the notebooks")
    args = ap.parse_args()
    os.chdir(ROOT)
    errors = process(args.proc, args.force)
    for nb, err in errors.items(): print(f"FAILED to process {nb} (its page is left out):\n  " + err.replace("\n", "\n  "), file=sys.stderr)
    if not args.proc_only:
        m = build(args.proc, args.out)
        print(f"wrote {len(m['pages'])} pages to {args.out}/ (MathJax: {m['mathjax']}); open {Path(args.out) / 'index.html'}")
    sys.exit(1 if errors else 0)
