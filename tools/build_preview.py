"""Build a static HTML preview of the docs from nbdev's processed notebooks, without Quarto.

Usage: .venv/bin/python tools/build_preview.py [--proc _proc] [--out _site] [--mathjax DIR]

Run `tools/proc_docs.py` first (`make docs-preview` runs both). Every processed notebook in `_proc/`
becomes one page of `--out`, under the file name Quarto would give it (`lagrangians.html`,
`index.html`, ...), so nbdev's cross-links between pages work: links to the published site
(settings.ini's doc_host + doc_baseurl) are made relative. Each page has a sidebar listing every page
in the order of nbs/sidebar.yml, a table of contents, highlighted code, figures embedded as data: URIs,
and math for MathJax. `pages.json` lists the pages for `tools/docs_check.py`.

Why a small renderer of our own rather than pandoc or nbconvert: it needs no package beyond those
hamux already installs (markdown-it-py and pygments come with `rich`), and it follows the nbdev/Quarto
conventions the processed notebooks use and nbconvert ignores: the YAML front matter, cell directives
(`#| echo: false`, `output`, `include`, `code-fold`), `::: {.callout-*}` blocks, `{target=...}` link
attributes, and Quarto's page names and heading anchors.

Math: MathJax 2 from Debian's `libjs-mathjax` (/usr/share/javascript/mathjax, or --mathjax DIR, or
$MATHJAX_DIR) is linked into the site as `mathjax/`, so math renders offline; where it is missing the
pages load MathJax 3 from a CDN, which needs the network (offline, the TeX then stays as written).
"""
import argparse, html, json, os, re, sys
from configparser import ConfigParser
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from pygments import highlight as _pyg_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

ROOT = Path(__file__).resolve().parent.parent
MATHJAX_CANDIDATES = ["/usr/share/javascript/mathjax"]
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*(?::\s*(.*?))?\s*$")


# ---------------------------------------------------------------- markdown, math and Quarto syntax
def _src(x): return "".join(x) if isinstance(x, list) else (x or "")


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE = re.compile(r"""
    (?P<code>(?P<bt>`+)(?:(?!(?P=bt)).)+?(?P=bt))                        # inline code: left alone
  | (?P<dmath>\$\$(?P<dbody>.+?)\$\$)                                       # display math
  | (?<![\\$\w])\$(?P<ibody>[^\s$](?:[^$\n]|\\\$)*?(?<![\s\\]))\$(?![\d$])   # inline math
""", re.S | re.X)


def split_fences(md):
    "List of (is_fenced_code, text) pieces of markdown `md`, in order"
    pieces, buf, fence = [], [], None
    for line in md.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            if buf: pieces.append((False, "".join(buf)))
            buf, fence = [line], m.group(1)
        elif fence is not None:
            buf.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and line.strip() == m.group(1):
                pieces.append((True, "".join(buf))); buf, fence = [], None
        else: buf.append(line)
    if buf: pieces.append((fence is not None, "".join(buf)))
    return pieces


def protect_math(text, maths):
    "Replace `$...$` and `$$...$$` in `text` (code spans excepted) by placeholders; append the TeX to `maths`"
    def sub(m):
        if m.group("code"): return m.group(0)
        display = m.group("dmath") is not None
        maths.append((display, m.group("dbody") if display else m.group("ibody")))
        return f"MATHPH{len(maths) - 1}X"
    return _INLINE.sub(sub, text)


def restore_math(html_text, maths):
    "Put the TeX saved by `protect_math` back, as MathJax-delimited spans"
    def sub(m):
        display, tex = maths[int(m.group(1))]
        tex = html.escape(tex.strip(), quote=False)
        return (f'<span class="math display">\\[{tex}\\]</span>' if display
                else f'<span class="math inline">\\({tex}\\)</span>')
    return re.sub(r"MATHPH(\d+)X", sub, html_text)


