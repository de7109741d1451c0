"""Each kind of hostile config file is refused at once: exit 2, one line naming the file, never its contents."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtl_core.cli import main

SECRET = "SECRETVALUE"
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
HOSTILE: dict[str, tuple[str, bytes, str]] = {
    "billion laughs": (".yaml", LAUGHS.encode(), "more than 20,000 values"),
    "an alias to itself": (".yaml", b"train: &x [1, *x]", "contains it"),
    "deep JSON": (".json", b"[" * 40_000 + b"]" * 40_000, "nested too deeply"),
    "deep TOML": (".toml", b"a = " + b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),
    "deep YAML": (".yaml", b"a: " + b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),
    "wide YAML": (".yaml", b"a:\n" + b"- 1\n" * 24_000, "more than 20,000 values"),
    "a 5000-digit integer in JSON": (".json", b'{"train": {"seed": ' + b"9" * 5_000 + b"}}", "integer"),
    "a 5000-digit integer in TOML": (".toml", b"[train]\nseed = " + b"9" * 5_000, "integer"),
    "a 5000-digit integer in YAML": (".yaml", b"train:\n  seed: " + b"9" * 5_000, "integer"),
    "a huge hexadecimal integer": (".toml", b"[train]\nseed = 0x" + b"f" * 5_000, "integer of 20000 bits"),
    "invalid UTF-8": (".toml", b'[train]\nname = "\xff"', "byte 0xff at offset 16"),
    "a Python object tag": (".yaml", f"a: !!python/object/apply:os.system ['{SECRET}']".encode(), "cannot be parsed"),
    "a date": (".toml", b"[train]\nseed = 1979-05-27", "holds a date"),
    "binary": (".yaml", b"train: !!binary aGVsbG8=", "holds a bytes"),
    "a key that is not text": (".yaml", b"train:\n  1: 2", "not text"),
    "too large": (".json", b'{"a": "' + b"x" * 200_000 + b'"}', "larger than 100,000 bytes"),
    "a syntax error": (".yaml", f"train: [{SECRET}, {SECRET}".encode(), "cannot be parsed as YAML"),
    "a list at the top": (".json", f'["{SECRET}"]'.encode(), "table of settings"),
    "random bytes": (".toml", bytes(range(256)), "not UTF-8"),
}


@pytest.fixture
def deadline() -> Iterator[None]:
    """A hang (an expanding alias) fails the test instead of stalling the suite."""
    def expired(*_: object) -> None:
        raise TimeoutError("reading the config file took over 20 s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("deadline")
@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_config_file_exits_2_with_one_line(kind: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    suffix, content, words = HOSTILE[kind]
    config = tmp_path / f"hostile{suffix}"
    config.write_bytes(content)
    code = main(["run", str(config), "--no-store", "--quiet", "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err[:2000]
    assert "'hostile" in lines[0] and words in lines[0] and SECRET not in lines[0] and len(lines[0]) < 400


@pytest.mark.parametrize("path", ["missing.toml", "folder.toml", "bad\0name.toml"])
def test_a_config_path_that_is_not_a_readable_file_exits_2(path: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "folder.toml").mkdir()
    code = main(["run", str(tmp_path / path), "--no-store", "--quiet"])
    assert code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_byte_order_mark_and_yaml_merge_keys_are_still_read(tmp_path: Path) -> None:
    from mtl_core.config_files import read_config_file

    (tmp_path / "a.toml").write_bytes(b"\xef\xbb\xbf[train]\nepochs = 2\n")
    (tmp_path / "b.yaml").write_text("base: &base {epochs: 2}\ntrain:\n  <<: *base\n  seed: 1\n", encoding="utf-8")
    assert read_config_file(tmp_path / "a.toml") == {"train": {"epochs": 2}}
    assert read_config_file(tmp_path / "b.yaml")["train"] == {"epochs": 2, "seed": 1}


@pytest.mark.parametrize("value", ["[" * 100_000, "9" * 5_000, "[" + "[1]," * 40 + "1]", "0" * 200_000,
                                   '{"a": ' * 40 + "1" + "}" * 40])
def test_a_hostile_set_value_exits_2_with_one_line(value: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[train]\nepochs = 1\n", encoding="utf-8")
    code = main(["run", str(config), "--no-store", "--quiet", "--set", f"train.seed={value}"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and len(err) < 400 and "train.seed" in err, err[:2000]
