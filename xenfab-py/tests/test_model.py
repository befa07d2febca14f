"""The read model: looking hosts up by name, what a dom0 and a guest have, to_dict, caching,
pickling, and the field path of a from_dict error."""

from __future__ import annotations

import copy
import os
import gc
import json
import pathlib
import pickle
import tomllib
import weakref
from typing import Any

import pytest

import xenfab

CASES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "cases"


@pytest.fixture(scope="module")
def fabric() -> xenfab.Fabric:
    return xenfab.Fabric.from_toml(xenfab.example(), "site.toml")


# Looking up


def test_dom0_and_guest_by_name(fabric: xenfab.Fabric) -> None:
    xen01 = fabric.dom0("xen01")
    assert xen01 is fabric.dom0s[0]
    ullr = xen01.guest("ullr")
    assert ullr is fabric.guest("ullr") is xen01.guests[0]
    assert ullr.dom0 == "xen01" and fabric.dom0(ullr.dom0) is xen01
    assert fabric.guests == tuple(g for d in fabric.dom0s for g in d.guests)


def test_a_host_by_name_or_fqdn_is_its_dom0_or_guest(fabric: xenfab.Fabric) -> None:
    assert fabric.host("xen01") is fabric.dom0("xen01")
    assert fabric.host("ullr") is fabric.guest("ullr")
    assert fabric.host("ULLR.example.org") is fabric.guest("ullr")
    assert fabric.host("xen03.example.org") is fabric.dom0("xen03")
    for name in ("ullr.example.org.evil", "../ullr", "ullr\n", ""):
        with pytest.raises(KeyError) as raised:
            fabric.host(name)
        assert raised.value.args[0].startswith("no host `"), name


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda f: f.dom0("xen09"), "no dom0 `xen09`; the fabric's dom0s: `xen01`, `xen02`, `xen03`"),
        (lambda f: f.dom0("ullr"), "no dom0 `ullr`: it is a guest of `xen01`"),
        (lambda f: f.guest("xen01"), "no guest `xen01`: it is a dom0"),
        (lambda f: f.guest("nope"), "no guest `nope`; the fabric's guests: `ullr`, `vali`, `bragi`, `skadi`, `idunn`"),
        (lambda f: f.dom0("xen01").guest("nope"), "no guest `nope` on `xen01`; its guests: `ullr`, `vali`"),
        (lambda f: f.dom0("xen01").guest("idunn"), "`idunn` is a guest of `xen03`, not of `xen01`"),
        (lambda f: f.dom0("xen01\n"), "no dom0 `xen01\\n`; the fabric's dom0s"),
    ],
)
def test_an_unknown_name_is_a_key_error_naming_known_ones(fabric: xenfab.Fabric, lookup: Any, message: str) -> None:
    with pytest.raises(KeyError) as raised:
        lookup(fabric)
    assert raised.value.args[0].startswith(message)


def test_a_key_error_lists_five_names_and_how_many() -> None:
    data = tomllib.loads(xenfab.example())
    data["dom0s"][2]["guests"].append({"name": "heimdall", "ip": "192.168.96.48", "mode": "pvh", "os": "rocky-9-x86_64"})
    fabric = xenfab.Fabric.from_dict(data)
    assert fabric.guest("heimdall").dom0 == "xen03"
    with pytest.raises(KeyError) as raised:
        fabric.guest("nope")
    assert raised.value.args[0] == "no guest `nope`; the fabric's guests: `ullr`, `vali`, `bragi`, `skadi`, `idunn`, … (6 in all)"


def test_lookups_of_an_invalid_fabric_raise_validation_error() -> None:
    broken = xenfab.Fabric.from_toml(xenfab.example().replace('"192.168.96.43"', '"10.0.0.43"'))
    for use in (
        lambda: broken.dom0("xen01"),
        lambda: broken.guest("ullr"),
        lambda: broken.host("ullr"),
        lambda: broken.guests,
        broken.to_dict,
        broken.report,
    ):
        with pytest.raises(xenfab.ValidationError):
            use()


# What a dom0 and a guest have