def _attrs(s):
    "key=value pairs and .classes of a Quarto attribute block `{...}`"
    kv = dict((k, v1 or v2) for k, v1, v2 in re.findall(r'([\w-]+)=(?:"([^"]*)"|(\S+))', s))
    return kv, re.findall(r"(?:^|\s)\.([\w-]+)", s), (re.findall(r"(?:^|\s)#([\w.:-]+)", s) or [None])[0]


def quarto_to_html_md(text):
    "Turn the Quarto-only syntax of a (fence-free) markdown piece into HTML that markdown-it passes through"
    # [text](url){target="_blank" style="..."}  ->  <a href="url" target=... style=...>text</a>
    def link(m):
        kv, classes, _ = _attrs(m.group(3))
        extra = "".join(f' {k}="{html.escape(v)}"' for k, v in kv.items() if k in ("target", "style", "title"))
        cls = f' class="{" ".join(classes)}"' if classes else ""
        return f'<a href="{html.escape(m.group(2))}"{cls}{extra}>{m.group(1)}</a>'
    text = re.sub(r"\[([^\]\n]*)\]\(([^)\s]+)\)\{([^}\n]*)\}", link, text)
    # headings with attributes: ## Title {#id .class}  ->  ## Title <a id=...>
    def heading(m):
        _, _, hid = _attrs(m.group(3))
        return f"{m.group(1)} {m.group(2).rstrip()}" + (f" HEADINGID{hid}X" if hid else "")
    text = re.sub(r"^(#{1,6})\s+(.*?)\s*\{([^}\n]*)\}\s*$", heading, text, flags=re.M)
    # ::: {.callout-note collapse="true" title="..."}  ...  :::
    out, stack = [], []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\s*:::+\s*\{([^}]*)\}\s*$", line) or re.match(r"^\s*:::+\s*([\w-]+)\s*$", line)
        if m:
            kv, classes, _ = _attrs(m.group(1)) if "{" in line else ({}, [m.group(1)], None)
            kind = next((c for c in classes if c.startswith("callout")), None)
            cls = " ".join(["callout"] * bool(kind) + classes)
            title = kv.get("title") or (kind.split("-", 1)[1].capitalize() if kind and "-" in kind else "")
            if kv.get("collapse") in ("true", "1"):
                out.append(f'\n<details class="{cls}"><summary>{html.escape(title or "Details")}</summary>\n\n'); stack.append("details")
            else:
                out.append(f'\n<div class="{cls}">\n' + (f'<p class="callout-title">{html.escape(title)}</p>\n' if title else "") + "\n")
                stack.append("div")
        elif re.match(r"^\s*:::+\s*$", line) and stack: out.append(f"\n</{stack.pop()}>\n\n")
        else: out.append(line)
    return "".join(out) + "".join(f"\n</{t}>\n" for t in reversed(stack))


def _highlight(code, lang, attrs=""):
    lang = (lang or "").strip().lower()
    try: lexer = get_lexer_by_name({"sh": "bash", "shell": "bash", "": "text"}.get(lang, lang))
    except ClassNotFound: lexer = get_lexer_by_name("text")
    body = _pyg_highlight(code, lexer, HtmlFormatter(nowrap=True))
    return f'<pre class="highlight"><code class="language-{html.escape(lang or "text")}">{body}</code></pre>\n'


_MD = MarkdownIt("commonmark", {"html": True, "highlight": _highlight}).enable(["table", "strikethrough"])


def md_to_html(md):
    "HTML for nbdev/Quarto markdown `md`, math left to MathJax"
    maths, parts = [], []
    for fenced, piece in split_fences(md):
        parts.append(piece if fenced else quarto_to_html_md(protect_math(piece, maths)))
    return restore_math(_MD.render("".join(parts)), maths)


def md_inline(md):
    "HTML for one line of markdown, without the enclosing paragraph"
    maths = []
    return restore_math(_MD.renderInline(protect_math(md, maths)), maths)


