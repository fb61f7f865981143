"""The course website (`make book`) and the lecture demo (`make demo`) in headless Chromium.

The site is built from the committed notebooks into a temporary folder and served on 127.0.0.1; every
page must load with no request leaving the machine, its math typeset by the bundled MathJax, its
figures decoded, and no solution code or answer of the instructor's edition on it. The demo page
(Voila) must show the widget and redraw it when the angle goes to 90 and the mirror is ticked.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from chromium import (
    ARTIFACTS,
    TIMEOUT_MS,
    Chromium,
    free_port,
    picture,
    running_chromium,
    set_slider,
    settled_picture,
    stop_process_group,
    wait_for_url,
)
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("book", ROOT / "scripts" / "book.py")
book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book)

LOCAL = ("data:", "blob:", "about:")
TEX_LEFT = re.compile(r"\\[A-Za-z]+|\$\$|\\\(|\\\[|\$[^\s$][^$]*\$")  # TeX commands or $...$ not typeset


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's folder without logging every request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on 127.0.0.1; yields its address."""
    index = book.build(tmp_path_factory.mktemp("book"))
    handler = functools.partial(QuietHandler, directory=str(index.parent))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    yield from running_chromium(tmp_path_factory.mktemp("chromium"))


@pytest.fixture
def page(chromium: Chromium) -> Iterator[tuple[Page, list[str]]]:
    """A browser page and the list of the addresses it requested."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium.endpoint())
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        try:
            yield page, requested
        finally:
            page.close()


def site_pages() -> list[str]:
    """Every page of the site, as a path: the front page, the notebooks, the reference pages."""
    pages = ["index.html", "search.html", "genindex.html"]
    pages += [f"notebooks/{nb.stem}.html" for nb in book.course_notebooks()]
    return pages + [str(Path(p).with_suffix(".html")) for p in book.PAGES if p.endswith(".md")]


def typeset(page: Page) -> None:
    """Wait until MathJax has typeset the page (its queue has run); a page with no math has no MathJax."""
    if page.locator(".math").count() == 0:
        return
    page.wait_for_function("() => window.MathJax && window.MathJax.Hub && window.MathJax.isReady")
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(() => done()))")


def prose(page: Page) -> str:
    """The text a reader sees outside code, outputs, scripts and typeset math."""
    return page.evaluate("""() => {
        const main = document.querySelector('main') || document.body;
        const copy = main.cloneNode(true);
        copy.querySelectorAll('pre, code, script, style, .MathJax, .MathJax_Display, .MathJax_Preview,'
            + ' .highlight, .cell_output').forEach(e => e.remove());
        return copy.innerText;
    }""")


def instructor_only_lines(notebook: Path) -> set[str]:
    """Lines of the solutions and answers that appear nowhere else in the instructor's notebook."""
    nb = nbformat.read(notebook, as_version=4)
    hidden, shown = set(), set()
    for cell in nb.cells:
        answer = book.ANSWER_TAG in cell.metadata.get("tags", [])
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
            if text in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = True
            elif text in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = False
            elif len(text) > 3 and not text.startswith("#"):
                (hidden if answer or inside else shown).add(text)
    return hidden - shown


@pytest.mark.parametrize("path", site_pages())
def test_a_page_of_the_site_reads_offline_with_math_and_figures(site: str, page: tuple[Page, list[str]],
                                                                 path: str) -> None:
    browser_page, requested = page
    response = browser_page.goto(f"{site}/{path}", wait_until="networkidle")
    assert response is not None and response.status == 200, path
    typeset(browser_page)
    away = [url for url in requested if not url.startswith((site, *LOCAL))]
    assert not away, f"{path} requested addresses off this machine: {away}"
    leftover = TEX_LEFT.findall(prose(browser_page))
    assert not leftover, f"{path}: math left untypeset: {leftover[:5]}"
    images = browser_page.evaluate("() => [...document.images].map(i => [i.src.slice(0, 80), i.complete,"
                                   " i.naturalWidth])")
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"{path}: figures not decoded: {broken}"
    if path.startswith("notebooks/"):
        notebook = ROOT / "notebooks" / f"{Path(path).stem}.ipynb"
        text = browser_page.evaluate("() => document.body.innerText")
        lines = {line.strip() for line in text.splitlines()}
        leaked = instructor_only_lines(notebook) & lines
        assert not leaked, f"{path} shows the instructor's solutions or answers: {sorted(leaked)[:5]}"
        assert images, f"{path} has no figure"
        assert browser_page.locator(".MathJax, .MathJax_Display").count() > 0, f"{path} has no typeset math"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """`make demo`'s Voila server on a free port; yields its address."""
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_PATH": str(ROOT / "demo"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    env.pop("MPLBACKEND", None)
    log = (tmp_path / "voila.log").open("w")
    command = [sys.executable, "-m", "voila", str(ROOT / "demo" / "rotate_and_watch.ipynb"),
               "--template=offline", f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_for_url(f"http://127.0.0.1:{port}/", process, "voila")
        yield f"http://127.0.0.1:{port}/"
    except BaseException:
        print((tmp_path / "voila.log").read_text()[-3000:])
        raise
    finally:
        stop_process_group(process)
        log.close()


def test_the_demo_page_shows_the_widget_and_redraws_it(demo: str, page: tuple[Page, list[str]]) -> None:
    browser_page, requested = page
    shots = ARTIFACTS / "demo"
    shots.mkdir(parents=True, exist_ok=True)
    browser_page.goto(demo)
    browser_page.wait_for_selector("img.widget-image", timeout=120_000)
    assert "import torch" not in browser_page.evaluate("() => document.body.innerText")  # no code shown
    current = settled_picture(browser_page, b"")
    browser_page.screenshot(path=str(shots / "0-start.png"))
    set_slider(browser_page, 90)
    current = settled_picture(browser_page, current)
    browser_page.screenshot(path=str(shots / "1-slider-90.png"))
    browser_page.locator(".widget-checkbox input").last.click()
    settled_picture(browser_page, current)
    browser_page.screenshot(path=str(shots / "2-mirror.png"))
    status = browser_page.locator(".widget-html-content").last.inner_text()
    assert "g = M R(90°): an element of p4m" in status, status
    away = [url for url in requested if not url.startswith((demo.rstrip("/"), *LOCAL))]
    assert not away, f"the demo requested addresses off this machine: {away}"
    assert picture(browser_page)
