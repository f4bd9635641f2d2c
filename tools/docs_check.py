"""Open every page of the docs preview in headless Chromium, check that it reads well, and screenshot it.

Usage: .venv/bin/python tools/docs_check.py [--site _site] [--out out/docs_check]   (`make docs-check`)

The site is served from 127.0.0.1 with a probe in each page that records, once MathJax is done, what the browser
shows (`chromium --headless --dump-dom` hands it back). Checked for each page of pages.json: title and heading; all
images loaded, as many as expected; all math typeset without TeX errors (local MathJax); the sidebar lists every
page; local links reach a page and its anchor; no JavaScript error. Screenshots NAME.png (top) and NAME-full.png
(up to 8000 px) and report.txt go to --out.
"""
import argparse, functools, html, http.server, io, json, re, shutil, subprocess, sys, tempfile, threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
PROBE = b"""<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message||(e.target&&e.target.src)||e))},true);
addEventListener('load',function(){var t0=Date.now(),d=document,q=function(s){return Array.from(d.querySelectorAll(s))};(function done(){
if(q('.math').length&&!d.documentElement.dataset.mathjax&&Date.now()-t0<30000)return setTimeout(done,200);
d.body.dataset.check=JSON.stringify({title:d.title,h1:(d.querySelector('h1.title')||{}).textContent||'',
images:q('img').map(function(i){return i.complete&&i.naturalWidth>0}),math:q('.math').length,done:!!d.documentElement.dataset.mathjax,
typeset:q('script[type^="math/tex"],mjx-container').length,texerrors:q('.mjx-merror,mjx-merror,.MathJax_Error').map(function(e){return e.textContent.slice(0,80)}),
nav:q('nav.sidebar a').map(function(a){return a.href}),links:q('a[href]').map(function(a){return a.href}),errors:__errors,height:d.documentElement.scrollHeight})})()});</script>"""


class Probed(http.server.SimpleHTTPRequestHandler):
    "Serves the site, with PROBE added to the head of each page"
    def log_message(self, *a): pass
    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.suffix != ".html" or not path.is_file(): return super().send_head()
        body = path.read_bytes().replace(b"<head>", b"<head>" + PROBE, 1)
        self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        return io.BytesIO(body)


def check_page(state, page, files, mathjax_local):
    "The problems of one page, from what its probe recorded"
    nav = {unquote(urlparse(u).path.lstrip("/")) for u in state["nav"]}
    links = [(unquote(u.path.lstrip("/")) or "index.html", u.fragment) for u in map(urlparse, state["links"]) if u.hostname == "127.0.0.1"]
    checks = [(state["title"] != page["title"], f"title is {state['title']!r}, expected {page['title']!r}"),
              (state["h1"].strip() != page["heading"], f"heading is {state['h1']!r}, expected {page['heading']!r}"),
              (not all(state["images"]), f"{state['images'].count(False)} images did not load"),
              (len(state["images"]) != page["images"], f"{len(state['images'])} images shown, {page['images']} expected"),
              (state["math"] and mathjax_local and not (state["done"] and state["typeset"] >= state["math"]),
               f"MathJax typeset {state['typeset']} of {state['math']} math elements" + ("" if state["done"] else " and did not finish")),
              (state["texerrors"], f"TeX errors: {state['texerrors'][:5]}"),
              (nav != set(files), f"sidebar lists {sorted(nav)}, pages are {sorted(files)}"),
              (state["errors"], f"JavaScript errors: {state['errors'][:3]}")]
    return ([msg for bad, msg in checks if bad] + sorted({f"broken link to {t}" for t, _ in links if t not in files})
            + sorted({f"link to a missing anchor: {t}#{f}" for t, f in links if t in files and f and f not in files[t]["ids"]}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", default=str(ROOT / "_site"))
    ap.add_argument("--out", default=str(ROOT / "out" / "docs_check"))
    args, chromium_exe = ap.parse_args(argv), shutil.which("chromium")
    site, out = Path(args.site), Path(args.out)
    if not chromium_exe: sys.exit("error: chromium not found: apt-get install chromium")
    if not (site / "pages.json").exists(): sys.exit(f"error: {site}/pages.json missing: run `make docs-preview` first")
    manifest = json.loads((site / "pages.json").read_text())
    files, local = {p["file"]: p for p in manifest["pages"]}, manifest["mathjax"] == "local"
    out.mkdir(parents=True, exist_ok=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Probed, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    lines, failed = [], 0
    with tempfile.TemporaryDirectory() as profile:
        def chromium(url, *opts, size=(1360, 1000)):
            return subprocess.run([chromium_exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                   "--disable-background-networking", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                                   "--virtual-time-budget=30000", f"--window-size={size[0]},{size[1]}", *opts, url],
                                  capture_output=True, text=True, timeout=120)
        for page in manifest["pages"]:
            url = urljoin(f"http://127.0.0.1:{srv.server_address[1]}/", page["file"])
            m = re.search(r'data-check="([^"]*)"', chromium(url, "--dump-dom").stdout)
            state = json.loads(html.unescape(m.group(1))) if m else {"height": 1000}
            problems = check_page(state, page, files, local) if m else ["the page did not finish loading"]
            name = str(Path(page["file"]).with_suffix("")).replace("/", "_")
            chromium(url, f"--screenshot={out / name}.png")
            chromium(url, f"--screenshot={out / name}-full.png", size=(1360, min(state["height"], 8000)))
            failed += bool(problems)
            new = [f"{'FAIL' if problems else 'PASS'}  {page['file']}  images={len(state.get('images', []))} "
                   f"math={state.get('typeset', 0)}/{state.get('math', 0)} links={len(state.get('links', []))}; {out / name}.png"]
            new += [f"      {p}" for p in problems]
            lines += new; print("\n".join(new), flush=True)
    if not local: lines.append("note: the preview loads MathJax from a CDN; offline the math stays as TeX (apt-get install libjs-mathjax)")
    summary = f"{len(files) - failed} pages passed, {failed} failed"
    (out / "report.txt").write_text("\n".join(lines + [summary]) + "\n")
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