def test_a_dom0_has_its_profiles_state_and_capacity(fabric: xenfab.Fabric) -> None:
    xen01 = fabric.dom0("xen01")
    hw = xen01.hardware
    assert (hw.name, hw.ram_mib, hw.cpus, hw.raid) == ("pe1950", 16384, 8, "none")
    assert [name for name, _ in hw.disks] == ["sda", "sdb"]
    assert (xen01.os.name, xen01.os.family, xen01.os.release, xen01.os.arch) == ("centos-5.2-x86_64", "el5", "5.2", "x86_64")
    assert xen01.os.kernel_version == "2.6.18-92.el5"
    assert (xen01.network.name, xen01.network.subnet, xen01.network.bridge) == ("public", "192.168.96.0/24", "xenbr0")
    assert xen01.state == "localboot" and xen01.partitioning == "seed-softraid1" and xen01.balloon is False
    # The profiles are shared: one object a name.
    assert fabric.dom0("xen01").network is fabric.guest("ullr").network

    cap = xen01.capacity
    assert cap is xen01.capacity
    assert (cap.ram_mib, cap.dom0_memory_mib, cap.cpus, cap.dom0_vcpus) == (16384, 512, 8, 1)
    assert cap.guest_memory_mib == sum(g.memory_mib for g in xen01.guests)
    assert cap.guest_vcpus == sum(g.vcpus for g in xen01.guests)
    assert cap.memory_used_mib == cap.hypervisor_memory_mib + cap.dom0_memory_mib + cap.guest_memory_mib
    assert cap.memory_free_mib == cap.ram_mib - cap.memory_used_mib
    assert (cap.save_area_mount, cap.save_area_mib) == ("/var/lib/xen/save", 10240)
    assert xen01.volume_groups == cap.volume_groups
    xenvg = next(vg for vg in xen01.volume_groups if vg.name == "xenvg")
    assert xenvg.guests_mib == sum(d.size_mib for g in xen01.guests for d in g.disks if d.vg == "xenvg")
    assert xenvg.available_mib == xenvg.size_mib - xenvg.system_mib
    assert xenvg.free_mib == xenvg.available_mib - xenvg.guests_mib


def test_the_capacity_is_the_reports(fabric: xenfab.Fabric) -> None:
    report = fabric.report()
    assert [r["dom0"] for r in report] == [d.fqdn for d in fabric.dom0s]
    for dom0, row in zip(fabric.dom0s, report):
        cap, want = dom0.capacity, row["capacity"]
        assert (cap.ram_mib, cap.hypervisor_memory_mib, cap.dom0_memory_mib, cap.guest_memory_mib) == (
            want["ram"],
            want["hypervisor_memory"],
            want["dom0_memory"],
            want["guest_memory"],
        )
        assert (cap.cpus, cap.dom0_vcpus, cap.guest_vcpus) == (want["cpus"], want["dom0_vcpus"], want["guest_vcpus"])
        assert [(v.name, v.size_mib, v.system_mib, v.guests_mib) for v in cap.volume_groups] == [
            (v["name"], v["size"], v["system"], v["guests"]) for v in want["volume_groups"]
        ]
        assert dom0.to_dict()["capacity"] == want


def test_a_guest_has_its_dom0_os_network_and_state(fabric: xenfab.Fabric) -> None:
    ullr = fabric.guest("ullr")
    assert (ullr.dom0, ullr.os.name, ullr.os.family, ullr.network.name) == ("xen01", "centos-4.6-i386", "el4", "public")
    assert (ullr.state, ullr.boot_image, ullr.mac_source) == ("install", "xen-domU-c4.6-i386", "derived:xen-last3")
    assert len(ullr.disks) == 1 and isinstance(ullr.disks[0], xenfab.Disk)
    assert fabric.render()["inventory/hosts.csv"].count(f"{ullr.fqdn},guest,xen01,{ullr.ip},{ullr.mac},{ullr.mac_source},public,install")


# to_dict


def test_to_dict_of_a_host_is_its_inventory_file(fabric: xenfab.Fabric) -> None:
    tree = fabric.render()
    for dom0 in fabric.dom0s:
        assert dom0.to_dict() == json.loads(str(tree[f"inventory/hosts/{dom0.fqdn}.json"]))
        for guest in dom0.guests:
            assert guest.to_dict() == json.loads(str(tree[f"inventory/hosts/{guest.fqdn}.json"]))


def test_to_dict_of_the_fabric_is_the_model(fabric: xenfab.Fabric) -> None:
    data = fabric.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["site"]["domain"] == "example.org"
    assert [d["name"] for d in data["dom0s"]] == [d.name for d in fabric.dom0s]
    # The guests in it are those of the inventory files, less the file's own keys.
    ullr = fabric.guest("ullr").to_dict()
    for key in ("fqdn", "role", "dom0"):
        del ullr[key]
    assert data["dom0s"][0]["guests"][0] == ullr


