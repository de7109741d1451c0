"""The browser suite's set-up (fixtures and waits imported by each test module): the app served by ``streamlit run``, driven by Playwright in Debian's chromium.

Skipped when chromium or the playwright package is missing, unless E2E_REQUIRED=1 (CI sets it).
CHROMIUM=<path> picks another browser binary; E2E_SHOT_DIR=<dir> keeps a screenshot of the Train page.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REQUIRED = bool(os.environ.get("E2E_REQUIRED"))
if REQUIRED:
    import playwright.sync_api as playwright_sync
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox",  # --no-sandbox: the tests may run as root
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",  # a closed network: no refused calls home
]
if CHROMIUM is None or not Path(CHROMIUM).exists():
    if REQUIRED:
        raise RuntimeError("E2E_REQUIRED is set but no chromium was found (apt-get install -y chromium)")
    pytest.skip("no chromium on PATH (apt-get install -y chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser
SETTLE_MS = 30_000  # ms for what follows a finished run to be drawn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Return once ``/_stcore/health`` answers ok; raise if the server exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)  # polling a process we do not control: it offers nothing to wait on
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, with the tests' data folder and an empty download cache."""
    port, folder = free_port(), tmp_path_factory.mktemp("streamlit")
    env = {**os.environ, "MTL_CACHE_DIR": str(folder / "cache")}  # MTL_DATA_DIR comes from tests/conftest.py
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]
    with open(folder / "server.log", "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, server)
            yield url
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n--- server log ---\n{(folder / 'server.log').read_text()}") from error
        finally:
            stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    """End the server we started, by its PID: SIGTERM, then SIGKILL after 15 s."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, launched headless with a fresh profile."""
    with playwright_sync.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new page in its own context (one Streamlit session), tall enough to show the whole Train page, closed afterwards to stop its polling."""
    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    yield context.new_page()
    context.close()


def ready(page: Any) -> None:
    """Wait until the script run that a load or an action started has finished."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=30_000)


def set_number(page: Any, label: str, value: str) -> None:
    """Type into a number input and commit it (Enter), then wait for the rerun."""
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    ready(page)


def upload(page: Any, url: str, table: Path) -> None:
    """Open the Data page, choose ``table`` in its uploader (one click for a user) and wait for its guessed task."""
    page.goto(f"{url}/data")
    ready(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(table))
    expect(page.get_by_text("Ready: 1 task,")).to_be_visible(timeout=SETTLE_MS)
    ready(page)


def open_train(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)


