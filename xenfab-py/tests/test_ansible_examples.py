"""Every example of the Ansible module's documentation (`EXAMPLES` in
plugins/modules/render.py) runs as written, with only its paths moved into a temporary
directory: a user who copies one gets a working task."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import yaml

import xenfab
from test_ansible import PLUGINS, Ansible, doc_strings, needs_fabric

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

MODULE = PLUGINS / "modules" / "render.py"


def examples() -> list[dict[str, Any]]:
    tasks = yaml.safe_load(doc_strings(MODULE)["EXAMPLES"])
    assert isinstance(tasks, list) and tasks
    return tasks


def moved(value: Any, paths: dict[str, str]) -> Any:
    """`value` with each path of `paths` (the examples' /etc and /srv) replaced."""
    if isinstance(value, str):
        for old, new in paths.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [moved(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: moved(v, paths) for k, v in value.items()}
    return value


@needs_fabric
@pytest.mark.parametrize("index", range(len(examples())))
def test_each_example_runs(index: int, tmp_path: pathlib.Path) -> None:
    task = examples()[index]
    example = tomllib.loads(xenfab.example())
    fabric_file = tmp_path / "etc" / "fabric.toml"
    fabric_file.parent.mkdir()
    fabric_file.write_text(xenfab.example())
    task = moved(task, {"/etc/xenfab/fabric.toml": str(fabric_file), "/srv/xenfab": str(tmp_path / "srv")})
    [result] = Ansible(tmp_path).play([task], vars={"xenfab_fabric": example})
    assert result["status"] == "ok", json.dumps(result, indent=1)
    assert not result.get("failed"), result
