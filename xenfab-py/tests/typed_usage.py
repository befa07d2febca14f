"""A typed use of the whole API, checked by ``pyright`` in strict mode (``[tool.pyright]`` in
``pyproject.toml``) and run by ``test_typed_usage.py``: the stubs must describe what a caller
writes, without casts or ``Any``."""

from __future__ import annotations

import json
import pathlib
import pickle
from typing import Literal

import xenfab


def summary(fabric: xenfab.Fabric) -> dict[str, list[tuple[str, str, int]]]:
    """Each dom0's guests, with their MAC and the size of their first volume."""
    return {
        d.fqdn: [(g.name, g.mac, g.disks[0].size_mib if g.disks else 0) for g in d.guests]
        for d in fabric.dom0s
    }


def model(fabric: xenfab.Fabric, out: pathlib.Path) -> dict[str, object]:
    """The read model: hosts by name, their profiles and capacity, dicts, boot states."""
    xen01: xenfab.Dom0 = fabric.dom0("xen01")
    ullr: xenfab.Guest = xen01.guest("ullr")
    same: xenfab.Guest = fabric.guest(ullr.name)
    owner: xenfab.Dom0 = fabric.dom0(ullr.dom0)
    os: xenfab.Os = ullr.os
    network: xenfab.Network = ullr.network
    hardware: xenfab.Hardware = xen01.hardware
    disks: tuple[tuple[str, int], ...] = hardware.disks
    capacity: xenfab.Capacity = xen01.capacity
    free: list[int] = [vg.free_mib for vg in xen01.volume_groups]
    save: int | None = capacity.save_area_mib
    states: list[xenfab.HostState] = fabric.boot_states(out)
    recorded: list[bool] = [s.recorded for s in states]
    out.mkdir(parents=True, exist_ok=True)  # a dry run checks that the tree is there
    planned: xenfab.HostState = fabric.boot("ullr", "localboot", out, wipe_guests=False, dry_run=True)
    guests: tuple[xenfab.Guest, ...] = fabric.guests
    copied: xenfab.Guest = pickle.loads(pickle.dumps(ullr))
    return {
        "same": same == ullr == copied and owner == xen01,
        "os": (os.family, os.release, os.arch, os.kernel_version),
        "network": (network.subnet, network.dns, network.vlan),
        "disks": disks,
        "memory": (capacity.memory_used_mib, capacity.memory_free_mib, save, free),
        "states": (recorded, [s.state for s in states], [s.dom0 for s in states], planned.state),
        "guests": len(guests),
        "dicts": (fabric.to_dict()["site"], xen01.to_dict()["capacity"], ullr.to_dict()["mac"], fabric.report()[0]["dom0"]),
    }


def problems(fabric: xenfab.Fabric) -> list[str]:
    severity: Literal["error", "warning"]
    lines: list[str] = []
    for d in fabric.validate():
        severity = d.severity
        line: int | None = d.line
        lines.append(f"{severity} {d.code} {d.path} {d.file}:{line}:{d.column} {d.message} {d}")
    return lines


def files_and_links(fabric: xenfab.Fabric) -> tuple[dict[str, str], dict[str, str]]:
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for path, entry in fabric.render().items():
        if isinstance(entry, xenfab.Link):
            links[path] = entry.target
        else:
            files[path] = entry
    return files, links


def modes_of_one_host(fabric: xenfab.Fabric, host: str) -> dict[str, int]:
    modes: dict[str, int] = {}
    for path, entry in fabric.show(host, files=True).items():
        if isinstance(entry, xenfab.File):
            contents: str = entry.contents
            modes[path] = entry.mode if contents else 0
    shown: dict[str, str | xenfab.Link] = fabric.show(host)
    return modes if shown.keys() == modes.keys() | {p for p, e in shown.items() if isinstance(e, xenfab.Link)} else {}


def write(fabric: xenfab.Fabric, out: pathlib.Path) -> bool:
    result: xenfab.WriteResult = fabric.write(out, dry_run=True)
    paths: list[str] = result.created + result.changed + result.unchanged + result.removed
    diff: str | None = result.diff
    one: xenfab.WriteResult = fabric.write(out, dry_run=True, hosts=["ullr", "xen02.example.org"])
    behind: tuple[str | None, ...] = one.left_behind
    sites: list[str] = [part or "the site" for part in behind]
    return result.changed_anything and bool(paths) and diff is not None and "+++ b/" in diff and "the site" in sites


def load(path: pathlib.Path) -> xenfab.Fabric:
    try:
        if path.is_dir():
            return xenfab.Fabric.from_quattor(path)
        return xenfab.Fabric.from_file(path)
    except xenfab.ValidationError as e:
        raise SystemExit("\n".join(str(d) for d in e.diagnostics)) from e
    except xenfab.ParseError as e:
        line: int | None = e.line
        raise SystemExit(f"{e} (line {line}, column {e.column})") from e
    except (xenfab.RenderError, OSError) as e:
        raise SystemExit(str(e)) from e


def main(out: pathlib.Path) -> None:
    fabric = xenfab.Fabric.from_toml(xenfab.example(), "site.toml")
    json_file = pathlib.Path(__file__).resolve().parents[2] / "tests/cases/custom-layout-json/fabric.json"
    data: dict[str, object] = json.loads(json_file.read_text())
    assert summary(xenfab.Fabric.from_dict(data, origin="vars")) == summary(load(json_file))
    assert problems(fabric) == []
    files, links = files_and_links(fabric)
    assert files and links
    assert modes_of_one_host(fabric, "xen01")["dom0s/xen01.example.org/provision.sh"] == 0o755
    assert write(fabric, out)
    assert fabric.domain == "example.org"
    assert model(fabric, out)["same"] is True
    try:
        xenfab.Fabric.from_dict({"version": 1, "site": {"nmae": "grid"}})
    except xenfab.ParseError as e:
        path: str | None = e.path
        assert path == "site.nmae"
    mac: str = xenfab.derive_mac("192.168.96.43", scheme="local-ipv4")
    name: str = xenfab.pxelinux_name(xenfab.derive_mac("192.168.96.43"))
    hexed: str = xenfab.hex_ip("192.168.96.43")
    ks = files["kickstart/xen01.example.org.ks"]
    assert xenfab.ks_reinstall(ks, keep_vgs=("xenvg",)) == xenfab.ks_reinstall(ks)
    assert mac and name and hexed and xenfab.__version__
