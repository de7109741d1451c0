"""One-hot encoding within the limits: at most MAX_CATEGORIES columns per text column, the encoded table within
MAX_CELLS, checked before anything is encoded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtl_core.config import DataConfig
from mtl_core.data import build_dataset, encode_features, read_table
from mtl_core.data import encoding
from mtl_core.data.encoding import CategoriesCapped
from mtl_core.errors import DataError
from mtl_core.limits import MAX_CATEGORIES
from mtl_core.tasks import TaskSpec
from tests.unit.uploads.memory import peak_memory

Y = (TaskSpec(name="y", column="y"),)


def unique_text_csv(rows: int) -> bytes:
    """A CSV whose ``id`` column is unique text (one category per row), beside a number and a target."""
    rng = np.random.default_rng(0)
    lines = ["id,x,city,y"] + [f"u{index:07d},{rng.normal():.3f},c{index % 3},{rng.normal():.3f}" for index in range(rows)]
    return "\n".join(lines).encode()


def test_a_unique_text_column_is_capped_at_max_categories_with_a_warning_naming_it() -> None:
    table = read_table(unique_text_csv(2_000), "ids.csv")
    with pytest.warns(CategoriesCapped, match="'id' \\(2,000 categories\\).*MTL_MAX_CATEGORIES"):
        dataset = build_dataset(table, Y, DataConfig(), "ids.csv")
    id_columns = [name for name in dataset.encoded_features if name.startswith("id_")]
    assert len(id_columns) == MAX_CATEGORIES and "id_infrequent_sklearn" in id_columns  # K-1 kept + other
    assert dataset.in_features == 1 + MAX_CATEGORIES + 3 and len(dataset.notes) == 1 and "'city'" not in dataset.notes[0]


def test_a_420_kb_csv_with_a_unique_text_column_encodes_in_little_memory() -> None:
    payload = unique_text_csv(30_000)  # dense one-hot without the cap: 30 000 × 30 000 floats = 7 GB
    assert len(payload) < 800_000
    table = read_table(payload, "ids.csv")
    with pytest.warns(CategoriesCapped):
        peak = peak_memory(lambda: build_dataset(table, Y, DataConfig(), "ids.csv"))
    assert not isinstance(peak.outcome, Exception), peak.outcome
    assert peak.mb < 300


def test_few_categories_are_encoded_one_column_each_without_a_warning() -> None:
    table = read_table(unique_text_csv(200), "ids.csv").drop(columns="id")
    dataset = build_dataset(table, Y, DataConfig(), "ids.csv")
    assert dataset.notes == () and sorted(dataset.encoded_features) == ["city_c0", "city_c1", "city_c2", "x"]


def test_an_encoding_past_max_cells_is_refused_naming_it_before_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "MAX_CELLS", 1_000)
    table = read_table(unique_text_csv(200), "ids.csv")  # 200 rows × (1 + 50 + 3) columns
    with pytest.raises(DataError, match="200 rows × 54 encoded feature columns.*MTL_MAX_CELLS"):
        build_dataset(table, Y, DataConfig(), "ids.csv")


def test_a_category_never_seen_in_training_is_encoded_as_other() -> None:
    table = read_table(unique_text_csv(500), "ids.csv")
    with pytest.warns(CategoriesCapped):
        dataset = build_dataset(table, Y, DataConfig(), "ids.csv")
    new = pd.DataFrame({"id": ["never-seen"], "x": [0.0], "city": ["c1"]})
    encoded = encode_features(dataset, table=new)
    other = dataset.encoded_features.index("id_infrequent_sklearn")
    assert encoded.shape == (1, dataset.in_features) and encoded[0, other] == 1.0
