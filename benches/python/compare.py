#!/usr/bin/env python3
"""Renders one synthetic fabric with xenfab from Python, and beside it with plain Jinja2.

The fabric (fabric_gen.py): N dom0s (two-disk R710s, CentOS 5, xm) with G pypxeboot CentOS-4 guests
each, all on 10.0.0.0/8, guest MACs derived by the `local-ipv4` scheme. Both sides start from
the same Python dict and end with an in-memory tree (relative path -> text, or link target);
neither writes to disk. Each side runs --repeat times and its best run counts.

- xenfab: `xenfab.Fabric.from_dict(fabric).render()`: reads the fabric, applies its defaults,
  checks it as a whole and renders every artefact of the output tree (kickstarts, GRUB,
  xend-config, libvirt domains, Kea/dnsmasq, GRUB2 and iPXE trees, inventory, ...).
- Jinja2: the Jinja2 templates in templates/ and a few lines of Python that compute what they
  need (FQDNs, MACs, hex IPs, sizes). It renders, with the same paths and text as xenfab:
  each guest's xm config (`dom0s/<dom0>/xen/<guest>`), each dom0's `provision.sh`, each
  host's pxelinux install entry (`tftpboot/pxelinux.cfg/<fqdn>.cfg`), its two pxelinux links
  (`01-<mac>`, `<HEXIP>` -> `localboot.cfg`), `localboot.cfg`, the netinstall menu of the guests'
  boot image, `dhcp/dhcpd.conf` with every host, and `dhcp/dhcpd-hosts.conf`.

The comparison checks that every file the Jinja2 side renders is byte for byte what xenfab
renders at that path, and prints which kinds are identical. It is not a like-for-like
workload: xenfab renders about twice as many files (every kind above and the rest of the
tree: 16,811 against 8,804 for 200 x 10), so both seconds and files/s are printed. The
Jinja2 side's time includes loading and compiling its templates (a fresh Environment each
run); xenfab's includes reading the dict and checking the fabric.

What the Jinja2 side does not do (and xenfab does, inside the time measured):
- no validation at all: no duplicate names, IPs or MACs, no address outside its subnet, no
  check that the guests fit in each dom0's memory, CPUs and volume group, no unknown keys or
  wrong types; an invalid fabric renders without a word;
- no MAC derivation checks (it formats `02:00` + the four octets and trusts the result; no
  collision or reserved-range checks, no `xen-last3` or explicit MACs);
- no defaults: it hard-codes what this fabric leaves out (1 vCPU, `xenvg`, `xvda`, the
  destroy/restart/restart actions, pypxeboot, `xm`, `localboot` state) instead of resolving
  them per host from `[defaults]`, the OS release and the hardware;
- one guest mode (pv-pypxeboot), one toolstack (xm), one network, IPv4 only;
- none of the other artefacts (kickstarts with RAID/LVM layouts, GRUB, xend-config, libvirt,
  Kea, dnsmasq, GRUB2, iPXE, inventory) and no writing (xenfab's `write` adds the manifest,
  atomic writes and only-what-changed; neither side measures it).

    python3 benches/python/compare.py [--dom0s 200] [--guests 10] [--repeat 3]

Needs: the xenfab package with its Fabric API and jinja2. Time a release build of xenfab
(`pip install ./xenfab-py` or `maturin develop --release`): `maturin develop` alone builds
a debug one, several times slower.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Union

import jinja2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fabric_gen import synthetic_fabric  # noqa: E402

class Link:
    """A symlink in the Jinja2 side's tree, compared by target with xenfab.Link."""

    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        self.target = target


Entry = Union[str, Link]


def mib(size: str) -> int:
    """'10G' -> 10240, '512M' -> 512 (this fabric's sizes only)."""
    units = {"M": 1, "G": 1024, "T": 1024 * 1024}
    return int(size[:-1]) * units[size[-1].upper()]


def size(mb: int) -> str:
    """xenfab's short size: 1024 -> '1G', 1536 -> '1536M'."""
    return f"{mb // 1024}G" if mb % 1024 == 0 else f"{mb}M"


def local_ipv4_mac(ip: str) -> str:
    return "02:00:" + ":".join(f"{int(o):02x}" for o in ip.split("."))


def hex_ip(ip: str) -> str:
    return "".join(f"{int(o):02X}" for o in ip.split("."))