# ---------------------------------------------------------------- headings, links
def slugify(text):
    "Heading anchor as Quarto/pandoc makes it: lowercase, spaces to '-', only letters, digits, _ - . kept"
    s = re.sub(r"<[^>]+>", "", html.unescape(text)).strip().lower()
    s = re.sub(r"\s+", "-", s)
    s = re.sub(r"[^\w.-]", "", s)
    return re.sub(r"^[^a-z]+", "", s) or "section"


def add_heading_ids(body):
    "Give every h1-h4 of `body` an id; return (html, [(level, id, text)] of the h2/h3 for the table of contents)"
    used, toc = {}, []
    def sub(m):
        level, inner = int(m.group(1)), m.group(3)
        forced = re.search(r"\s*HEADINGID([\w.:-]+)X", inner)
        if forced: inner = inner[:forced.start()] + inner[forced.end():]
        existing = re.search(r'\bid="([^"]+)"', m.group(2))
        text_only = re.sub(r'<span class="math[^"]*">.*?</span>', "", inner)
        base = forced.group(1) if forced else existing.group(1) if existing else slugify(text_only)
        hid, n = base, used.get(base, 0)
        if n: hid = f"{base}-{n}"
        used[base] = n + 1
        if level in (2, 3): toc.append((level, hid, re.sub(r"<[^>]+>", "", inner).strip()))
        attrs = re.sub(r'\s*\bid="[^"]*"', "", m.group(2))
        return f'<h{level} id="{hid}"{attrs}><a class="anchor" href="#{hid}" aria-hidden="true">#</a>{inner}</h{level}>'
    return re.sub(r"<h([1-4])([^>]*)>(.*?)</h\1>", sub, body, flags=re.S), toc


