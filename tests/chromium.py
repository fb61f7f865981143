"""Headless Debian chromium for the browser tests, and what they share: processes, ports, the widget.

Chromium runs with the flags that keep it off the network (no background requests, no updates);
a test that needs it is skipped outside CI when it is missing, and fails in CI.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000


def require_chromium() -> None:
    """Skip the calling test module when chromium is missing, except in CI, where that is an error."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing in CI: `make test` installs Debian's chromium as root")
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs it when run as root)",
                    allow_module_level=True)


require_chromium()

from playwright.sync_api import Page  # noqa: E402


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_url(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not answer within {timeout} s")


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group we started, SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Chromium:
    """Headless Debian chromium started by this test (known by its PID), driven over CDP."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(CHROMIUM), "--headless", f"--remote-debugging-port={self.port}",
             f"--user-data-dir={workdir / 'chromium-profile'}", *CHROMIUM_FLAGS, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def endpoint(self) -> str:
        url = f"http://127.0.0.1:{self.port}"
        wait_for_url(f"{url}/json/version", self.process, "chromium")
        return url

    def stop(self) -> None:
        stop_process_group(self.process)


def picture(page: Page) -> bytes:
    """A screenshot of the widget's drawn picture (the feature maps)."""
    return page.locator("img.widget-image").last.screenshot()


def settled_picture(page: Page, previous: bytes, timeout: float = 20) -> bytes:
    """Wait until the picture differs from `previous` and stays the same for 0.5 s; return it."""
    deadline = time.monotonic() + timeout
    last = picture(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        now = picture(page)
        if now == last and now != previous:
            return now
        last = now
    raise AssertionError("the widget's picture did not change and settle after the input changed")


def set_slider(page: Page, degrees: int) -> None:
    """Type a value into the slider's readout (arrow keys do not reach the slider in Notebook 7)."""
    readout = page.locator(".widget-readout").last
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(degrees))
    page.keyboard.press("Enter")


def running_chromium(tmp_path: Path) -> Iterator[Chromium]:
    browser = Chromium(tmp_path)
    try:
        yield browser
    finally:
        browser.stop()
