"""Import boundaries, read with ``ast``: the engine never imports Streamlit; pages never train."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a file imports, absolute names, including the ``from x import y`` submodule ``x.y``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def page_files() -> list[Path]:
    return sorted([*(ROOT / "pages").glob("**/*.py"), *([ROOT / "app.py"] if (ROOT / "app.py").is_file() else [])])


def test_the_import_reader_sees_every_form_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\nfrom mtl_core import train\nimport torch.nn\n"
                      "def f():\n    from mtl_core.train.trainer import Trainer\n", encoding="utf-8")
    found = set(imported_modules(sample))
    assert {"streamlit", "mtl_core.train", "torch.nn", "mtl_core.train.trainer"} <= found


@pytest.mark.parametrize("path", sorted((ROOT / "mtl_core").glob("**/*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_engine_module_imports_streamlit(path: Path) -> None:
    assert not [name for name in imported_modules(path) if within(name, "streamlit")]


@pytest.mark.parametrize("path", sorted((ROOT / "mtl_core" / "train").glob("**/*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_train_stage_never_imports_the_experiment_pipeline_above_it(path: Path) -> None:
    """``mtl_core.experiment`` builds runs from the train stage; the train stage never reaches back up to it."""
    assert not [name for name in imported_modules(path) if within(name, "mtl_core.experiment")]


def test_pages_and_the_entry_never_import_torch_or_the_trainer() -> None:
    files = page_files()
    if not files:
        pytest.skip("no pages yet")
    offending = {
        str(path.relative_to(ROOT)): name
        for path in files for name in imported_modules(path)
        if within(name, "torch") or within(name, "mtl_core.train")
    }
    assert offending == {}


def test_the_first_page_is_drawn_without_loading_torch() -> None:
    """The imports of the entry file and the Home page, run in a fresh interpreter, leave PyTorch unloaded
    (the engine is loaded in the background once the first page has been drawn: ``mtl_core.warm_up``)."""
    statements = [ast.unparse(node) for path in (ROOT / "app.py", ROOT / "pages" / "home.py")
                  for node in ast.parse(path.read_text(encoding="utf-8")).body
                  if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")]
    probe = "\n".join([*statements, "import sys", "print(sorted(set(sys.modules) & {'torch', 'sklearn', 'scipy'}))"])
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert len(statements) >= 5 and shown.stdout.strip() == "[]"
