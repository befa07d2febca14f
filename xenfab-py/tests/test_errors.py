"""Errors: the field path of a from_dict error, and ParseError and ValidationError through
pickle."""

from __future__ import annotations

import copy
import pickle
import tomllib
from typing import Any

import pytest

import xenfab


def _round_trips(value: Any) -> list[Any]:
    return [pickle.loads(pickle.dumps(value, protocol)) for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1)] + [
        copy.copy(value),
        copy.deepcopy(value),
    ]


def test_errors_keep_their_attributes_through_pickle() -> None:
    with pytest.raises(xenfab.ParseError) as parse:
        xenfab.Fabric.from_toml('version = 1\n[site\nname = "grid"\n', "fabric.toml")
    with pytest.raises(xenfab.ParseError) as from_dict:
        xenfab.Fabric.from_dict({"version": 1, "site": {"nmae": "grid"}})
    broken = xenfab.Fabric.from_toml(xenfab.example().replace('"192.168.96.43"', '"10.0.0.43"'), "site.toml")
    with pytest.raises(xenfab.ValidationError) as invalid:
        broken.render()
    for error in (parse.value, from_dict.value, xenfab.ParseError("m", 1, 2, "a.b")):
        for copied in _round_trips(error):
            assert type(copied) is xenfab.ParseError and str(copied) == str(error)
            assert (copied.line, copied.column, copied.path) == (error.line, error.column, error.path)
    assert from_dict.value.path == "site.nmae"
    for diagnostic in broken.validate():
        for copied in _round_trips(diagnostic):
            assert copied == diagnostic and str(copied) == str(diagnostic) and copied.line == diagnostic.line
    for copied in _round_trips(invalid.value):
        assert type(copied) is xenfab.ValidationError and str(copied) == str(invalid.value)
        assert copied.diagnostics == invalid.value.diagnostics
        assert [str(d) for d in copied.diagnostics] == [str(d) for d in invalid.value.diagnostics]


def test_from_dict_error_names_the_field_path() -> None:
    data = tomllib.loads(xenfab.example())
    data["dom0s"][0]["guests"][1]["memroy"] = "1G"
    with pytest.raises(xenfab.ParseError, match=r"^vars: dom0s\[0\]\.guests\[1\]\.memroy: unknown field `memroy` \(did you mean `memory`\?\), expected one of ") as raised:
        xenfab.Fabric.from_dict(data, "vars")
    assert (raised.value.path, raised.value.line, raised.value.column) == ("dom0s[0].guests[1].memroy", None, None)

    data = tomllib.loads(xenfab.example())
    data["dom0s"][1]["guests"][0]["vcpus"] = "two"
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.Fabric.from_dict(data)
    assert str(raised.value) == '<dict>: dom0s[1].guests[0].vcpus: invalid type: string "two", expected u32'
    assert raised.value.path == "dom0s[1].guests[0].vcpus"

    data = tomllib.loads(xenfab.example())
    data["hardware"]["pe1950"]["disks"][0]["size"] = object()
    with pytest.raises(xenfab.ParseError, match=r"^<dict>: hardware\.pe1950\.disks\[0\]\.size: ") as raised:
        xenfab.Fabric.from_dict(data)
    assert raised.value.path == "hardware.pe1950.disks[0].size"


def test_from_dict_error_of_the_whole_mapping_has_no_path() -> None:
    with pytest.raises(xenfab.ParseError, match=r"^<dict>: missing field `site`") as raised:
        xenfab.Fabric.from_dict({"version": 1})
    assert raised.value.path is None


def test_parse_errors_of_text_have_no_path() -> None:
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.Fabric.from_toml("version = 1\n[site\n")
    assert raised.value.path is None
