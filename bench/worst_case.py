"""Peak memory of the dashboard's server under the heaviest share link and the heaviest upload the limits allow.

``python -m bench.worst_case [--seconds 150] [--out worst.json]`` starts ``streamlit run app.py`` with the
defaults of ``mtl_core/limits.py`` (as ``bench.load`` does) and, for each case, has as many visitors as may train
at once (MTL_MAX_JOBS) start the same heavy run from a real browser (Debian's chromium), then samples the RSS
of the server and its children until both runs end or ``--seconds`` pass:

- ``link``: ``mmoe-synthetic`` at the most cells a generated table may have (50 000 rows × 100 features), hidden
  widths 4096 and 1024 (4.6 M parameters, under MAX_PARAMETERS), PCGrad (the task Jacobian of every shared
  parameter), the largest batch the activation budget lets through (9 700 rows), opened from a link;
- ``upload``: a CSV of 999 000 rows (a number, a two-valued text column, a float and a 0/1 target: 4.995 M cells
  once encoded, under MAX_CELLS), uploaded on the Data page and trained with **Train now**.

The JSON holds, per case, ``peak_rss_mb`` (server and children), ``baseline_rss_mb`` (the server after its pages
were opened, before any run) and what each visitor's page said last; the exit code is 1 when a peak passes 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.load import CHROMIUM_ARGS, MEMORY_MB, MemoryWatch, rss_mb, start_server, stop_server

LINK = {"data.dataset": "mmoe-synthetic", "data.params.n_rows": "50000", "data.params.n_features": "100",
        "model.hidden": "4096,1024", "strategy.name": "pcgrad", "train.batch_size": "9700", "train.epochs": "2"}
STATUS = "[data-testid=stProgress]"
OPEN_MS = 120_000


def write_upload(folder: Path, rows: int = 999_000) -> Path:
    """The heaviest table an upload may be: MAX_CELLS once its text column is one-hot encoded."""
    import numpy as np
    import pandas as pd

    generator = np.random.default_rng(0)
    table = pd.DataFrame({"a": generator.normal(size=rows).round(3),
                          "city": np.array(["north", "south"])[generator.integers(0, 2, rows)],
                          "y": generator.normal(size=rows).round(3), "z": generator.integers(0, 2, rows)})
    path = folder / "heaviest.csv"
    table.to_csv(path, index=False)
    return path


def ready(page: Any) -> None:
    page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=OPEN_MS)


def start_from_link(page: Any, url: str) -> None:
    page.goto(f"{url}/train?{urlencode(LINK)}", timeout=OPEN_MS)
    page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=OPEN_MS)
    ready(page)
    page.get_by_role("button", name="Start").click()


def start_from_upload(page: Any, url: str, table: Path) -> None:
    page.goto(f"{url}/data", timeout=OPEN_MS)
    ready(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(table))
    page.get_by_text("Ready: 1 task,").wait_for(timeout=OPEN_MS)
    ready(page)
    page.get_by_role("button", name="Train now").click()


def last_status(page: Any) -> str:
    try:
        return " ".join(page.locator(STATUS).first.inner_text(timeout=5_000).split())
    except Exception as error:  # a page that shows no status says why
        return f"no status: {type(error).__name__}"


def measure(case: str, seconds: float, chromium: str, table: Path, jobs: int) -> dict[str, Any]:
    """One case on a fresh server: its baseline and peak memory, and each visitor's last status."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="mtl-worst-"))
    env = {**os.environ, "MTL_HOME": str(folder / "home"), "MTL_DB": str(folder / "runs.sqlite"),
           "MTL_CACHE_DIR": str(folder / "cache")}
    server, url = start_server(folder, env)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            pages = [browser.new_context(viewport={"width": 1400, "height": 1200}).new_page() for _ in range(jobs)]
            for page in pages:  # every page open (and the engine loaded) before the baseline is read
                page.goto(f"{url}/train", timeout=OPEN_MS)
                ready(page)
            baseline = rss_mb(server.pid)
            watch = MemoryWatch(server.pid)
            started = time.monotonic()
            for page in pages:
                start_from_link(page, url) if case == "link" else start_from_upload(page, url, table)
            while time.monotonic() - started < seconds:
                if all(last_status(page).startswith(("completed", "stopped", "diverged")) for page in pages):
                    break
                time.sleep(2)  # the pages poll the server on their own; this only reads them
            peak = watch.stop()
            statuses = [last_status(page) for page in pages]
            browser.close()
    finally:
        stop_server(server)
    shutil.rmtree(folder, ignore_errors=True)
    return {"case": case, "visitors": jobs, "baseline_rss_mb": round(baseline), "peak_rss_mb": round(peak),
            "seconds": round(time.monotonic() - started, 1), "statuses": statuses, "ok": peak < MEMORY_MB}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worst_case", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=150.0, help="how long each case may train (default 150)")
    parser.add_argument("--only", choices=("link", "upload"), action="append", help="one case (repeatable)")
    parser.add_argument("--out", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        print("error: no chromium on PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    from mtl_core.limits import MAX_JOBS

    with tempfile.TemporaryDirectory(prefix="mtl-worst-upload-") as folder:
        table = write_upload(Path(folder))
        results = [measure(case, args.seconds, chromium, table, MAX_JOBS) for case in args.only or ("link", "upload")]
    text = json.dumps(results, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if all(result["ok"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
