"""The JSON Schema of the fabric file, checked by an independent validator (jsonschema).

Every valid case of the golden corpus must conform, and a file with a misspelt key or a
value of the wrong type must not: the schema says what xenfab accepts.
"""

from __future__ import annotations

import json
import pathlib
import tomllib

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "fabric.schema.json").read_text())
CASES = ROOT / "tests" / "cases"


def load(case: pathlib.Path) -> object:
    for name, read in (("fabric.toml", tomllib.loads), ("fabric.json", json.loads)):
        path = case / name
        if path.exists():
            return read(path.read_text())
    raise FileNotFoundError(case)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "case",
    sorted(
        p.name
        for p in CASES.iterdir()
        if (p / "expected").is_dir() and not (p / "profiles").exists()
    ),
)
def test_valid_cases_conform(case: str) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(load(CASES / case))


@pytest.mark.parametrize("case", ["parse-unknown-field", "parse-bad-type"])
def test_malformed_cases_do_not_conform(case: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(load(CASES / case))
