"""The Runs page through AppTest: the stored runs listed and filtered, two overlaid, one opened in Train, a link
that opens one read-only, deletion after a confirmation, and the Train page's recent runs."""

from __future__ import annotations

import json
import secrets

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mtl_core.config import ExperimentConfig
from mtl_core.jobs import job_manager
from mtl_core.store import RunStore
from tests.app.conftest import APP, TIMEOUT


def trained(owner: str | None, strategy: str = "equal", lr: float = 0.003, epochs: int = 3) -> str:
    """A short diabetes run trained by the server's jobs under ``owner`` and stored; returns its run id."""
    config = ExperimentConfig.from_dict({"data": {"dataset": "diabetes"}, "strategy": {"name": strategy},
                                         "train": {"epochs": epochs, "lr": lr}})
    manager = job_manager()
    job = manager.submit(config, owner=owner)
    assert manager.wait(job, timeout=TIMEOUT)
    run_id = manager.run_id(job)
    assert run_id is not None
    return run_id


def store() -> RunStore:
    opened = job_manager().store
    assert opened is not None, "the tests' server keeps a run store"
    return opened


def runs_page(owner: str, query: dict[str, str] | None = None) -> AppTest:
    """The Runs page in a browser whose owner id is ``owner``."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state["owner"] = owner
    at.run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [item.stack_trace for item in at.exception]
    return at


@pytest.fixture
def owner() -> str:
    """A browser of its own (the store is shared by the whole test session)."""
    return secrets.token_urlsafe(18)


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def listed(at: AppTest) -> list[str]:
    return list(table(at, "run")["run"])


def test_the_page_lists_this_browsers_runs_and_not_another_browsers(owner: str) -> None:
    mine, theirs = trained(owner), trained("someone-else-entirely-000")
    at = runs_page(owner)
    shown = listed(at)
    assert mine in shown and theirs not in shown
    row = table(at, "run").set_index("run").loc[mine]
    assert row["data set"] == "diabetes" and row["status"] == "completed" and row["epochs"] == "3/3"
    assert row["key metric (test)"].startswith("progression mse ")


def test_a_filter_keeps_only_the_matching_runs(owner: str) -> None:
    equal, gradnorm = trained(owner, "equal"), trained(owner, "gradnorm")
    at = runs_page(owner)
    at.selectbox(key="runs.strategy").select("gradnorm").run()
    assert gradnorm in listed(at) and equal not in listed(at)
    assert set(table(at, "run")["strategy"]) == {"gradnorm"}
    at.selectbox(key="runs.architecture").select("mmoe").run()
    assert any("No stored run matches" in item.value for item in at.info)  # both are hps runs
    at.selectbox(key="runs.architecture").select("hps").run()
    assert listed(at) and gradnorm in listed(at)
    at.text_input(key="runs.search").input(equal[:10]).run()
    assert not at.exception and any("No stored run matches" in item.value for item in at.info)


def test_two_runs_overlaid_compared_and_their_settings_diffed(owner: str) -> None:
    slow, fast = trained(owner, lr=0.001), trained(owner, lr=0.01)
    at = runs_page(owner)
    at.multiselect(key="runs.chosen").select(slow).select(fast).run()
    assert not at.exception, [item.value for item in at.exception]
    overlay = at.get("plotly_chart")[0]
    names = {trace["name"] for trace in json.loads(overlay.proto.spec)["data"] if trace.get("showlegend")}
    assert len(names) == 2
    diff = table(at, "setting")
    assert list(diff["setting"]) == ["train.lr"]
    assert table(at, "best").shape[1] == 3  # the two runs and which is best


def test_open_in_train_fills_the_train_page_with_the_runs_settings(owner: str) -> None:
    run_id = trained(owner, "gradnorm", lr=0.02)
    at = runs_page(owner)
    at.multiselect(key="runs.chosen").select(run_id).run()
    at.button(key="runs.open").click().run()
    assert not at.exception, [item.value for item in at.exception]
    assert at.title[0].value == "Train"
    config = ExperimentConfig.from_dict(at.session_state["config"])
    assert config.strategy.name == "gradnorm" and config.train.lr == 0.02 and config.train.epochs == 3
    assert any(f"Stored run **{run_id}**" in item.value for item in at.markdown)


def test_a_runs_link_opens_it_read_only_in_another_browser(owner: str) -> None:
    run_id = trained(owner)
    at = runs_page("a-visitor-with-the-link-0001", {"run": run_id})
    assert any(run_id in item.value for item in at.markdown)
    assert any("read-only" in item.value for item in at.caption)
    assert not [button for button in at.button if str(button.key).startswith("runs.delete")]
    assert not at.warning or all("Shared link" not in item.value for item in at.warning)  # no "unknown key" note


def test_deleting_asks_first_then_removes_the_run_and_its_files(owner: str) -> None:
    run_id = trained(owner)
    folder = store().run_dir(run_id)
    assert folder.is_dir()
    at = runs_page(owner)
    at.multiselect(key="runs.chosen").select(run_id).run()
    assert at.button(key="runs.delete").disabled  # until the box is ticked
    at.checkbox(key="runs.delete.sure").check().run()
    at.button(key="runs.delete").click().run()
    assert not at.exception
    assert store().get(run_id) is None and not folder.exists()
    assert run_id not in (listed(at) if at.dataframe else [])


def test_the_train_page_lists_recent_runs_and_shows_one_after_a_reload(owner: str) -> None:
    run_id = trained(owner, "pcgrad")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["owner"] = owner  # a new session of the same browser: a reload
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key=f"train.recent.{run_id}").click().run()
    assert not at.exception, [item.value for item in at.exception]
    assert any(f"Stored run **{run_id}**" in item.value for item in at.markdown)
    assert ExperimentConfig.from_dict(at.session_state["config"]).strategy.name == "pcgrad"
    assert "Test metrics" in [item.value for item in at.subheader]
