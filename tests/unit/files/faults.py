"""The child process of the fault tests: reruns a run into a folder and kills itself (SIGKILL) at chosen moments.

``python -m tests.unit.files.faults WORK CONFIG`` imports the engine once, then forks one process per
fault; each arms its fault (a monkeypatch that ends the process with SIGKILL, or a file-size limit) and
runs ``python -m mtl_core run``. After each, this process describes the run folder: ``old`` (the first
run, whole), ``new`` (the rerun, whole) or what is wrong with it. It prints one JSON object.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mtl_core import atomic, cli
from mtl_core.errors import DataError
from mtl_core.runs import RESULTS_FILE, RunLog, check_complete

FULL_DISK_BYTES = 100_000  # more than config.toml, run.json, train.log and results.json; less than best.pt


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_in_training() -> None:
    RunLog.update = lambda self, event: die()  # type: ignore[method-assign]


def kill_while_best_pt_is_written() -> None:
    real = torch.save
    def half(state: Any, stream: Any, *args: Any, **kwargs: Any) -> None:
        whole = io.BytesIO()
        real(state, whole, *args, **kwargs)
        data = whole.getvalue()
        stream.write(data[: len(data) // 2])
        stream.flush()
        die()
    torch.save = half


def kill_before_rename(number: int) -> Callable[[], None]:
    def arm() -> None:
        real, calls = os.replace, [0]
        def replace(source: Any, target: Any) -> None:
            calls[0] += 1
            if calls[0] == number:
                die()
            real(source, target)
        os.replace = replace  # type: ignore[assignment]
    return arm


def kill_before_swap() -> None:
    atomic.exchange = lambda first, second: die()  # type: ignore[assignment,return-value]


def kill_after_swap() -> None:
    real = atomic.exchange
    def exchange(first: Path, second: Path) -> bool:
        real(first, second)
        die()
        return True
    atomic.exchange = exchange


def full_disk() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, FULL_DISK_BYTES))


RERUN_FAULTS: dict[str, Callable[[], None]] = {
    "in training": kill_in_training,
    "while best.pt is written": kill_while_best_pt_is_written,
    "before config.toml is renamed into place": kill_before_rename(1),
    "before results.json is renamed into place": kill_before_rename(4),
    "before manifest.json is renamed into place": kill_before_rename(5),
    "before the folders are swapped": kill_before_swap,
    "after the folders are swapped": kill_after_swap,
    "on a full disk": full_disk,
}


def child(arm: Callable[[], None], argv: list[str], stderr: Path) -> int:
    """Fork, arm the fault, run the CLI; the exit code, or minus the signal that ended the child."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            torch.set_num_threads(1)
            arm()
            code = cli.main(argv)
        except BaseException as error:  # noqa: BLE001 - reported to the test as exit code 99
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def state(folder: Path, old: bytes) -> str:
    """``old`` or ``new`` for a whole run folder, else why it is not one."""
    if not folder.exists():
        return "absent"
    try:
        check_complete(folder)
    except DataError as error:
        return f"not whole: {error}"
    leftovers = sorted(path.name for path in folder.rglob(".*"))
    results = (folder / RESULTS_FILE).read_bytes()
    seed = json.loads(results)["config"]["train"]["seed"]
    which = "old" if results == old else "new" if seed == 1 else f"other (seed {seed})"
    return which + (f" with {leftovers}" if leftovers else "")


def warm_up(config: Path) -> None:
    """Import here, once, what a run imports on first use (the optimiser loads torch._dynamo), with no tensor maths:
    the forked children then start at once."""
    from mtl_core.config import load_config
    from mtl_core.experiment import Experiment

    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    Experiment(load_config(config))


def main(work: Path, config: Path) -> dict[str, Any]:
    warm_up(config)
    folder, fresh = work / "run", work / "fresh"
    argv = ["run", str(config), "--no-store", "--quiet", "--run-dir", str(folder)]
    report: dict[str, Any] = {"first": child(lambda: None, [*argv, "--set", "train.seed=0"], work / "first.err")}
    old = (folder / RESULTS_FILE).read_bytes()
    for name, arm in RERUN_FAULTS.items():
        err = work / f"{len(report)}.err"
        code = child(arm, [*argv, "--overwrite", "--set", "train.seed=1"], err)
        report[name] = {"code": code, "state": state(folder, old), "stderr": err.read_text(encoding="utf-8")}
        if name == "after the folders are swapped":  # the next faults rerun over the first run again
            folder_before = child(lambda: None, [*argv, "--overwrite", "--set", "train.seed=0"], err)
            old = (folder / RESULTS_FILE).read_bytes() if folder_before == 0 else b""
    fresh_argv = ["run", str(config), "--no-store", "--quiet", "--run-dir", str(fresh)]
    report["fresh folder, killed while best.pt is written"] = {
        "code": child(kill_while_best_pt_is_written, fresh_argv, work / "fresh.err"), "state": state(fresh, old)}
    report["store"] = store_faults(work, config)
    code = child(lambda: None, [*argv, "--overwrite", "--set", "train.seed=1"], work / "last.err")
    report["rerun after the faults"] = {"code": code, "state": state(folder, old),
                                        "siblings": sorted(path.name for path in work.iterdir()
                                                           if path.name.startswith(".run."))}
    return report


def store_faults(work: Path, config: Path) -> dict[str, Any]:
    """A stored run killed while its weights are written, then another stored run: the run folders they leave."""
    runs = work / "store" / "runs"
    argv = ["run", str(config), "--db", str(work / "store" / "runs.sqlite"), "--quiet", "--out", str(work / "s.json")]
    killed = child(kill_while_best_pt_is_written, argv, work / "store-killed.err")
    visible = sorted(path.name for path in runs.iterdir() if not path.name.startswith(".")) if runs.is_dir() else []
    after = child(lambda: None, argv, work / "store-after.err")
    return {"killed": killed, "visible after the kill": visible, "after": after,
            "entries after": sorted(path.name for path in runs.iterdir())}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
