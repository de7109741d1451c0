"""Load test of a shared demo link: N browser sessions train at once on the real server, some abandon their tab.

``python -m bench.load --sessions 20 --out load.json`` starts ``streamlit run app.py`` (as the browser tests
do, with a run store of its own), opens N sessions in Debian's chromium (one Playwright context each, so one
owner cookie each; with ``--client protocol``, N websocket sessions of its own, see below) and has each press
Start on the Train page at the same moment. Every ``--abandon``-th session starts a long run
(``ABANDONED_EPOCHS``, the server's epoch limit raised for it) and closes its tab once its run is answered; the
others wait for their run to complete. Checked:

- every session is answered (its run's status or its place in the queue shown) within 2 s of the click, timed in
  the page from the click reaching it to the answer drawn (``p50_s``, ``p95_s``); the harness's own time from its
  click command to the answer found is reported beside it (``harness_p50_s``, ``harness_p95_s``); over the
  protocol, both are the time from the click sent to the answer received;
- each abandoned run is stopped in the run store once the server stops hearing from its tab
  (``MTL_DISCONNECT_GRACE_S``, short here);
- no live session's run is lost (each completes, in the page and in the store);
- no page shows another session's run (each run trains a number of epochs no other run has);
- the server's memory (RSS of the server and its children, psutil if installed, else /proc) stays under 3 GB.

Two clients drive the sessions (``--client``):

- ``browser`` (the default): what a person in a tab sees, the page's drawing included. Every tab is a chromium
  renderer on the same cores as the server, so with many sessions on a small machine the figure holds the
  rendering of N tabs at once as much as the server's answer;
- ``protocol``: the server's answer to a click, without any browser. Each session speaks Streamlit's websocket
  protocol itself (``bench/ws_client.py``): it sends the click as the browser does (a rerun of the fragment that
  holds Start) and is answered when the progress element with its status arrives, timed from the click sent
  (``p50_s`` and ``harness_p50_s`` are then the same measure). Live sessions poll their live fragments at the
  intervals the page asks, as a tab does; an abandoning session closes its socket.

The JSON holds ``client``, ``sessions``, ``answered_within_2s``, ``p50_s``, ``p95_s``, ``harness_p50_s``,
``harness_p95_s``, ``peak_rss_mb``, ``runs_completed``,
``runs_lost``, ``abandoned_stopped``, ``cross_session_leaks``, ``runs_per_minute`` and ``ok``; the exit code
is 1 when a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANSWER = re.compile(r"(queued: number \d+ in line|running: epoch \d+ of \d+|completed: epoch \d+ of \d+)")
EPOCHS_SHOWN = re.compile(r"epoch \d+ of (\d+)")
ANSWER_S = 2.0  # a session must see its run's status or its queue place this soon after pressing Start
# In the page, on the page's own clock: when the click reached it, and when the answer was first drawn. The harness
# drives every tab from one process on the same cores as the server, so the time its click command takes to reach a
# tab (often longer than the server's answer under load) is not the visitor's wait; it is reported beside it.
WATCH_ANSWER = """() => {
  window.__mtlClick = null; window.__mtlAnswer = null;
  const answer = /%s/;
  document.addEventListener('click', () => { if (window.__mtlClick === null) window.__mtlClick = performance.now(); },
                            {capture: true});
  new MutationObserver(() => {
    if (window.__mtlClick === null || window.__mtlAnswer !== null) return;
    const shown = document.querySelector('[data-testid="stProgress"]');
    if (shown && answer.test(shown.textContent)) window.__mtlAnswer = performance.now();
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}""" % ANSWER.pattern
MEMORY_MB = 3 * 1024  # the small host's memory
# an abandoned run's epochs (MTL_MAX_EPOCHS raised to allow them): long enough that it is still training when its
# visitor's grace runs out, however fast the machine trains
ABANDONED_EPOCHS = 50_000
GRACE_S = 15  # MTL_DISCONNECT_GRACE_S for the server under test: abandoned runs stop soon after the tab closes,
# and a live tab whose polls a busy machine delays by a few seconds keeps its run
OPEN_MS = 120_000  # opening a page before the test starts, on a machine that may be busy
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-sync", "--disable-background-networking", "--disable-component-update"]


@dataclass
class Session:
    """One visitor: the epochs its run trains (unique, so a leak is visible), whether it abandons its tab."""

    index: int
    epochs: int
    abandons: bool
    owner: str | None = None
    # browser: from the click reaching the page to the answer drawn (the page's clock); protocol: as harness_s
    answer_s: float | None = None
    harness_s: float | None = None  # from the harness's click command to the answer found (its own delays included)
    completed: bool = False
    leaks: list[int] = field(default_factory=list)
    error: str | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` on a free port, answering its health check; returns the process and its URL."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    log = open(folder / "server.log", "wb")  # noqa: SIM115 (kept open as long as the server runs)
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}: {(folder / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return server, url
        except OSError:
            pass
        time.sleep(0.1)  # polling a process we do not control
    server.kill()
    raise TimeoutError(f"streamlit did not answer at {url} within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop; kill it when it has not within 15 s."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` and all its descendants, in MB (psutil if installed, else /proc)."""
    try:
        import psutil

        root = psutil.Process(pid)
        return sum(process.memory_info().rss for process in [root, *root.children(recursive=True)]) / 2**20
    except ImportError:
        pass
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            pages = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE")
    return total / 2**20


class MemoryWatch:
    """Samples the server's RSS every 0.25 s on a thread; ``peak_mb`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_mb = max(self.peak_mb, rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


async def visit(browser: Any, url: str, session: Session, go: asyncio.Event, ready: asyncio.Queue[int],
                opening: asyncio.Semaphore, finish_s: float) -> None:
    """One visitor: open Train, set its epochs, press Start with everyone else, time the answer, then leave or stay."""
    context = await browser.new_context(viewport={"width": 1280, "height": 2000})
    try:
        page = await context.new_page()
        async with opening:  # pages are opened a few at a time: the measure starts at the common click
            await page.goto(f"{url}/train", timeout=OPEN_MS)
            await page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=OPEN_MS)
            await settled(page)
            field_ = page.get_by_label("Epochs", exact=True)
            await field_.fill(str(session.epochs))
            await field_.press("Enter")
            await settled(page)
            await owner_cookie(context)  # the page has written its owner id: its run can be found in the store
        await ready.put(session.index)
        await go.wait()
        await page.evaluate(WATCH_ANSWER)
        clicked = time.monotonic()
        await page.get_by_role("button", name="Start").click()
        await page.get_by_text(ANSWER).first.wait_for(timeout=60_000)
        session.harness_s = time.monotonic() - clicked
        await page.wait_for_function("window.__mtlAnswer !== null", timeout=60_000)
        session.answer_s = await page.evaluate("(window.__mtlAnswer - window.__mtlClick) / 1000")
        session.owner = next((cookie["value"] for cookie in await context.cookies() if cookie["name"] == "mtl_owner"),
                             None)
        if session.abandons:
            return
        await page.get_by_text(f"completed: epoch {session.epochs} of {session.epochs}").wait_for(
            timeout=finish_s * 1000)
        session.completed = True
        shown = {int(value) for value in EPOCHS_SHOWN.findall(await page.inner_text("body"))}
        session.leaks = sorted(shown - {session.epochs})
    except Exception as error:  # a session that failed is counted, and the others go on
        session.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        await context.close()  # an abandoning visitor closes its tab here


async def owner_cookie(context: Any, timeout_s: float = OPEN_MS / 1000) -> str:
    """The owner id the Train page writes into the browser's cookie on a first visit (a script the browser runs
    after the page is drawn, late on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = next((cookie["value"] for cookie in await context.cookies() if cookie["name"] == "mtl_owner"), None)
        if value is not None or time.monotonic() > deadline:
            return value or ""
        await asyncio.sleep(0.2)  # the browser's own script sets it


async def settled(page: Any) -> None:
    """Wait until the script run that a load or an action started has finished."""
    await page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=OPEN_MS)


Visitor = Callable[[Session, asyncio.Event, asyncio.Queue[int], asyncio.Semaphore], Coroutine[Any, Any, None]]


async def together(sessions: list[Session], visitor: Visitor) -> float:
    """Run ``visitor`` for every session, opening a few pages at a time and letting them all click at once;
    returns the seconds from the common click to the last session's end."""
    go, ready, opening = asyncio.Event(), asyncio.Queue[int](), asyncio.Semaphore(4)
    tasks = [asyncio.create_task(visitor(session, go, ready, opening)) for session in sessions]
    for _ in sessions:  # everyone's page is open and set before anyone clicks
        getter = asyncio.create_task(ready.get())
        done, _pending = await asyncio.wait({getter, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
    started = time.monotonic()
    go.set()
    await asyncio.gather(*tasks)
    return time.monotonic() - started


async def drive(url: str, sessions: list[Session], chromium: str, finish_s: float) -> float:
    """Run every session in chromium; returns the seconds from the common click to the last session's end."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        elapsed = await together(sessions, lambda session, go, ready, opening: visit(
            browser, url, session, go, ready, opening, finish_s))
        await browser.close()
    return elapsed


async def drive_protocol(url: str, sessions: list[Session], finish_s: float) -> float:
    """Run every session over Streamlit's websocket protocol, no browser; the same measure as ``drive``."""
    from bench import ws_client  # here: it imports this module's constants

    return await together(sessions, lambda session, go, ready, opening: ws_client.visit(
        url, session, go, ready, opening, finish_s))


def check_store(database: Path, sessions: list[Session], timeout_s: float) -> tuple[int, int, int]:
    """(abandoned runs stored as stopped, live runs stored as completed, live runs lost), waiting up to
    ``timeout_s`` for the abandoned runs to be stopped."""
    from mtl_core.store import RunStore

    store = RunStore(database)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            status = {session.index: [run.status for run in store.list_runs(owner=session.owner)]
                      if session.owner else [] for session in sessions}
            stopped = sum(status[session.index] == ["stopped"] for session in sessions if session.abandons)
            if stopped == sum(session.abandons for session in sessions) or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the server's janitor stops them on its own clock
        live = [session for session in sessions if not session.abandons]
        completed = sum(status[session.index] == ["completed"] and session.completed for session in live)
        return stopped, completed, len(live) - completed
    finally:
        store.close()


def run(n: int, abandon_every: int, chromium: str | None, finish_s: float, client: str = "browser") -> dict[str, Any]:
    """Start the server, drive ``n`` sessions (in ``chromium``, or over the protocol when ``client`` is
    ``"protocol"``), check the store and memory; the figures as a dict."""
    abandons = [index % abandon_every == abandon_every - 1 for index in range(n)]
    sessions = [Session(index, epochs=ABANDONED_EPOCHS - index if abandons[index] else 20 + index,
                        abandons=abandons[index]) for index in range(n)]
    folder = Path(tempfile.mkdtemp(prefix="mtl-load-"))
    env = {**os.environ, "MTL_HOME": str(folder / "home"), "MTL_DB": str(folder / "runs.sqlite"),
           "MTL_DISCONNECT_GRACE_S": str(GRACE_S), "MTL_CACHE_DIR": str(folder / "cache"),
           "MTL_MAX_EPOCHS": str(ABANDONED_EPOCHS)}
    server, url = start_server(folder, env)
    watch, cpu_before = MemoryWatch(server.pid), cpu_seconds(server.pid)
    try:
        if client == "protocol":
            elapsed = asyncio.run(drive_protocol(url, sessions, finish_s))
        else:
            assert chromium is not None, "the browser client needs chromium"
            elapsed = asyncio.run(drive(url, sessions, chromium, finish_s))
        load = os.getloadavg()[0]
        stopped, completed, lost = check_store(folder / "runs.sqlite", sessions, timeout_s=GRACE_S * 6 + 30)
    finally:
        peak, cpu = watch.stop(), cpu_seconds(server.pid) - cpu_before
        stop_server(server)
    shutil.rmtree(folder, ignore_errors=True)
    result = {"client": client, **figures(sessions, elapsed, peak, stopped, completed, lost)}
    # how much of the machine the server had: on a machine busy with other work, answers wait for a core
    result.update(server_cpu_s=round(cpu, 1), load_average=round(load, 1))
    return result


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` (its threads included), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figures(sessions: list[Session], elapsed: float, peak: float, stopped: int, completed: int,
            lost: int) -> dict[str, Any]:
    answers = sorted(session.answer_s for session in sessions if session.answer_s is not None)
    harness = sorted(session.harness_s for session in sessions if session.harness_s is not None)
    within = sum(answer <= ANSWER_S for answer in answers)
    abandoned = sum(session.abandons for session in sessions)
    leaks = sum(bool(session.leaks) for session in sessions)
    result = {
        "sessions": len(sessions), "abandoned": abandoned, "answered": len(answers), "answered_within_2s": within,
        "p50_s": round(statistics.median(answers), 2) if answers else None,
        "p95_s": round(answers[min(len(answers) - 1, int(0.95 * len(answers)))], 2) if answers else None,
        "harness_p50_s": round(statistics.median(harness), 2) if harness else None,
        "harness_p95_s": round(harness[min(len(harness) - 1, int(0.95 * len(harness)))], 2) if harness else None,
        "peak_rss_mb": round(peak), "runs_completed": completed, "runs_lost": lost,
        "abandoned_stopped": stopped, "cross_session_leaks": leaks,
        "runs_per_minute": round(completed / (elapsed / 60), 1) if elapsed > 0 else None,
        "wall_s": round(elapsed, 1), "cpus": os.cpu_count(),
        "errors": [f"session {session.index}: {session.error}" for session in sessions if session.error],
    }
    result["ok"] = (within == len(sessions) and lost == 0 and leaks == 0 and stopped == abandoned
                    and peak < MEMORY_MB)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5, help="sessions at once (default 5)")
    parser.add_argument("--abandon-every", type=int, default=4, help="every Nth session closes its tab (default 4)")
    parser.add_argument("--finish-s", type=float, default=300.0, help="seconds a live run may take to complete")
    parser.add_argument("--client", choices=("browser", "protocol"), default="browser",
                        help="browser: chromium tabs, what a visitor sees (default); protocol: Streamlit's websocket "
                             "protocol spoken directly, the server's answer without any rendering")
    parser.add_argument("--out", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if args.sessions < 1 or args.abandon_every < 1:
        print("error: --sessions and --abandon-every must be at least 1", file=sys.stderr)
        return 2
    if chromium is None and args.client == "browser":
        print("error: no chromium on PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    result = run(args.sessions, args.abandon_every, chromium, args.finish_s, client=args.client)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
