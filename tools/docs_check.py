"""Open every page of the docs preview in headless Chromium and check that it reads well.

Usage: .venv/bin/python tools/docs_check.py [--site _site] [--out out/docs_check]

Needs Debian's `chromium` and `chromium-driver` (and `libjs-mathjax` for offline math); `make docs-check`
installs them and builds the preview first. The site is served from 127.0.0.1 by a local HTTP server
and nothing else is reached. Chromium is driven through chromedriver's W3C WebDriver HTTP interface
with the standard library alone (no selenium needed). For every page listed in the site's pages.json:
- the window title and the page heading are the expected ones;
- every image finished loading and has a size (the figures are embedded as data: URIs);
- every math span was typeset by MathJax, with no TeX errors (when MathJax is local);
- the sidebar links to every page, and every local link points at an existing page (a link to a
  missing anchor, such as nbdev's link for a backticked private name, is reported as a warning);
- no JavaScript error was raised.
It saves screenshots of the home page and the layers page (the first module page while there is
none) into --out, both the top of the page (NAME.png) and the whole page (NAME-full.png, cut at
8000 px), and a report.txt. Exits 1 if any check failed.
"""
import argparse, base64, functools, http.server, json, shutil, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse, unquote

ROOT = Path(__file__).resolve().parent.parent
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1360,1000"]


def _free_port():
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def serve(folder):
    "Serve `folder` on 127.0.0.1 from a background thread; return (server, base url)"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


