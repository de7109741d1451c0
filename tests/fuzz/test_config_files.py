"""Fuzzing ``python -m mtl_core run`` with config files: alias bombs, deep nesting, huge integers, bad encodings,
random bytes and random settings, under every suffix. Each ends with exit 0, 1 or 2 (2: exactly one line on
stderr), never a traceback, and at once.

``MTL_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz/test_config_files.py`` runs more examples than CI does.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtl_core.cli import main

EXAMPLES = max(60, int(os.environ.get("MTL_FUZZ_EXAMPLES", "0") or 0))
SUFFIXES = (".toml", ".yaml", ".yml", ".json", ".TOML", ".txt", "")
FAST = ["--no-store", "--quiet", "--set", "train.epochs=1", "model.hidden=[4]", "train.device=cpu",
        "data.dataset=diabetes"]
SECTIONS = ("data", "model", "strategy", "train", "tasks", "a")
KEYS = ("dataset", "path", "epochs", "lr", "seed", "name", "hidden", "batch_size", "kind", "weights", "x")


@st.composite
def alias_bombs(draw: st.DrawFn) -> bytes:
    """YAML whose aliases expand to width ** depth values."""
    depth, width = draw(st.integers(1, 12)), draw(st.integers(2, 12))
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, depth)]
    if draw(st.booleans()):
        lines.append(f"train: {{seed: *l{depth - 1}}}")
    return "\n".join(lines).encode()


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    levels = draw(st.integers(1, 40_000))
    opening, closing = draw(st.sampled_from([("[", "]"), ('{"a": ', "}"), ("{a: ", "}"), ("- ", "")]))
    head = draw(st.sampled_from(["", "a = ", "a: ", '{"a": ']))
    return (head + opening * levels + "1" + closing * levels).encode()


@st.composite
def huge_integers(draw: st.DrawFn) -> bytes:
    digits = draw(st.integers(15, 6_000))
    number = draw(st.sampled_from(["9", "0x", "-1", "0o7", "1_"])) + "9" * digits
    return draw(st.sampled_from([f"[train]\nseed = {number}", f"train:\n  seed: {number}",
                                 f'{{"train": {{"seed": {number}}}}}', f"[train]\nepochs = {number}"])).encode()


settings_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(KEYS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6),
                                                                inner, max_size=4),
    max_leaves=16)


@st.composite
def random_settings(draw: st.DrawFn) -> bytes:
    """A table of sections holding random values, written as JSON, YAML or TOML-like lines."""
    table = draw(st.dictionaries(st.sampled_from(SECTIONS), settings_values, max_size=4))
    form = draw(st.sampled_from(["json", "yaml", "toml"]))
    if form == "json":
        return json.dumps(table).encode()
    if form == "yaml":
        return yaml.safe_dump(table, allow_unicode=True).encode()
    lines = []
    for section, value in table.items():
        if isinstance(value, dict):
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(str(key))} = {json.dumps(item)}" for key, item in value.items()]
        else:
            lines.insert(0, f"{section} = {json.dumps(value)}")
    return "\n".join(lines).encode()


@st.composite
def bad_encodings(draw: st.DrawFn) -> bytes:
    text = draw(random_settings())
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf"])) + text[at:]


contents = st.one_of(alias_bombs(), deep_nesting(), huge_integers(), random_settings(), bad_encodings(),
                     st.binary(max_size=2_000))


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """One plain run first, with no deadline: the engine's first imports (PyTorch, scikit-learn, SciPy) take long on
    a busy machine, and a deadline that fired inside an import would leave a module half made."""
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        config = Path(folder) / "c.toml"
        config.write_text("[train]\nepochs = 1\n", encoding="utf-8")
        assert main(["run", str(config), "--out", str(Path(folder) / "r.json"), *FAST]) == 0


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def expired(*_: object) -> None:
        raise TimeoutError(f"the run took over {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])
@given(content=contents, suffix=st.sampled_from(SUFFIXES))
def test_any_config_file_ends_in_exit_0_1_or_2_with_one_line(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / f"fuzzed{suffix}"
        config.write_bytes(content)
        stdout, stderr = io.StringIO(), io.StringIO()
        with deadline(30), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["run", str(config), "--out", str(Path(folder) / "r.json"), *FAST])
    err = stderr.getvalue()
    assert code in (0, 1, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and len(err) < 1_000, err[:2_000]


override_values = st.one_of(
    st.text(max_size=50), st.integers(1, 30_000).map(lambda n: "[" * n), st.integers(15, 6_000).map(lambda n: "9" * n),
    st.recursive(st.integers() | st.floats() | st.text(max_size=5), lambda inner: st.lists(inner, max_size=3),
                 max_leaves=8).map(json.dumps))


@settings(max_examples=max(30, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["train.seed", "train.lr", "model.hidden", "strategy.name", "tasks.0.loss", "x.y"]),
       value=override_values)
def test_any_set_value_ends_in_exit_0_1_or_2_with_one_line(key: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "c.toml"
        config.write_text("[train]\nepochs = 1\n", encoding="utf-8")
        stdout, stderr = io.StringIO(), io.StringIO()
        with deadline(30), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["run", str(config), "--out", str(Path(folder) / "r.json"), *FAST, "--set", f"{key}={value}"])
    err = stderr.getvalue()
    assert code in (0, 1, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and len(err) < 1_000, err[:2_000]


def test_an_error_quotes_at_most_200_characters_of_a_value() -> None:
    stderr = io.StringIO()
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stderr(stderr):
        config = Path(folder) / "c.toml"
        config.write_text("[train]\nepochs = 1\n", encoding="utf-8")
        assert main(["run", str(config), *FAST, "--set", "strategy.name=" + "[" * 351]) == 2
    shown = stderr.getvalue()
    assert "[" * 190 in shown and "[" * 200 not in shown and "…" in shown  # cut to 200 characters, quotes included
