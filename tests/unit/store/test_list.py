"""list_runs and count_runs: filters, newest first, pages that cover every run once."""

from __future__ import annotations

import pytest

from mtl_core.store import RunStore

from tests.unit.store.writers import synthetic_results

DATASETS, STRATEGIES = ("diabetes", "wine-red"), ("equal", "pcgrad", "gradnorm")


@pytest.fixture
def filled(store: RunStore) -> dict[str, dict[str, object]]:
    """Twelve runs over two data sets, three strategies and two owners, created one second apart."""
    runs = {}
    for index in range(12):
        config = synthetic_results(index).config
        config = {**config, "data": {"dataset": DATASETS[index % 2]}, "strategy": {"name": STRATEGIES[index % 3]}}
        owner = "alice" if index < 6 else "bob"
        run_id = store.start_run(config, owner=owner, created=1000.0 + index)
        if index % 4 == 0:
            store.finish(run_id, synthetic_results(index))
        runs[run_id] = {"index": index, "dataset": DATASETS[index % 2], "strategy": STRATEGIES[index % 3],
                        "owner": owner, "status": "completed" if index % 4 == 0 else "running"}
    return runs


def test_runs_come_newest_first(store: RunStore, filled: dict[str, dict[str, object]]) -> None:
    listed = [run.id for run in store.list_runs()]
    assert listed == sorted(filled, key=lambda run_id: -int(filled[run_id]["index"]))  # type: ignore[call-overload]


@pytest.mark.parametrize("name", ["dataset", "strategy", "owner", "status"])
def test_each_filter_keeps_exactly_the_matching_runs(store: RunStore, filled: dict[str, dict[str, object]],
                                                     name: str) -> None:
    for value in {facts[name] for facts in filled.values()}:
        expected = {run_id for run_id, facts in filled.items() if facts[name] == value}
        assert {run.id for run in store.list_runs(**{name: value})} == expected  # type: ignore[arg-type]
        assert store.count_runs(**{name: value}) == len(expected)  # type: ignore[arg-type]


def test_filters_combine(store: RunStore, filled: dict[str, dict[str, object]]) -> None:
    expected = {run_id for run_id, facts in filled.items() if facts["dataset"] == "diabetes" and facts["owner"] == "bob"}
    assert {run.id for run in store.list_runs(dataset="diabetes", owner="bob")} == expected and len(expected) == 3


def test_pages_cover_every_run_once(store: RunStore, filled: dict[str, dict[str, object]]) -> None:
    pages = [store.list_runs(limit=5, offset=offset) for offset in (0, 5, 10, 15)]
    assert [len(page) for page in pages] == [5, 5, 2, 0]
    assert sorted(run.id for page in pages for run in page) == sorted(filled)


def test_search_looks_in_the_id_and_the_names(store: RunStore, filled: dict[str, dict[str, object]]) -> None:
    some = next(iter(filled))
    assert [run.id for run in store.list_runs(search=some[2:10])] == [some]
    assert store.count_runs(search="gradn") == 4 and store.count_runs(search="no such thing") == 0


def test_the_summary_of_a_finished_run_carries_its_test_metrics(store: RunStore,
                                                                filled: dict[str, dict[str, object]]) -> None:
    finished = store.list_runs(status="completed")
    assert all(run.metrics["progression"]["mse"] == 0.5 + _index(filled, run.id)
               for run in finished)
    assert all(run.metrics == {} and run.key_metric is None for run in store.list_runs(status="running"))


def _index(filled: dict[str, dict[str, object]], run_id: str) -> int:
    return int(filled[run_id]["index"])  # type: ignore[call-overload]


def test_a_visitor_lists_their_own_runs_and_those_of_no_owner(store: RunStore,
                                                              filled: dict[str, dict[str, object]]) -> None:
    cli_run = store.start_run(synthetic_results(99).config, created=2000.0)  # no owner: the command line's
    seen = {run.id for run in store.list_runs(visible_to="alice", limit=100)}
    assert seen == {run_id for run_id, facts in filled.items() if facts["owner"] == "alice"} | {cli_run}
    assert store.count_runs(visible_to="alice") == len(seen) == 7
    assert store.count_runs(visible_to="carol") == 1  # a stranger sees no one's dashboard runs
    assert {run.id for run in store.list_runs(visible_to="bob", strategy="equal")} <= {
        run_id for run_id, facts in filled.items() if facts["owner"] == "bob"} | {cli_run}
