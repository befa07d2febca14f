"""The inventory plugin xenfab.fabric.fabric, run by `ansible-inventory --list` on a
configuration file in a temporary directory (with the environment of test_ansible's plays)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import xenfab
from test_ansible import ROOT, Ansible, ansible, needs_fabric  # noqa: F401 (the fixture)

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

QUATTOR = ROOT / "tests" / "cases" / "quattor-scenario" / "profiles"

pytestmark = needs_fabric


def plain(value: Any) -> Any:
    """`value` without ansible-inventory's `{"__ansible_unsafe": ...}` wrappers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Inventory:
    """`ansible-inventory --list` of one configuration file, as groups and host variables."""

    def __init__(self, ansible: Ansible, config: dict[str, Any], name: str = "site.xenfab.yml") -> None:
        self.path = ansible.tmp / name
        self.path.write_text(json.dumps(config))  # JSON is YAML
        self.ansible = ansible

    def run(self, *, rc: int = 0) -> subprocess.CompletedProcess[str]:
        env = self.ansible.env()
        # Only this plugin, and a source it cannot parse is an error (not a warning and an
        # empty inventory).
        env.update(ANSIBLE_INVENTORY_ENABLED="xenfab.fabric.fabric", ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
        proc = subprocess.run(
            [str(pathlib.Path(sys.executable).parent / "ansible-inventory"), "-i", str(self.path), "--list"],
            env=env, cwd=self.ansible.tmp, capture_output=True, text=True, timeout=300, check=False,
        )
        assert proc.returncode == rc, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def list(self) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
        """Each group's hosts (not its children's), and each host's variables."""
        out = plain(json.loads(self.run().stdout))
        hostvars = out.pop("_meta")["hostvars"]
        return {name: group.get("hosts", []) for name, group in out.items()}, hostvars


@pytest.fixture
def site(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "fabric.toml"
    path.write_text(xenfab.example())
    return path


def test_groups_and_host_variables(ansible: Ansible, site: pathlib.Path) -> None:
    groups, hostvars = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.toml"}).list()
    fabric = xenfab.Fabric.from_file(site)
    assert groups["dom0s"] == [d.fqdn for d in fabric.dom0s]
    assert groups["guests"] == [g.fqdn for g in fabric.guests]
    for dom0 in fabric.dom0s:
        assert groups[f"dom0_{dom0.name}"] == [g.fqdn for g in dom0.guests]
    assert groups["dom0_xen01"] == ["ullr.example.org", "vali.example.org"]

    ullr = hostvars["ullr.example.org"]
    expected = {f"xenfab_{k}": v for k, v in fabric.guest("ullr").to_dict().items()}
    assert ullr == dict(expected, ansible_host="192.168.96.43")
    assert (ullr["xenfab_ip"], ullr["xenfab_mac"], ullr["xenfab_memory"], ullr["xenfab_vcpus"]) == (
        "192.168.96.43", "00:16:3e:a8:60:2b", 1024, 1
    )
    assert (ullr["xenfab_os"], ullr["xenfab_state"], ullr["xenfab_dom0"]) == ("centos-4.6-i386", "install", "xen01.example.org")

    xen01 = hostvars["xen01.example.org"]
    assert xen01["ansible_host"] == "192.168.96.11"
    assert xen01["xenfab_role"] == "dom0"
    assert xen01["xenfab_guests"] == ["ullr.example.org", "vali.example.org"]
    assert xen01["xenfab_capacity"] == fabric.dom0("xen01").to_dict()["capacity"]
    assert (xen01["xenfab_memory"], xen01["xenfab_hardware"], xen01["xenfab_state"]) == (512, "pe1950", "localboot")


def test_hosts_by_name(ansible: Ansible, site: pathlib.Path) -> None:
    groups, hostvars = Inventory(
        ansible, {"plugin": "xenfab.fabric.fabric", "fabric": str(site), "host_names": "name"}
    ).list()
    assert groups["dom0_xen01"] == ["ullr", "vali"]
    assert hostvars["ullr"]["xenfab_dom0"] == "xen01"  # hostvars[xenfab_dom0] is its dom0
    assert hostvars["xen01"]["xenfab_guests"] == ["ullr", "vali"]
    assert hostvars["ullr"]["xenfab_fqdn"] == "ullr.example.org"


def test_a_dom0s_group_name_is_a_valid_group_name(ansible: Ansible, tmp_path: pathlib.Path) -> None:
    data = tomllib.loads(xenfab.example())
    data["dom0s"][0]["name"] = "xen-01"
    (tmp_path / "fabric.json").write_text(json.dumps(data))
    groups, _ = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.json"}).list()
    assert groups["dom0_xen_01"] == ["ullr.example.org", "vali.example.org"]
    assert "xen-01.example.org" in groups["dom0s"]


def test_constructed_groups_and_vars(ansible: Ansible, site: pathlib.Path) -> None:
    groups, hostvars = Inventory(
        ansible,
        {
            "plugin": "xenfab.fabric.fabric",
            "fabric": "fabric.toml",
            "keyed_groups": [{"key": "xenfab_state", "prefix": "boot"}],
            "groups": {"big": "xenfab_memory >= 2048"},
            "compose": {"ansible_user": "'root'"},
        },
    ).list()
    assert groups["boot_install"] == ["ullr.example.org"]
    assert "bragi.example.org" in groups["big"] and "ullr.example.org" not in groups["big"]
    assert hostvars["ullr.example.org"]["ansible_user"] == "root"


def test_boot_states_of_an_output_tree(ansible: Ansible, site: pathlib.Path, tmp_path: pathlib.Path) -> None:
    fabric = xenfab.Fabric.from_file(site)
    fabric.write(tmp_path / "out")
    fabric.boot("ullr", "localboot", tmp_path / "out")
    config = {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.toml"}
    _, hostvars = Inventory(ansible, dict(config, output="out")).list()
    assert hostvars["ullr.example.org"]["xenfab_state"] == "localboot"
    _, hostvars = Inventory(ansible, config).list()
    assert hostvars["ullr.example.org"]["xenfab_state"] == "install"


def test_quattor_profiles(ansible: Ansible) -> None:
    groups, hostvars = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "profiles": str(QUATTOR)}).list()
    fabric = xenfab.Fabric.from_quattor(QUATTOR)
    assert groups["dom0s"] == [d.fqdn for d in fabric.dom0s]
    assert sorted(hostvars) == sorted([d.fqdn for d in fabric.dom0s] + [g.fqdn for g in fabric.guests])


def test_an_invalid_fabric_fails_with_its_diagnostics(ansible: Ansible, tmp_path: pathlib.Path) -> None:
    broken = tomllib.loads(xenfab.example())
    guests = broken["dom0s"][0]["guests"]
    guests[1]["ip"] = guests[0]["ip"]
    (tmp_path / "fabric.json").write_text(json.dumps(broken))
    proc = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.json"}).run(rc=1)
    errors = [str(d) for d in xenfab.Fabric.from_file(tmp_path / "fabric.json").validate() if d.severity == "error"]
    assert errors
    for line in errors:
        assert line in proc.stderr, proc.stderr
    assert "error[duplicate-ip]: dom0s[xen01].guests[vali].ip:" in proc.stderr


def test_a_key_typo_names_file_line_and_key(ansible: Ansible, tmp_path: pathlib.Path) -> None:
    text = xenfab.example().replace("memory", "memroy", 1)
    (tmp_path / "fabric.toml").write_text(text)
    proc = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.toml"}).run(rc=1)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "memroy" in l)
    assert f"fabric.toml:{line}:" in proc.stderr, proc.stderr
    assert "unknown field `memroy`" in proc.stderr


def test_fabric_or_profiles(ansible: Ansible) -> None:
    proc = Inventory(ansible, {"plugin": "xenfab.fabric.fabric"}).run(rc=1)
    assert "give exactly one of `fabric` and `profiles`" in proc.stderr


@pytest.mark.parametrize("name", ["site.yml", "xenfab.toml", "site.xenfab.json"])
def test_only_xenfab_yml_files_are_its(ansible: Ansible, site: pathlib.Path, name: str) -> None:
    proc = Inventory(ansible, {"plugin": "xenfab.fabric.fabric", "fabric": "fabric.toml"}, name=name).run(rc=1)
    assert f"Unable to parse {ansible.tmp / name} as an inventory source" in proc.stderr, proc.stderr