# Caching and freezing


def test_the_model_is_made_once_and_frozen(fabric: xenfab.Fabric) -> None:
    assert fabric.dom0s is fabric.dom0s and isinstance(fabric.dom0s, tuple)
    assert fabric.guests is fabric.guests
    xen01 = fabric.dom0s[0]
    assert xen01.guests is xen01.guests and isinstance(xen01.guests, tuple)
    assert isinstance(xen01.guests[0].disks, tuple)
    for value, attribute in ((xen01, "name"), (xen01.guests[0], "memory_mib"), (xen01.capacity, "ram_mib"), (xen01.os, "name")):
        with pytest.raises(AttributeError):
            setattr(value, attribute, 1)


def test_values_compare_by_value_across_fabrics(fabric: xenfab.Fabric) -> None:
    again = xenfab.Fabric.from_toml(xenfab.example())
    assert again.dom0s == fabric.dom0s and again.guests == fabric.guests
    assert hash(again.dom0("xen01")) == hash(fabric.dom0("xen01"))
    assert again.guest("ullr") != again.guest("vali")
    assert fabric.dom0("xen01") != "xen01"
    # A change in a guest makes its dom0 differ too.
    data = tomllib.loads(xenfab.example())
    data["dom0s"][0]["guests"][0]["memory"] = "512M"
    other = xenfab.Fabric.from_dict(data)
    assert other.guest("ullr") != fabric.guest("ullr")
    assert other.dom0("xen01") != fabric.dom0("xen01")
    assert other.dom0("xen02") == fabric.dom0("xen02")


def test_values_do_not_keep_their_fabric_alive() -> None:
    fabric = xenfab.Fabric.from_toml(xenfab.example())
    ullr = fabric.guest("ullr")
    ref = weakref.ref(fabric)
    del fabric
    gc.collect()
    assert ref() is None
    assert ullr.to_dict()["name"] == "ullr"  # a value still has what it was read from


# Pickling


def _round_trips(value: Any) -> list[Any]:
    return [pickle.loads(pickle.dumps(value, protocol)) for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1)] + [
        copy.copy(value),
        copy.deepcopy(value),
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: xenfab.Fabric.from_toml(xenfab.example(), "site.toml"),
        lambda: xenfab.Fabric.from_json(json.dumps(tomllib.loads(xenfab.example())), "site.json"),
        lambda: xenfab.Fabric.from_dict(tomllib.loads(xenfab.example()), "vars"),
        lambda: xenfab.Fabric.from_quattor(CASES / "quattor-scenario" / "profiles"),
    ],
)
def test_a_fabric_pickles_as_its_source(make: Any) -> None:
    fabric = make()
    for copied in _round_trips(fabric):
        assert isinstance(copied, xenfab.Fabric)
        assert copied.render() == fabric.render()
        assert copied.dom0s == fabric.dom0s
        assert repr(copied) == repr(fabric)


