"""The run store: every run, comparison and Pareto sweep in one SQLite file, written as it trains.

``RunStore(path=None)`` opens (creating and migrating as needed) ``default_path()``: ``$MTL_DB``, else
``$MTL_HOME/runs.sqlite``, else the per-user data folder. Each run's files (weights, train.log,
results.json) go in ``run_dir(id)``, beside the database. Nothing here imports PyTorch or Streamlit.

>>> import tempfile, pathlib
>>> store = RunStore(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
>>> run_id = store.start_run({"data": {"dataset": "diabetes"}, "tasks": [{"name": "y", "kind": "regression"}]})
>>> [run.status for run in store.list_runs()], store.count_runs(status="running")
(['running'], 1)
"""

from mtl_core.store.errors import StoreError, UnknownRunError
from mtl_core.store.export import FORMATS
from mtl_core.store.paths import dataset_fingerprint, default_path, runs_folder
from mtl_core.store.records import STATUSES, GroupSummary, RunSummary, StoredGroup, StoredRun
from mtl_core.store.runs import RunStore, new_id
from mtl_core.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "FORMATS", "MIGRATIONS", "SCHEMA_VERSION", "STATUSES", "GroupSummary", "RunStore", "RunSummary", "StoreError",
    "StoredGroup", "StoredRun", "UnknownRunError", "dataset_fingerprint", "default_path", "new_id", "runs_folder",
]
