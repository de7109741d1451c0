"""Random small tables through import and preprocessing: a dataset or an MTLError, nothing else."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mtl_core.config import DataConfig
from mtl_core.data import build_dataset, read_table
from mtl_core.data.schema import infer_kind
from mtl_core.errors import MTLError
from mtl_core.tasks import TaskSpec

cells = st.one_of(
    st.none(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["a", "b", "", " ", "é", "1,5", "NaN", "inf", "1e308", "True"]),
)
headers = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=0,
                  max_size=6)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n_columns = draw(st.integers(1, 5))
    n_rows = draw(st.integers(0, 30))
    names = draw(st.lists(headers, min_size=n_columns, max_size=n_columns))
    data = {f"{name}#{i}" if draw(st.booleans()) else name: draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
            for i, name in enumerate(names)}
    return pd.DataFrame(data) if data else pd.DataFrame()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), delimiter=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["utf-8", "utf-8-sig",
                                                                                                "latin-1", "utf-16"]))
@example(table=pd.DataFrame({"#0": [None], " ": [None]}), delimiter=",", encoding="utf-8")  # a blank header cell
def test_random_tables_give_a_dataset_or_an_mtl_error(table: pd.DataFrame, delimiter: str, encoding: str) -> None:
    text = table.to_csv(sep=delimiter, index=False)
    try:
        payload = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        read = read_table(payload, "fuzz.csv")
        column = str(read.columns[-1])
        kind = infer_kind(read[column]) if read[column].notna().any() else "regression"
        build_dataset(read, (TaskSpec(name="t", column=column, kind=kind),), DataConfig(), "fuzz.csv")
    except MTLError:
        pass


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.none()), min_size=12, max_size=60),
       kind=st.sampled_from(["regression", "binary", "multiclass"]))
def test_any_numeric_target_builds_or_explains(values: list[float | None], kind: str) -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=len(values)), "y": values})
    task = TaskSpec(name="y", column="y", kind=kind, threshold=0.0 if kind == "binary" else None)  # type: ignore[arg-type]
    try:
        dataset = build_dataset(table, (task,), DataConfig(), "t.csv")
    except MTLError:
        return
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == len(values)
    assert bool(dataset.train.masks["y"].any())


def test_csv_round_trip_of_a_plain_table() -> None:
    table = pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]})
    assert read_table(table.to_csv(index=False).encode(), "t.csv").equals(pd.read_csv(io.StringIO(table.to_csv(index=False))))
