"""The rotate-and-watch widget in a real browser: JupyterLab 4 and Notebook 7 in headless Chromium.

Starts a Jupyter server on 127.0.0.1 (fresh config and runtime folders, a token) on a copy of
notebooks/03_feature_maps.ipynb, runs all cells in the browser (the notebook leaves the widget at 90
degrees with the mirror on), moves the widget's slider to 180 and 270 degrees and unticks the mirror,
and checks that the feature-map picture changes and settles.
Screenshots go to tests/artifacts/browser/. The server and the browser are stopped in every outcome.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
NOTEBOOK = "03_feature_maps.ipynb"


class JupyterServer:
    """A jupyter server started by this test, known by its PID, with its log in a file."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log_path = workdir / "server.log"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"),
               "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"), "JUPYTER_DATA_DIR": str(workdir / "data"),
               "JUPYTERLAB_SETTINGS_DIR": str(workdir / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces")}
        env.pop("MPLBACKEND", None)
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                   f"--port={self.port}", f"--ServerApp.token={self.token}",
                   f"--ServerApp.root_dir={workdir / 'notebooks'}", "--expose-app-in-browser",
                   "--JupyterNotebookApp.expose_app_in_browser=True", "--allow-root"]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_ready(self) -> None:
        wait_for_url(self.url("api/status"), self.process, "the jupyter server")

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        stop_process_group(self.process)
        self.log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JupyterServer]:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "notebooks" / NOTEBOOK)
    server = JupyterServer(tmp_path)
    try:
        server.wait_ready()
        yield server
    except BaseException:
        print(f"--- jupyter server log (tail) ---\n{server.log_tail()}")
        raise
    finally:
        server.stop()


def run_all_cells(page: Page, command: str) -> None:
    """Wait for an idle kernel, run all cells through the app's command, wait for the widget."""
    page.wait_for_function(
        "() => window.jupyterapp && [...document.querySelectorAll('.jp-Notebook')].length > 0",
        timeout=TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
            return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""", timeout=TIMEOUT_MS)
    page.evaluate(f"window.jupyterapp.commands.execute('{command}')")
    page.wait_for_selector("img.widget-image", timeout=TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            return panel.sessionContext.session.kernel.status === 'idle'
                && ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
        }""", timeout=TIMEOUT_MS)


def exercise_widget(page: Page, interface: str) -> None:
    """From 90 degrees and the mirror: slider to 180 and 270, mirror off; the picture changes each time."""
    shots = ARTIFACTS / interface
    shots.mkdir(parents=True, exist_ok=True)
    page.locator("img.widget-image").last.scroll_into_view_if_needed()
    current = picture(page)
    page.screenshot(path=str(shots / "0-start.png"))
    status = page.locator(".widget-html-content").last.inner_text()
    assert "g = M R(90°): an element of p4m" in status  # as the notebook leaves it
    steps = [("1-slider-180", lambda: set_slider(page, 180)),
             ("2-slider-270", lambda: set_slider(page, 270)),
             ("3-mirror-off", lambda: page.locator(".widget-checkbox input").last.click())]
    for name, action in steps:
        action()
        new = settled_picture(page, current)
        assert new != current, name
        page.screenshot(path=str(shots / f"{name}.png"))
        current = new
    status = page.locator(".widget-html-content").last.inner_text()
    assert "g = R(270°): an element of p4m" in status


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    yield from running_chromium(tmp_path)


def test_widget_in_jupyterlab_and_notebook_7(server: JupyterServer, chromium: Chromium) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium.endpoint())
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server.url(f"lab/tree/{NOTEBOOK}"))
            run_all_cells(page, "notebook:run-all-cells")
            exercise_widget(page, "jupyterlab")

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server.url(f"notebooks/{NOTEBOOK}"))
            run_all_cells(page, "notebook:run-all-cells")
            exercise_widget(page, "notebook7")
        except BaseException:
            print(f"--- jupyter server log (tail) ---\n{server.log_tail()}")
            print(f"screenshots kept in {ARTIFACTS}")
            raise