def render_jinja(fabric: dict[str, Any]) -> dict[str, Entry]:
    """The Jinja2 side: the files listed in the docstring, for this fabric's shape."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["size"] = size
    t_xm = env.get_template("guest.xm.j2")
    t_provision = env.get_template("provision.sh.j2")
    t_install = env.get_template("pxelinux-install.cfg.j2")

    site = fabric["site"]
    domain = site["domain"]
    next_server = fabric["install"]["next_server"]
    kickstart_url = fabric["install"]["kickstart_url"]
    [(net_name, net)] = fabric["networks"].items()
    subnet = ipaddress.ip_network(net["subnet"])
    network = {
        "name": net_name,
        "address": str(subnet.network_address),
        "netmask": str(subnet.netmask),
        "gateway": net["gateway"],
    }
    defaults = fabric.get("defaults", {})
    dom0_os = fabric["os"][defaults["dom0"]["os"]]
    guest_os_name = defaults["guest"]["os"]
    guest_image_name = fabric["os"][guest_os_name]["boot_image"]
    dom0_image = fabric["boot_images"][dom0_os["boot_image"]]
    guest_image = fabric["boot_images"][guest_image_name]

    tree: dict[str, Entry] = {}
    hosts: list[dict[str, Any]] = []  # dhcpd order: each dom0, then its guests

    def pxelinux(h: dict[str, Any], image: dict[str, Any]) -> None:
        tree[f"tftpboot/pxelinux.cfg/{h['fqdn']}.cfg"] = t_install.render(
            h=h, image=image, kickstart_url=kickstart_url
        )
        tree["tftpboot/pxelinux.cfg/01-" + h["mac"].replace(":", "-")] = Link("localboot.cfg")
        tree["tftpboot/pxelinux.cfg/" + hex_ip(h["ip"])] = Link("localboot.cfg")

    for dom0 in fabric["dom0s"]:
        d = {
            "name": dom0["name"],
            "fqdn": f"{dom0['name']}.{domain}",
            "ip": dom0["ip"],
            "mac": dom0["mac"].lower(),
            "guests": [],
        }
        hosts.append(d)
        pxelinux(d, dom0_image)
        for guest in dom0.get("guests", []):
            g = {
                "name": guest["name"],
                "fqdn": f"{guest['name']}.{domain}",
                "ip": guest["ip"],
                "mac": guest.get("mac") or local_ipv4_mac(guest["ip"]),
                "memory": mib(guest.get("memory", "1024M")),
                "vcpus": guest.get("vcpus", 1),
                "vg": "xenvg",
                "disk_mb": mib("10G"),
            }
            d["guests"].append(g)
            hosts.append(g)
            tree[f"dom0s/{d['fqdn']}/xen/{g['name']}"] = t_xm.render(d=d, g=g)
            pxelinux(g, guest_image)
        tree[f"dom0s/{d['fqdn']}/provision.sh"] = t_provision.render(d=d)

    tree["tftpboot/pxelinux.cfg/localboot.cfg"] = env.get_template("pxelinux-localboot.cfg.j2").render()
    tree[f"tftpboot/pxelinux.cfg/netinstall-{guest_image_name}"] = env.get_template(
        "pxelinux-netinstall.cfg.j2"
    ).render(label=guest_image_name, image=guest_image)
    common = {"site": site, "hosts": hosts, "next_server": next_server, "net": network}
    tree["dhcp/dhcpd.conf"] = env.get_template("dhcpd.conf.j2").render(**common)
    tree["dhcp/dhcpd-hosts.conf"] = env.get_template("dhcpd-hosts.conf.j2").render(**common)
    return tree


def render_xenfab(fabric: dict[str, Any]) -> dict[str, Any]:
    import xenfab

    return xenfab.Fabric.from_dict(fabric).render()


def kind(path: str) -> str:
    """The kind of artefact at `path`, for the report."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith("dom0s/") and "/xen/" in path:
        return "xm config"
    if name == "provision.sh":
        return "provision.sh"
    if path.startswith("tftpboot/pxelinux.cfg/"):
        if name.endswith(".cfg") and name != "localboot.cfg":
            return "pxelinux install entry"
        if name.startswith("01-") or (len(name) == 8 and all(c in "0123456789ABCDEF" for c in name)):
            return "pxelinux link"
        return "pxelinux " + name.split("-")[0]
    return name


def compare(ours: dict[str, Entry], theirs: dict[str, Any]) -> tuple[Counter, Counter, list[str]]:
    """(kinds identical, kinds in all, paths that differ) of the Jinja2 side's files."""
    same: Counter = Counter()
    total: Counter = Counter()
    differ: list[str] = []
    for path, entry in ours.items():
        k = kind(path)
        total[k] += 1
        other = theirs.get(path)
        if isinstance(entry, Link):
            ok = other is not None and not isinstance(other, str) and other.target == entry.target
        else:
            ok = isinstance(other, str) and other.encode() == entry.encode()
        if ok:
            same[k] += 1
        else:
            differ.append(path)
    return same, total, differ


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dom0s", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10, help="guests a dom0")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import xenfab

    if not hasattr(xenfab, "Fabric"):
        print("xenfab has no Fabric API: rebuild it (maturin develop)", file=sys.stderr)
        return 2

    fabric = synthetic_fabric(args.dom0s, args.guests)
    hosts = args.dom0s * (1 + args.guests)
    print(
        f"fabric: {args.dom0s} dom0s x {args.guests} guests ({hosts} hosts); "
        f"xenfab {xenfab.__version__}, jinja2 {jinja2.__version__}, Python {sys.version.split()[0]}; "
        f"best of {args.repeat}"
    )

    t_x, theirs = best_of(args.repeat, lambda: render_xenfab(fabric))
    t_j, ours = best_of(args.repeat, lambda: render_jinja(fabric))

    same, total, differ = compare(ours, theirs)
    print(f"{'xenfab':<8} {t_x:8.3f} s  {len(theirs):6d} files  {len(theirs) / t_x:9.0f} files/s  (all artefacts)")
    print(f"{'jinja2':<8} {t_j:8.3f} s  {len(ours):6d} files  {len(ours) / t_j:9.0f} files/s  (the kinds below)")
    print(
        f"ratio    xenfab/jinja2 time {t_x / t_j:.2f}x, "
        f"files/s {len(theirs) / t_x / (len(ours) / t_j):.2f}x"
    )
    print("byte for byte identical to xenfab's:")
    for k in sorted(total):
        print(f"  {k:<26} {same[k]:6d} of {total[k]}")
    if differ:
        print(f"{len(differ)} differ, e.g. {', '.join(differ[:3])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
