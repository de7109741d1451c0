"""One real-browser test: the app served by ``streamlit run``, driven by Playwright in Debian's chromium.

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


def open_train(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)


def test_a_preset_trains_three_epochs_with_a_curve_per_task(app_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(app_url)
    expect(page.get_by_text("Start from a preset")).to_be_visible(timeout=30_000)
    page.locator(".st-key-home-preset-wine-seed button").click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    ready(page)
    set_number(page, "Epochs", "3")
    expect(page).to_have_url(re.compile(r"train\.epochs=3"), timeout=SETTLE_MS)  # the address bar is the link
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    loss_chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Loss by epoch")
    expect(loss_chart.locator(".scatterlayer .trace")).to_have_count(2, timeout=SETTLE_MS)  # quality, good (no val rows)
    expect(page.get_by_text("Test metrics")).to_be_visible(timeout=SETTLE_MS)
    expect(page.get_by_test_id("stPlotlyChart").filter(has_text="good: ROC")).to_have_count(1, timeout=SETTLE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shots = Path(os.environ.get("E2E_SHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "train_page.png"), full_page=True)


def test_a_share_link_opens_the_same_settings_in_another_browser(app_url: str, browser: Any) -> None:
    first, second = (browser.new_context(viewport={"width": 1280, "height": 2000}) for _ in range(2))
    try:
        page = first.new_page()
        open_train(page, f"{app_url}/train")
        menu = page.get_by_role("combobox", name="Weighting strategy")
        menu.click()
        menu.fill("gradnorm")
        page.get_by_role("option", name="gradnorm (loss)").click()
        expect(page.get_by_label("Alpha", exact=True)).to_be_visible(timeout=SETTLE_MS)
        ready(page)
        set_number(page, "Alpha", "0.5")
        set_number(page, "Seed", "5")
        expect(page).to_have_url(re.compile(r"strategy\.alpha=0\.5.*train\.seed=5"), timeout=SETTLE_MS)
        link = page.url

        other = second.new_page()
        open_train(other, link)
        expect(other.get_by_role("combobox", name="Weighting strategy")).to_have_value("gradnorm (loss)")
        expect(other.get_by_label("Alpha", exact=True)).to_have_value("0.5")
        expect(other.get_by_label("Seed", exact=True)).to_have_value("5")
        expect(other.get_by_test_id("stException")).to_have_count(0)
    finally:
        first.close()
        second.close()


def test_an_uploaded_csv_becomes_a_task_and_trains(app_url: str, page: Any, tmp_path: Path) -> None:
    table = tmp_path / "plants.csv"
    table.write_text("height,water,sun\n" + "".join(f"{i % 17},{i % 5},{(i % 17) * 0.5 + i % 5}\n"
                                                    for i in range(120)), encoding="utf-8")
    page.goto(f"{app_url}/data")
    ready(page)
    page.get_by_text("Upload a table").click()
    ready(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(table))
    expect(page.get_by_text("Ready: 1 tasks")).to_be_visible(timeout=SETTLE_MS)
    page.get_by_role("button", name="Train on this").click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("plants.csv")).to_be_visible(timeout=SETTLE_MS)
    ready(page)
    set_number(page, "Epochs", "3")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_two_browsers_training_at_once_do_not_see_each_others_runs(app_url: str, browser: Any) -> None:
    first, second = (browser.new_context(viewport={"width": 1280, "height": 2000}) for _ in range(2))
    try:
        long_run, short_run = first.new_page(), second.new_page()
        open_train(long_run, f"{app_url}/train")
        set_number(long_run, "Epochs", "100000")
        long_run.get_by_role("button", name="Start").click()
        expect(long_run.get_by_text(re.compile(r"running: epoch \d+ of 100000"))).to_be_visible(timeout=60_000)

        open_train(short_run, f"{app_url}/train")
        set_number(short_run, "Epochs", "3")
        short_run.get_by_role("button", name="Start").click()
        expect(short_run.get_by_text("completed: epoch 3 of 3")).to_be_visible(timeout=60_000)
        expect(short_run.get_by_text("of 100000")).to_have_count(0)
        expect(long_run.get_by_text(re.compile(r"running: epoch \d+ of 100000"))).to_be_visible()
        long_run.get_by_role("button", name="Stop").click()
        expect(long_run.get_by_text(re.compile(r"stopped: epoch \d+ of 100000"))).to_be_visible(timeout=60_000)
        expect(long_run.get_by_text("of 3,")).to_have_count(0)
    finally:
        first.close()
        second.close()