def rewrite_links(body, page_file, site_url, name_map):
    "Make links to the published site relative to `page_file`, and links to notebooks point at their pages"
    def rel(target):
        return os.path.relpath(target, os.path.dirname(page_file) or ".").replace(os.sep, "/")
    def sub(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        path, frag = (url.split("#", 1) + [""])[:2]
        if site_url and path.startswith(site_url + "/"): path = path[len(site_url) + 1:] or "index.html"
        elif site_url and path in (site_url, site_url + "/"): path = "index.html"
        elif re.match(r"^[a-z][\w+.-]*:", path) or path.startswith("//") or not path: return m.group(0)
        else: path = os.path.normpath(os.path.join(os.path.dirname(page_file), path)).replace(os.sep, "/")
        path = name_map.get(path, path)
        new = rel(path) + (f"#{frag}" if frag else "")
        return f'{attr}="{html.escape(new)}"'
    return re.sub(r'\b(href)="([^"]*)"', sub, body)


# ---------------------------------------------------------------- cells
def split_directives(source):
    "({directive: value}, source without its leading `#|` lines)"
    lines, opts, i = source.splitlines(), {}, 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m: break
        opts[m.group(1).lower()] = (m.group(2) or "true").strip().strip("\"'"); i += 1
    return opts, "\n".join(lines[i:]).strip("\n")


def _false(opts, key): return str(opts.get(key, "")).lower() in ("false", "no", "0")


def render_output(o, asis=False):
    "HTML for one output of a code cell; returns (html, number of images)"
    kind = o.get("output_type")
    if kind == "stream":
        text = _ANSI.sub("", _src(o.get("text")))
        if asis: return md_to_html(text), 0
        return f'<pre class="cell-output cell-output-{o.get("name", "stdout")}">{html.escape(text)}</pre>', 0
    if kind == "error":
        tb = _ANSI.sub("", "\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}")
        return f'<pre class="cell-output cell-output-error">{html.escape(tb)}</pre>', 0
    data = o.get("data", {})
    alt = html.escape(_src(data.get("text/plain", "figure"))[:200])
    if "image/svg+xml" in data: return f'<div class="cell-output cell-output-display">{_src(data["image/svg+xml"])}</div>', 1
    for mime in ("image/png", "image/jpeg", "image/gif"):
        if mime in data:
            b64 = "".join(_src(data[mime]).split())
            return (f'<div class="cell-output cell-output-display"><img src="data:{mime};base64,{b64}" alt="{alt}"></div>', 1)
    if "text/markdown" in data:  # shown as part of the page, as Quarto does with `output: asis` (show_doc's output)
        return f'<div class="cell-output-markdown">{md_to_html(_src(data["text/markdown"]))}</div>', 0
    if "text/html" in data: return f'<div class="cell-output cell-output-display">{_src(data["text/html"])}</div>', 0
    if "text/latex" in data:
        tex = _src(data["text/latex"]).strip().strip("$")
        return f'<div class="cell-output">{md_to_html("$$" + tex + "$$")}</div>', 0
    if "text/plain" in data: return f'<pre class="cell-output cell-output-result">{html.escape(_ANSI.sub("", _src(data["text/plain"])))}</pre>', 0
    return "", 0


def render_cell(cell):
    "HTML for one processed notebook cell; returns (html, number of images)"
    src = _src(cell.get("source"))
    if cell.get("cell_type") == "markdown": return md_to_html(src), 0
    if cell.get("cell_type") != "code": return "", 0
    opts, code = split_directives(src)
    if _false(opts, "include") or "hide" in opts: return "", 0
    parts, n_img = [], 0
    if code.strip() and not _false(opts, "echo"):
        block = _highlight(code, "python")
        fold = str(opts.get("code-fold", "")).lower()
        if fold in ("true", "show"):
            summary = html.escape(opts.get("code-summary", "Code"))
            block = f'<details class="code-fold"{" open" if fold == "show" else ""}><summary>{summary}</summary>{block}</details>'
        parts.append(block)
    if not _false(opts, "output"):
        for o in cell.get("outputs", []):
            h, n = render_output(o, asis=opts.get("output") == "asis")
            parts.append(h); n_img += n
    if not any(parts): return "", 0
    return '<div class="cell">' + "\n".join(p for p in parts if p) + "</div>", n_img


# ---------------------------------------------------------------- pages and site
def front_matter(nb):
    "The YAML front matter nbdev puts in the first raw cell, as a dict"
    for cell in nb.get("cells", [])[:2]:
        src = _src(cell.get("source")).strip()
        if cell.get("cell_type") == "raw" and src.startswith("---"):
            try: return yaml.safe_load(src.strip("-\n")) or {}
            except yaml.YAMLError: return {}
    return {}


def page_file(nb_rel, fm):
    "Output file of the notebook at `nb_rel` (relative to the notebooks folder), as Quarto names it"
    rel = Path(nb_rel)
    name = fm.get("output-file") or rel.with_suffix(".html").name
    return str(rel.parent / name) if str(rel.parent) != "." else name


def site_settings(root=ROOT):
    cfg = ConfigParser(delimiters=["="]); cfg.read(Path(root) / "settings.ini")
    d = cfg["DEFAULT"]
    return {"title": d.get("title", d.get("lib_name", "docs")), "url": (d.get("doc_host", "") + d.get("doc_baseurl", "")).rstrip("/"),
            "repo": d.get("git_url", ""), "description": d.get("description", "")}


def sidebar_order(nbs):
    "[(section or None, notebook path relative to nbs)] from nbs/sidebar.yml"
    p = Path(nbs) / "sidebar.yml"
    if not p.exists(): return []
    contents = ((yaml.safe_load(p.read_text()) or {}).get("website", {}).get("sidebar", {}) or {}).get("contents", []) or []
    out = []
    def walk(items, section):
        for it in items:
            if isinstance(it, str): out.append((section, it))
            elif isinstance(it, dict) and "contents" in it: walk(it["contents"], it.get("section"))
            elif isinstance(it, dict) and "href" in it: out.append((section, it["href"]))
    walk(contents, None)
    return out


def find_mathjax(explicit=None):
    for d in [explicit, os.environ.get("MATHJAX_DIR")] + MATHJAX_CANDIDATES:
        if d and (Path(d) / "MathJax.js").exists(): return Path(d)
    return None


CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --accent:#2c6bc9; --bg-code:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; color:var(--fg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { position:sticky; top:0; z-index:2; background:#2c3e50; color:#fff; padding:.55rem 1.2rem; display:flex; gap:1rem; align-items:center; }
header.top a { color:#fff; font-weight:600; font-size:1.15rem; } header.top span { opacity:.75; font-size:.9rem; }
.layout { display:grid; grid-template-columns: 250px minmax(0,1fr) 220px; gap:2rem; max-width:1400px; margin:0 auto; padding:0 1.2rem; }
nav.sidebar { position:sticky; top:3.2rem; align-self:start; max-height:calc(100vh - 3.5rem); overflow:auto; padding:1.2rem 0; font-size:.95rem; }
nav.sidebar ul { list-style:none; margin:0; padding:0; } nav.sidebar li a { display:block; padding:.22rem .6rem; border-radius:6px; color:var(--fg); }
nav.sidebar li a.active { background:#e7effb; color:var(--accent); font-weight:600; }
nav.sidebar .section { margin:.8rem 0 .2rem .6rem; font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
nav.toc { position:sticky; top:3.2rem; align-self:start; padding:1.2rem 0; font-size:.85rem; max-height:calc(100vh - 3.5rem); overflow:auto; }
nav.toc p { font-weight:600; margin:0 0 .3rem; } nav.toc ul { list-style:none; padding:0; margin:0; } nav.toc li.l3 { padding-left:.9rem; }
nav.toc a { color:var(--muted); display:block; padding:.1rem 0; }
main { padding:1.2rem 0 4rem; min-width:0; }
main h1.title { font-size:2.2rem; margin:.3rem 0 .2rem; } h2 { margin-top:2.2rem; border-bottom:1px solid var(--line); padding-bottom:.2rem; }
h1, h2, h3, h4 { position:relative; } a.anchor { position:absolute; left:-1.1rem; opacity:0; color:var(--muted); font-weight:400; }
h1:hover a.anchor, h2:hover a.anchor, h3:hover a.anchor, h4:hover a.anchor { opacity:1; text-decoration:none; }
pre { background:var(--bg-code); padding:.7rem .9rem; border-radius:6px; overflow-x:auto; font-size:.85rem; line-height:1.45; }
code { font-family: ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.88em; }
:not(pre) > code { background:var(--bg-code); padding:.1em .3em; border-radius:4px; }
.cell { margin:1rem 0; } .cell > pre.highlight { margin-bottom:0; }
pre.cell-output { background:none; border-left:2px solid lightsalmon; border-radius:0; margin:.2rem 0 0 .8rem; }
pre.cell-output-stderr { color:#8a6d3b; } pre.cell-output-error { color:#b3261e; border-left-color:#b3261e; }
.cell-output-display img { max-width:100%; height:auto; display:block; margin:.3rem 0; }
.cell-output-markdown > hr:first-child { border:0; border-top:1px solid var(--line); margin:1.8rem 0 .6rem; }
table { border-collapse:collapse; margin:1rem 0; display:block; overflow-x:auto; } th, td { border:1px solid var(--line); padding:.35rem .6rem; text-align:left; vertical-align:top; }
th { background:var(--bg-code); }
.math.display { display:block; overflow-x:auto; margin:.6rem 0; text-align:center; }
blockquote { margin:1rem 0; padding:.2rem 1rem; border-left:4px solid var(--line); color:var(--muted); }
.callout { border-left:4px solid var(--accent); background:#f3f7fd; padding:.3rem 1rem; margin:1rem 0; border-radius:4px; }
.callout-warning, .callout-caution { border-left-color:#d29922; background:#fdf8ec; } .callout-tip { border-left-color:#1a7f37; background:#eff8f1; }
.callout-title { font-weight:600; margin:.4rem 0; } details > summary { cursor:pointer; font-weight:600; }
details.code-fold > summary { font-weight:400; color:var(--muted); font-size:.9rem; }
footer { color:var(--muted); font-size:.85rem; border-top:1px solid var(--line); margin-top:3rem; padding-top:.8rem; }
@media (max-width: 1100px) { .layout { grid-template-columns: 220px minmax(0,1fr); } nav.toc { display:none; } }
@media (max-width: 720px) { .layout { display:block; } nav.sidebar { position:static; max-height:none; } }
"""


def mathjax_head(mathjax_src, local):
    if local:  # MathJax 2 (Debian's libjs-mathjax)
        return ("<script type=\"text/x-mathjax-config\">MathJax.Hub.Config({messageStyle:'none', "
                "tex2jax:{inlineMath:[['\\\\(','\\\\)']], displayMath:[['\\\\[','\\\\]']], processEscapes:false}, "
                "CommonHTML:{linebreaks:{automatic:false}}});"
                "MathJax.Hub.Register.StartupHook('End', function(){document.documentElement.dataset.mathjax='done';});</script>\n"
                f'<script src="{mathjax_src}?config=TeX-AMS_CHTML"></script>')
    return ("<script>window.MathJax={tex:{inlineMath:[['\\\\(','\\\\)']]}, startup:{pageReady:function(){"
            "return MathJax.startup.defaultPageReady().then(function(){document.documentElement.dataset.mathjax='done';});}}};</script>\n"
            f'<script async src="{mathjax_src}"></script>')


def page_html(site, page, body, toc, nav_html, prefix, mathjax_src, local_mj):
    toc_html = "".join(f'<li class="l{lvl}"><a href="#{hid}">{html.escape(text)}</a></li>' for lvl, hid, text in toc)
    desc = f'<p class="description">{md_inline(page["description"])}</p>' if page.get("description") else ""
    title = page["title"] if page["file"] == "index.html" or page["title"] == site["title"] else f'{page["title"]} – {site["title"]}'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<script>window.__errors=[];window.addEventListener('error',function(e){{window.__errors.push(String(e.message||(e.target&&e.target.src)||e));}},true);</script>
<link rel="stylesheet" href="{prefix}preview.css">
<link rel="stylesheet" href="{prefix}styles.css">
{mathjax_head(mathjax_src, local_mj)}
</head>
<body>
<header class="top"><a href="{prefix}index.html">{html.escape(site["title"])}</a><span>{html.escape(site["description"])}</span></header>
<div class="layout">
<nav class="sidebar" aria-label="pages">{nav_html}</nav>
<main>
<h1 class="title">{html.escape(page["title"])}</h1>
{desc}
{body}
<footer>Preview built from the notebooks in <code>nbs/</code>{f' · <a href="{html.escape(site["repo"])}">source</a>' if site["repo"] else ""}</footer>
</main>
<nav class="toc" aria-label="on this page">{"<p>On this page</p><ul>" + toc_html + "</ul>" if toc else ""}</nav>
</div>
</body>
</html>
"""


def nav_for(pages, current, sections):
    "Sidebar HTML listing every page (sections as headings), with links relative to the page `current`"
    here = os.path.dirname(current["file"]) or "."
    out, cur_sec = ["<ul>"], None
    for p in pages:
        sec = sections.get(p["source"])
        if sec != cur_sec:
            out.append("</ul>" + (f'<p class="section">{html.escape(sec)}</p>' if sec else "") + "<ul>")
            cur_sec = sec
        href = os.path.relpath(p["file"], here).replace(os.sep, "/")
        active = ' class="active" aria-current="page"' if p is current else ""
        out.append(f'<li><a href="{html.escape(href)}"{active}>{html.escape(p["title"])}</a></li>')
    return "".join(out) + "</ul>"


def build(proc=ROOT / "_proc", out=ROOT / "_site", nbs=ROOT / "nbs", mathjax=None, settings_root=ROOT):
    "Render every notebook of `proc` into `out`; return the manifest written to out/pages.json"
    proc, out, nbs = Path(proc), Path(out), Path(nbs)
    site = site_settings(settings_root)
    nb_paths = sorted(p for p in proc.rglob("*.ipynb") if not any(x.startswith((".", "_")) for x in p.relative_to(proc).parts))
    if not nb_paths: raise SystemExit(f"no processed notebooks in {proc}: run tools/proc_docs.py first")
    pages = []
    for p in nb_paths:
        nb = json.loads(p.read_text(encoding="utf-8"))
        fm, rel = front_matter(nb), str(p.relative_to(proc))
        pages.append({"source": rel, "file": page_file(rel, fm), "title": str(fm.get("title") or p.stem),
                      "description": str(fm.get("description") or ""), "nb": nb})
    order = sidebar_order(nbs)
    rank = {src: i for i, (_, src) in enumerate(order)}
    sections = {src: sec for sec, src in order}
    pages.sort(key=lambda pg: (rank.get(pg["source"], len(rank)), pg["source"]))
    name_map = {}
    for pg in pages:
        stem = str(Path(pg["source"]).with_suffix(""))
        for ext in (".ipynb", ".qmd", ".html"): name_map[stem + ext] = pg["file"]
    out.mkdir(parents=True, exist_ok=True)
    for old in out.rglob("*.html"): old.unlink()
    mj_dir = find_mathjax(mathjax)
    link = out / "mathjax"
    if link.is_symlink(): link.unlink()
    if mj_dir and not link.exists(): link.symlink_to(mj_dir.resolve(), target_is_directory=True)
    (out / "preview.css").write_text(CSS + HtmlFormatter().get_style_defs(".highlight"), encoding="utf-8")
    styles = nbs / "styles.css"
    (out / "styles.css").write_text(styles.read_text(encoding="utf-8") if styles.exists() else "", encoding="utf-8")
    manifest = {"site": site["title"], "mathjax": "local" if mj_dir else "cdn", "pages": []}
    for pg in pages:
        body, n_img = [], 0
        for cell in pg["nb"].get("cells", []):
            h, n = render_cell(cell); n_img += n
            if h: body.append(h)
        body_html, toc = add_heading_ids("\n".join(body))
        body_html = rewrite_links(body_html, pg["file"], site["url"], name_map)
        prefix = "../" * pg["file"].count("/")
        mj_src = f"{prefix}mathjax/MathJax.js" if mj_dir else MATHJAX_CDN
        doc = page_html(site, pg, body_html, toc, nav_for(pages, pg, sections), prefix, mj_src, bool(mj_dir))
        dest = out / pg["file"]; dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(doc, encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", doc).group(1)
        manifest["pages"].append({"file": pg["file"], "source": pg["source"], "title": html.unescape(title),
                                  "heading": pg["title"], "images": n_img, "math": body_html.count('class="math '),
                                  "ids": re.findall(r'\bid="([^"]+)"', doc)})
    (out / "pages.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proc", default=str(ROOT / "_proc"), help="processed notebooks (tools/proc_docs.py)")
    ap.add_argument("--out", default=str(ROOT / "_site"), help="folder to write the preview into")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="notebooks folder (for sidebar.yml and styles.css)")
    ap.add_argument("--mathjax", default=None, help="a MathJax 2 folder (default: $MATHJAX_DIR or Debian's libjs-mathjax)")
    args = ap.parse_args(argv)
    m = build(args.proc, args.out, args.nbs, args.mathjax)
    print(f"wrote {len(m['pages'])} pages to {args.out}/ (MathJax: {m['mathjax']}); open {Path(args.out) / 'index.html'}")
    if m["mathjax"] == "cdn":
        print("note: no local MathJax found (Debian: apt-get install libjs-mathjax); pages load it from a CDN")
    return 0


if __name__ == "__main__":
    sys.exit(main())