def test_an_invalid_fabric_pickles_with_its_diagnostics(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(xenfab.example().replace('"192.168.96.43"', '"10.0.0.43"'))
    fabric = xenfab.Fabric.from_file(path)
    for copied in _round_trips(fabric):
        assert copied.validate() == fabric.validate()  # lines and the file's name too


def test_dom0s_and_guests_pickle_by_name_with_their_fabric(fabric: xenfab.Fabric) -> None:
    xen01, ullr = fabric.dom0("xen01"), fabric.guest("ullr")
    for copied in _round_trips(xen01):
        assert isinstance(copied, xenfab.Dom0) and copied == xen01 and copied.guests == xen01.guests
    for copied in _round_trips(ullr):
        assert isinstance(copied, xenfab.Guest) and copied == ullr and copied.disks == ullr.disks
    # Values of one fabric pickle it once, and come back sharing one fabric.
    one = len(pickle.dumps(fabric))
    assert len(pickle.dumps(fabric.guests)) < 1.5 * one
    guests = pickle.loads(pickle.dumps(fabric.guests))
    assert guests == fabric.guests
    fabric2, dom0s = pickle.loads(pickle.dumps((fabric, fabric.dom0s)))
    assert all(a is b for a, b in zip(dom0s, fabric2.dom0s, strict=True))


def test_a_value_pickles_after_its_fabric_is_gone() -> None:
    ullr = xenfab.Fabric.from_toml(xenfab.example()).guest("ullr")
    gc.collect()
    assert pickle.loads(pickle.dumps(ullr)) == ullr


# Boot states


def test_boot_states_are_the_fabrics_until_recorded(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    states = fabric.boot_states(tmp_path / "missing")
    assert [s.host for s in states] == [fabric.dom0s[0].fqdn, *(g.fqdn for g in fabric.dom0s[0].guests)] + [
        h for d in fabric.dom0s[1:] for h in (d.fqdn, *(g.fqdn for g in d.guests))
    ]
    assert not any(s.recorded for s in states)
    ullr = next(s for s in states if s.host == "ullr.example.org")
    assert (ullr.dom0, ullr.state) == ("xen01.example.org", "install")
    assert not (tmp_path / "missing").exists()

    fabric.write(tmp_path)
    (tmp_path / "tftpboot" / ".xenfab-boot-state.json").write_text(
        json.dumps({"hosts": {"xen01.example.org": "rescue", "vali.example.org": "reinstall"}})
    )
    with pytest.warns(UserWarning, match=r"recorded state `reinstall` of `vali\.example\.org` is not used"):
        states = fabric.boot_states(tmp_path)
    by_host = {s.host: s for s in states}
    assert (by_host["xen01.example.org"].state, by_host["xen01.example.org"].recorded) == ("rescue", True)
    assert by_host["xen01.example.org"].dom0 is None
    assert (by_host["vali.example.org"].state, by_host["vali.example.org"].recorded) == ("localboot", False)
    # The fabric itself does not change.
    assert fabric.dom0("xen01").state == "localboot"


def test_boot_switches_a_host_as_xenfab_boot_does(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    fabric.write(tmp_path)
    tftp = tmp_path / "tftpboot"
    before = {p: os.readlink(p) for p in tftp.rglob("*") if p.is_symlink()}

    # A dry run checks and writes nothing.
    planned = fabric.boot("ullr", "localboot", tmp_path, dry_run=True)
    assert (planned.host, planned.dom0, planned.state, planned.recorded) == (
        "ullr.example.org", "xen01.example.org", "localboot", False
    )
    assert not (tftp / ".xenfab-boot-state.json").exists()

    done = fabric.boot("ullr.example.org", "localboot", tmp_path)  # by FQDN as well
    assert (done.host, done.state, done.recorded) == ("ullr.example.org", "localboot", True)
    after = {p: os.readlink(p) for p in tftp.rglob("*") if p.is_symlink()}
    assert after != before
    assert json.loads((tftp / ".xenfab-boot-state.json").read_text()) == {"hosts": {"ullr.example.org": "localboot"}}
    by_host = {s.host: s for s in fabric.boot_states(tmp_path)}
    assert (by_host["ullr.example.org"].state, by_host["ullr.example.org"].recorded) == ("localboot", True)
    # The links are those a render of the host in that state gives: the next write keeps them
    # (and writes the state into the inventory).
    result = fabric.write(tmp_path)
    assert result.changed == ["inventory/hosts.csv", "inventory/hosts/ullr.example.org.json"]
    assert not result.created and not result.removed
    assert {p: os.readlink(p) for p in tftp.rglob("*") if p.is_symlink()} == after


def test_boot_refuses_what_xenfab_boot_refuses(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    fabric.write(tmp_path)
    with pytest.raises(KeyError, match=r"no host `nope`; the fabric's hosts: `xen01`, `ullr`"):
        fabric.boot("nope", "install", tmp_path)
    with pytest.raises(ValueError, match=r"no boot state `bogus`"):
        fabric.boot("ullr", "bogus", tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"installing dom0 `xen01\.example\.org` wipes .* 2 guests: use `reinstall`"):
        fabric.boot("xen01", "install", tmp_path)
    with pytest.raises(ValueError, match=r"`vali\.example\.org` cannot be in state `reinstall`"):
        fabric.boot("vali", "reinstall", tmp_path)
    with pytest.raises(OSError, match="render the tree first"):
        fabric.boot("ullr", "install", tmp_path / "missing")
    assert not (tmp_path / "tftpboot" / ".xenfab-boot-state.json").exists()
    assert fabric.boot("xen01", "install", tmp_path, wipe_guests=True).state == "install"
