"""The module xenfab.fabric.boot, run by ansible-playbook against localhost (see test_ansible)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

import xenfab
from test_ansible import ANSIBLE_KEYS, Ansible, ansible, documented, example, needs_fabric  # noqa: F401 (the fixtures)

pytestmark = needs_fabric


def boot(dest: pathlib.Path, host: str, state: str | None = None, **options: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"host": host, "dest": str(dest), "fabric": "{{ fabric }}", **options}
    if state is not None:
        args["state"] = state
    return {"name": f"boot {host} {state}", "xenfab.fabric.boot": args}


@pytest.fixture
def out(ansible: Ansible, example: dict[str, Any]) -> pathlib.Path:
    dest = ansible.tmp / "out"
    xenfab.Fabric.from_dict(example, origin="<fabric>").write(str(dest))
    return dest


def recorded(dest: pathlib.Path) -> dict[str, str]:
    path = dest / "tftpboot" / ".xenfab-boot-state.json"
    return json.loads(path.read_text())["hosts"] if path.exists() else {}


def links(dest: pathlib.Path) -> dict[str, str]:
    return {str(p.relative_to(dest)): str(p.readlink()) for p in (dest / "tftpboot").rglob("*") if p.is_symlink()}


def test_changed_only_when_the_state_changes(ansible: Ansible, example: dict[str, Any], out: pathlib.Path) -> None:
    fabric = xenfab.Fabric.from_dict(example, origin="<fabric>")
    first, second, query = ansible.play(
        [boot(out, "ullr", "localboot"), boot(out, "ullr.example.org", "localboot"), boot(out, "ullr")],
        "--diff",
        vars={"fabric": example},
    )
    assert first["changed"] is True, first
    assert (first["host"], first["dom0"], first["previous"], first["state"], first["recorded"]) == (
        "ullr.example.org", "xen01.example.org", "install", "localboot", True
    )
    assert first["diff"] == {"before": "ullr.example.org install\n", "after": "ullr.example.org localboot\n"}
    assert second["changed"] is False and "diff" not in second
    assert (second["previous"], second["state"]) == ("localboot", "localboot")
    assert query["changed"] is False and query["state"] == "localboot" and query["recorded"] is True
    for result in (first, second, query):
        assert set(result) - ANSIBLE_KEYS <= documented("boot"), result
    assert recorded(out) == {"ullr.example.org": "localboot"}
    # What the Python API (the same core code as `xenfab boot`) makes of the same switch.
    direct = ansible.tmp / "direct"
    fabric.write(direct)
    fabric.boot("ullr", "localboot", direct)
    assert links(out) == links(direct)

    # A host already in the fabric's state is left alone, recorded or not.
    [vali] = ansible.play([boot(out, "vali", "localboot")], vars={"fabric": example})
    assert vali["changed"] is False and vali["recorded"] is False
    assert "vali.example.org" not in recorded(out)


def test_check_mode_writes_nothing(ansible: Ansible, example: dict[str, Any], out: pathlib.Path) -> None:
    before = links(out)
    [result] = ansible.play([boot(out, "ullr", "localboot")], "--check", "--diff", vars={"fabric": example})
    assert result["changed"] is True, result
    assert (result["previous"], result["state"], result["recorded"]) == ("install", "localboot", False)
    assert result["diff"]["after"] == "ullr.example.org localboot\n"
    assert links(out) == before and recorded(out) == {}
    # What would be refused is refused in check mode too.
    [refused] = ansible.play([boot(out, "xen01", "install")], "--check", vars={"fabric": example}, rc=2)
    assert refused["status"] == "failed"


def test_a_dom0_install_keeps_its_guests_unless_told(ansible: Ansible, example: dict[str, Any], out: pathlib.Path) -> None:
    [refused] = ansible.play([boot(out, "xen01", "install")], vars={"fabric": example}, rc=2)
    assert refused["status"] == "failed"
    assert "installing dom0 `xen01.example.org` wipes its disks and the volumes of its 2 guests" in refused["msg"]
    assert recorded(out) == {}
    reinstall, wipe = ansible.play(
        [boot(out, "xen01", "reinstall"), boot(out, "xen01", "install", wipe_guests=True)], vars={"fabric": example}
    )
    assert reinstall["changed"] and reinstall["state"] == "reinstall"
    assert wipe["changed"] and (wipe["previous"], wipe["state"]) == ("reinstall", "install")
    assert recorded(out) == {"xen01.example.org": "install"}


def test_errors_name_the_host(ansible: Ansible, example: dict[str, Any], out: pathlib.Path) -> None:
    [missing] = ansible.play([boot(out, "nope", "install")], vars={"fabric": example}, rc=2)
    assert missing["msg"].startswith("no host `nope`; the fabric's hosts: `xen01`, `ullr`"), missing["msg"]
    # the fabric's lookup: an FQDN in capitals is ullr
    [upper] = ansible.play([boot(out, "ULLR.Example.Org", None)], vars={"fabric": example})
    assert upper["host"] == "ullr.example.org" and not upper["changed"], upper
    [bad_state] = ansible.play([boot(out, "vali", "reinstall")], vars={"fabric": example}, rc=2)
    assert "`vali.example.org` cannot be in state `reinstall`" in bad_state["msg"]
    [unrendered] = ansible.play([boot(ansible.tmp / "none", "ullr", "localboot")], vars={"fabric": example}, rc=2)
    assert "render the tree first" in unrendered["msg"]


def test_src_reads_a_fabric_file(ansible: Ansible, out: pathlib.Path) -> None:
    src = ansible.tmp / "fabric.toml"
    src.write_text(xenfab.example())
    [result] = ansible.play(
        [{"xenfab.fabric.boot": {"host": "ullr", "state": "rescue", "src": str(src), "dest": str(out)}}]
    )
    assert result["changed"] is True and result["state"] == "rescue"
