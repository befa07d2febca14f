"""The typed usage file, which pyright checks in strict mode, also runs."""

import pathlib

import typed_usage


def test_typed_usage_runs(tmp_path: pathlib.Path) -> None:
    typed_usage.main(tmp_path / "out")
