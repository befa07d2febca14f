"""Every example of the collection's documentation (`EXAMPLES` in plugins/modules/*.py and
plugins/inventory/fabric.py) runs as written, with only its paths moved into a temporary
directory: a user who copies one gets a working task, or inventory."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import yaml

import xenfab
from test_ansible import PLUGINS, ROOT, Ansible, doc_strings, needs_fabric
from test_ansible_inventory import Inventory, plain

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

MODULES = ("render", "boot")
INVENTORY = PLUGINS / "inventory" / "fabric.py"
QUATTOR = ROOT / "tests" / "cases" / "quattor-scenario" / "profiles"


def examples(module: str) -> list[dict[str, Any]]:
    tasks = yaml.safe_load(doc_strings(PLUGINS / "modules" / f"{module}.py")["EXAMPLES"])
    assert isinstance(tasks, list) and tasks
    return tasks


def inventory_examples() -> list[dict[str, Any]]:
    configs = list(yaml.safe_load_all(doc_strings(INVENTORY)["EXAMPLES"]))
    assert configs and all(isinstance(c, dict) for c in configs)
    return configs


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


def site(tmp_path: pathlib.Path) -> dict[str, str]:
    """The example site as /etc/xenfab/fabric.toml and its tree as /srv/xenfab, moved into
    `tmp_path`: the examples' paths and where they are here."""
    fabric_file = tmp_path / "etc" / "fabric.toml"
    fabric_file.parent.mkdir()
    fabric_file.write_text(xenfab.example())
    return {
        "/etc/xenfab/fabric.toml": str(fabric_file),
        "/srv/xenfab": str(tmp_path / "srv"),
        "/var/www/html/profiles": str(QUATTOR),
    }


@needs_fabric
@pytest.mark.parametrize(
    ("module", "index"), [(m, i) for m in MODULES for i in range(len(examples(m)))]
)
def test_each_example_runs(module: str, index: int, tmp_path: pathlib.Path) -> None:
    paths = site(tmp_path)
    if module == "boot":  # it switches a rendered tree
        xenfab.Fabric.from_file(paths["/etc/xenfab/fabric.toml"]).write(paths["/srv/xenfab"])
    task = moved(examples(module)[index], paths)
    [result] = Ansible(tmp_path).play([task], vars={"xenfab_fabric": tomllib.loads(xenfab.example())})
    assert result["status"] == "ok", json.dumps(result, indent=1)
    assert not result.get("failed"), result


@needs_fabric
@pytest.mark.parametrize("index", range(len(inventory_examples())))
def test_each_inventory_example_lists_the_hosts(index: int, tmp_path: pathlib.Path) -> None:
    paths = site(tmp_path)
    config = moved(inventory_examples()[index], paths)
    fabric = (
        xenfab.Fabric.from_file(config["fabric"]) if "fabric" in config else xenfab.Fabric.from_quattor(config["profiles"])
    )
    if "output" in config:
        fabric.write(config["output"])
    groups, hostvars = Inventory(Ansible(tmp_path), config).list()
    by_fqdn = config.get("host_names", "fqdn") == "fqdn"
    name = (lambda h: h.fqdn) if by_fqdn else (lambda h: h.name)
    assert groups["dom0s"] == [name(d) for d in fabric.dom0s]
    assert groups["guests"] == [name(g) for g in fabric.guests]
    for dom0 in fabric.dom0s:
        assert groups[f"dom0_{dom0.name.replace('-', '_')}"] == [name(g) for g in dom0.guests]
    for host in (*fabric.dom0s, *fabric.guests):
        assert hostvars[name(host)]["ansible_host"] == host.ip
        assert hostvars[name(host)]["xenfab_fqdn"] == host.fqdn
    for key, value in config.get("compose", {}).items():  # the example's compose: literals
        assert all(v[key] == plain(yaml.safe_load(value)) for v in hostvars.values())