class WebDriver:
    "The few W3C WebDriver commands this check needs, spoken to chromedriver over HTTP"
    def __init__(self, chromedriver, chromium, user_data_dir, log_path):
        self.port = _free_port()
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                if self._call("GET", "/status").get("ready"): break
            except (urllib.error.URLError, ConnectionError): pass
            time.sleep(0.1)
        else: raise RuntimeError(f"chromedriver did not start (log: {log_path})")
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "pageLoadStrategy": "normal",
                "goog:chromeOptions": {"binary": chromium, "args": CHROME_ARGS + [f"--user-data-dir={user_data_dir}"]}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r: out = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.read().decode(errors='replace')[:500]}") from None
        return out.get("value", out)

    def cmd(self, method, path, body=None, timeout=60):
        return self._call(method, f"/session/{self.session}{path}", body, timeout)

    def get(self, url): self.cmd("POST", "/url", {"url": url})
    def title(self): return self.cmd("GET", "/title")
    def js(self, script, *args): return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path, full=False, max_height=8000):
        if full:
            w, h = self.js("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            h = min(h, max_height)
            png = self.cmd("POST", "/goog/cdp/execute", {"cmd": "Page.captureScreenshot", "params": {
                "format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}})["data"]
        else: png = self.cmd("GET", "/screenshot")
        Path(path).write_bytes(base64.b64decode(png))

    def quit(self):
        try: self._call("DELETE", f"/session/{self.session}", timeout=20)
        except Exception: pass
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        self.log.close()


PAGE_STATE = """
const imgs = Array.from(document.images).map(i => ({src: i.src.slice(0, 40), ok: i.complete && i.naturalWidth > 0}));
return {
  title: document.title,
  h1: (document.querySelector('h1.title') || {}).textContent || '',
  images: imgs,
  math_spans: document.querySelectorAll('span.math').length,
  math_done: document.documentElement.dataset.mathjax || '',
  math_rendered: document.querySelectorAll('.MathJax_CHTML, mjx-container, .MathJax, .MathJax_SVG').length,
  math_errors: Array.from(document.querySelectorAll('.mjx-merror, mjx-merror, .MathJax_Error')).map(e => e.textContent.slice(0, 80)),
  nav: Array.from(document.querySelectorAll('nav.sidebar a')).map(a => a.href),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  errors: window.__errors || [],
  height: document.documentElement.scrollHeight,
};
"""


def check_page(wd, base, page, manifest, mathjax_local):
    "Open one page; return (problems, warnings, state)"
    wd.get(urljoin(base, page["file"]))
    deadline, state = time.time() + 40, None
    while True:  # wait for MathJax to finish (it marks <html data-mathjax="done">)
        state = wd.js(PAGE_STATE)
        if state["math_done"] or not state["math_spans"] or time.time() > deadline: break
        time.sleep(0.25)
    problems, warnings = [], []
    if state["title"] != page["title"]: problems.append(f"title is {state['title']!r}, expected {page['title']!r}")
    if state["h1"].strip() != page["heading"]: problems.append(f"heading is {state['h1']!r}, expected {page['heading']!r}")
    bad = [i["src"] for i in state["images"] if not i["ok"]]
    if bad: problems.append(f"{len(bad)} images did not load: {bad[:3]}")
    if len(state["images"]) != page["images"]: problems.append(f"{len(state['images'])} images shown, {page['images']} expected")
    if state["math_spans"] and mathjax_local:
        if not state["math_done"]: problems.append("MathJax did not finish typesetting")
        elif state["math_rendered"] < state["math_spans"]:
            problems.append(f"only {state['math_rendered']} of {state['math_spans']} math spans typeset")
    if state["math_errors"]: problems.append(f"TeX errors: {state['math_errors'][:5]}")
    files = {p["file"]: p for p in manifest["pages"]}
    nav_files = {urlparse(u).path.lstrip("/") for u in state["nav"]}
    if nav_files != set(files): problems.append(f"sidebar lists {sorted(nav_files)}, pages are {sorted(files)}")
    for u in state["links"]:
        pu = urlparse(u)
        if not u.startswith(base): continue
        target = unquote(pu.path.lstrip("/")) or "index.html"
        if target not in files: problems.append(f"broken link to {target}"); continue
        if pu.fragment and pu.fragment not in files[target]["ids"]: warnings.append(f"link to a missing anchor: {target}#{pu.fragment}")
    if state["errors"]: problems.append(f"JavaScript errors: {state['errors'][:3]}")
    return list(dict.fromkeys(problems)), sorted(set(warnings)), state


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", default=str(ROOT / "_site"))
    ap.add_argument("--out", default=str(ROOT / "out" / "docs_check"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    args = ap.parse_args(argv)
    site, out = Path(args.site), Path(args.out)
    for exe in (args.chromium, args.chromedriver):
        if not Path(exe).exists(): sys.exit(f"error: {exe} not found: apt-get install chromium chromium-driver")
    if not (site / "pages.json").exists(): sys.exit(f"error: {site}/pages.json missing: run `make docs-preview` first")
    manifest = json.loads((site / "pages.json").read_text())
    mathjax_local = manifest.get("mathjax") == "local"
    out.mkdir(parents=True, exist_ok=True)
    srv, base = serve(site)
    shots = {"index.html"}
    layers = [p for p in manifest["pages"] if Path(p["source"]).stem.split("_", 1)[-1] == "layers"]
    modules = [p for p in manifest["pages"] if p["file"] != "index.html"]
    shots.add((layers or modules or manifest["pages"])[0]["file"])
    lines, failed = [], 0
    with tempfile.TemporaryDirectory() as profile:
        wd = WebDriver(args.chromedriver, args.chromium, profile, out / "chromedriver.log")
        try:
            for page in manifest["pages"]:
                t0 = time.time()
                problems, warnings, state = check_page(wd, base, page, manifest, mathjax_local)
                failed += bool(problems)
                new = [f"{'PASS' if not problems else 'FAIL'}  {page['file']}  title={state['title']!r} images={len(state['images'])} "
                       f"math={state['math_rendered']}/{state['math_spans']} links={len(state['links'])} ({time.time() - t0:.1f}s)"]
                new += [f"      {p}" for p in problems] + [f"      warning: {w}" for w in warnings]
                lines += new; print("\n".join(new), flush=True)
                if page["file"] in shots:
                    name = Path(page["file"]).stem
                    wd.js("window.scrollTo(0, 0)")
                    wd.screenshot(out / f"{name}.png")
                    wd.screenshot(out / f"{name}-full.png", full=True)
                    lines.append(f"      screenshots: {out / (name + '.png')}, {out / (name + '-full.png')}")
                    print(lines[-1], flush=True)
        finally:
            wd.quit(); srv.shutdown()
    if not mathjax_local: lines.append("note: the preview loads MathJax from a CDN; offline the math stays as TeX (apt-get install libjs-mathjax)")
    summary = f"{len(manifest['pages']) - failed} pages passed, {failed} failed"
    (out / "report.txt").write_text("\n".join(lines + [summary]) + "\n")
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
