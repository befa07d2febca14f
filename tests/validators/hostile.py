"""The hostile corpus: every string-valued field of a fabric × every payload class, generated.

``test_hostile.py`` runs it; this module only builds the cases, deterministically (no random
numbers: the same checkout gives the same cases in the same order).

A *field* is one place of the fabric file that holds text: a string leaf (``site.domain``,
``dom0s[xen01].guests[ullr].disks[0].vg``, the first element of a list of strings such as
``boot_images[c4].append[0]``), or the name of an entry of a map (``os.<name>``,
``networks.<name>``: the name is renamed everywhere it is referred to, so that the fabric
stays consistent and only the name's text is under test). Fields come from two base fabrics:

- ``seed``: the built-in example (``examples/seed-site.toml``) with the optional fields it
  leaves out set to ordinary values (``lang``, ``keyboard``, packages, ``boot_file`` and
  ``boot_files``' UEFI, HTTP and iPXE entries, DHCP
  interfaces, a network's ``next_server``, explicit guest volumes and vdevs, the DNS zones'
  name servers and mailbox, a serial console on a hardware profile), so that each of
  them is a field too: EL3, EL4, EL5 and EL9 hosts, xm and xl dom0s, every guest mode;
- ``custom``: ``tests/cases/custom-layout-json/fabric.json``, an EL9 site with a custom
  partition scheme (partitions, arrays, volume groups, logical volumes), repos and a guest
  ``%post``;
- ``debian``: ``examples/debian-site.toml``, a Debian dom0 with a serial console, a host-only
  network, ``pv-kernel``/``pvh-kernel`` guests (``direct_boot``), and Debian guests installed
  by debootstrap (its install scripts, ``debootstrap_tarball``, the guests' packages).

For a field that occurs in many entries of a list (``dom0s[*].name``), one entry takes each
payload class, in turn, so that every entry is hit without multiplying the cases.

A *payload class* is one kind of hostile text (``PAYLOADS``); it goes into the field's valid
value at one *position* (prefix, suffix, middle, whole), which rotates with the field and the
class so that every field and every class meet every position.

Each case is written as TOML and as JSON (the same fabric), and a second matrix mutates the
Quattor profiles of ``tests/fixtures/quattor/xenfab-scenario`` (JSON and pan XML): the profile
values that become fabric fields (``QUATTOR_FIELDS``).
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-site.toml"
CUSTOM = ROOT / "tests" / "cases" / "custom-layout-json" / "fabric.json"
DEBIAN = ROOT / "examples" / "debian-site.toml"
QUATTOR = ROOT / "tests" / "fixtures" / "quattor" / "xenfab-scenario"

# --- payload classes ---------------------------------------------------------------------------

BIG = 100 * 1024
# (class, text). Line separators: the characters anaconda's kickstart reader (Python's
# str.splitlines, pykickstart 3.78 parser.py `_stateMachine` via `str.splitlines()`) ends a
# line at, besides `\n`.
PAYLOADS: list[tuple[str, str]] = [
    ("dquote", '"'),
    ("squote", "'"),
    ("semicolon", ";"),
    ("braces", "{}"),
    ("newline", "\n"),
    ("cr", "\r"),
    ("crlf", "\r\n"),
    ("vt", "\v"),
    ("ff", "\f"),
    ("fs", "\x1c"),
    ("gs", "\x1d"),
    ("rs", "\x1e"),
    ("nel", "\x85"),
    ("u2028", "\u2028"),
    ("u2029", "\u2029"),
    ("nul", "\x00"),
    ("esc", "\x1b[31m"),
    ("bel", "\x07"),
    ("dash", "--opt"),
    ("dotdot", "../"),
    ("subst", "$(id)"),
    ("backtick", "`id`"),
    ("big", "a" * BIG),
]
PAYLOAD = dict(PAYLOADS)
# Classes no field may accept: each ends a line for some consumer (pykickstart's splitlines,
# a terminal) or is a control character no artefact can carry.
LINE_SEPARATORS = ("cr", "crlf", "vt", "ff", "fs", "gs", "rs", "nel", "u2028", "u2029")
ALWAYS_REFUSED = (*LINE_SEPARATORS, "nul", "esc", "bel")
POSITIONS = ("prefix", "suffix", "middle", "whole")


def insert(value: str, payload: str, position: str) -> str:
    """VALUE with PAYLOAD put at POSITION (a leading `-` class only goes first or alone)."""
    if position == "prefix":
        return payload + value
    if position == "suffix":
        return value + payload
    if position == "middle":
        half = len(value) // 2
        return value[:half] + payload + value[half:]
    return payload


def benign(payload: str) -> str:
    """Text of the payload's length that every field takes where the payload stood."""
    return "q" * len(payload)


# --- the base fabrics --------------------------------------------------------------------------


def seed_base() -> dict:
    """The built-in example, with its optional text fields set so that they are fields too."""
    fabric = tomllib.loads(SEED.read_text(encoding="utf-8"))
    fabric["install"]["boot_file"] = "pxelinux.0"
    # The boot files of the other kinds of client (BIOS is boot_file above: not both).
    fabric["install"]["boot_files"] = {"uefi": "grub2/grubx64.efi", "http": "http://192.168.96.1/efi/grubx64.efi",
                                       "ipxe": "ipxe/boot.ipxe"}
    fabric["install"]["dhcp_interfaces"] = ["eth0"]
    fabric["install"]["ack_url"] = "http://192.168.96.1:8140"  # xenfab serve: the ack %post
    fabric["kickstart"]["lang"] = "en_US.UTF-8"
    fabric["kickstart"]["keyboard"] = "us"
    fabric["kickstart"]["dom0"]["packages"] = ["@base", "openssh-server"]
    fabric["kickstart"]["guest"] = {"packages": ["openssh-server"], "post": ["echo installed > /etc/motd\n"],
                                    "pre": ["echo guest-pre > /tmp/xenfab-pre\n"],
                                    "services": {"enabled": ["sshd"], "disabled": ["cups"]}}
    # %pre and services of dom0s: the `services` command on EL5 and EL9, %pre left out of
    # the reinstall files
    fabric["kickstart"]["dom0"]["pre"] = ["echo dom0-pre > /tmp/xenfab-pre"]
    fabric["kickstart"]["dom0"]["services"] = {"enabled": ["xendomains"], "disabled": ["kudzu"]}
    fabric["networks"]["public"]["next_server"] = "192.168.96.1"
    # The install variants of guests that boot their own disk (the installer's kernel, initrd and
    # command line in their xm, xl and libvirt configs, fetched by provision.sh).
    fabric["dom0s"][1]["guests"][1]["state"] = "install"  # skadi: pv-pygrub, xm
    fabric["dom0s"][2]["guests"][0]["state"] = "install"  # idunn: pvh, xl
    # The rescue variant of a pypxeboot guest (model/guest_boot.rs): the installer booted
    # directly, with the site's kickstart lang and keyboard as lang= and keymap= on its line.
    fabric["dom0s"][1]["guests"][0]["state"] = "rescue"  # bragi: pv-pypxeboot, xm
    # Kickstart settings per OS release and per host (docs/fabric-file.md), every text field
    # of them: on the EL9 release (its repository reaches EL9 hosts only), on an EL5 dom0 and
    # on an EL4 guest (ullr).
    fabric["os"]["rocky-9-x86_64"]["kickstart"] = {
        "root_password": "$6$xenfabc9$Hs7Qm1Wk2Zp0aVbR4cT6dY8eF0gH2iJ4kL6mN8oP0qR2sT4uV6wX8yZ0aB2cD4eF6gH8iJ0kL2mN4oP6qR8s.",
        "timezone": "UTC", "lang": "en_GB.UTF-8", "keyboard": "uk",
        "repos": [{"name": "xen", "baseurl": "http://mirror.example.org/xen/el9/x86_64"}],
        "packages": ["@core", "xen"], "post": ["systemctl enable xencommons"],
        "pre": ["echo el9-pre"], "services": {"enabled": ["chronyd"], "disabled": ["kdump"]}}
    fabric["dom0s"][0]["kickstart"] = {"timezone": "Europe/London", "post": ["echo xen01 > /etc/motd"],
                                       "pre": ["echo xen01-pre"], "services": {"disabled": ["cups"]}}
    # ullr is EL4: its services become `chkconfig` lines of a %post
    fabric["dom0s"][0]["guests"][0]["kickstart"] = {
        "root_password": "$1$xenfabts$3MnpECyDSxUOqXImm6E4g/", "lang": "de_DE.UTF-8",
        "keyboard": "de-latin1", "packages": ["openssh-server", "httpd"], "post": ["echo ullr"],
        "pre": ["echo ullr-pre"], "services": {"enabled": ["httpd"], "disabled": ["cups"]}}
    # A serial console on a hardware profile (its `port`; EL9 dom0 xen03 uses r650): Xen's,
    # GRUB's, pxelinux's and the installer's words. Not on an EL5 dom0: the seed's rescue line
    # is then 262 bytes, over EL5's 255 (kernel-cmdline-too-long). The debian base has the
    # string form on its dom0.
    fabric["hardware"]["r650"]["serial_console"] = {"port": "com2", "speed": 57600}
    bragi = fabric["dom0s"][1]["guests"][0]
    bragi["disks"] = [{"size": "20G", "vg": "xenvg", "lv": "bragi", "vdev": "xvda"},
                      {"size": "50G", "lv": "bragi-data", "vdev": "xvdb"}]
    # The DNS zones' name servers (NS records and the SOA's MNAME) and mailbox (RNAME): the
    # name server outside the site's domain, so that a benign change keeps it usable.
    fabric["dns"] = {"ns": ["ns.example.net"], "hostmaster": "dns-admin.example.org"}
    return fabric


def custom_base() -> dict:
    return json.loads(CUSTOM.read_text(encoding="utf-8"))


def debian_base() -> dict:
    """The Debian example: a Debian dom0 (its grub.cfg, xen.cfg, interfaces, xendomains), a
    host-only network, and guests that boot a kernel of dom0 (`direct_boot`'s kernel, ramdisk
    and command line in xl and libvirt configs)."""
    fabric = tomllib.loads(DEBIAN.read_text(encoding="utf-8"))
    # Several NICs (tests/cases/multi-nic): a bond of two, a VLAN-tagged network carried on it
    # with dom0's address there, and a guest's second NIC on that network.
    fabric["networks"]["storage"] = {"subnet": "10.20.0.0/24", "gateway": "10.20.0.254",
                                     "bridge": "xenbr20", "vlan": 20}
    dom0 = fabric["dom0s"][0]
    dom0["nics"] = [{"name": "eth0", "mac": dom0["mac"]}, {"name": "eth1", "mac": "00:1e:c9:2a:21:02"}]
    dom0["bonds"] = [{"name": "bond0", "mode": "active-backup", "members": ["eth0", "eth1"]}]
    dom0["bridges"] = [{"network": dom0["network"], "device": "bond0"},
                       {"network": "storage", "device": "bond0", "ip": "10.20.0.21"}]
    dom0["guests"][0]["extra_nics"] = [{"network": "storage", "ip": "10.20.0.31", "mac": "02:00:0a:14:00:1f"}]
    return fabric


BASES = {"seed": seed_base, "custom": custom_base, "debian": debian_base}

# Map names that other fields refer to: renaming an entry renames the references too.
MAP_REFS = {"boot_images": ("boot_image",), "os": ("os",), "networks": ("network",), "hardware": ("hardware",),
            "partition_schemes": ("partitioning",)}
# Names inside a partition scheme (and a guest disk's vg) that other fields refer to.
NAME_REFS = {"partitions.id": ("members", "pvs"), "raids.id": ("pvs",), "volume_groups.name": ("vg",),
             "nics.name": ("members", "device"), "bonds.name": ("device",)}
# Fields whose text names an entry defined elsewhere: mutated through their target instead.
REFERENCES = {"boot_image", "os", "network", "hardware", "partitioning", "members", "pvs", "device"}


@dataclass(frozen=True)
class Field:
    """One text field of a base fabric.

    ``path`` is the list of keys and indices to the string (for a key field, to its map entry),
    ``label`` the field with list indices as ``[*]`` (one label, many instances), ``where`` a
    regular expression for the field's path as xenfab's diagnostics write it."""

    base: str
    path: tuple
    label: str
    key: bool = False
    where: str = ""


def _segment_pattern(name: str) -> str:
    return re.escape(name) + r"(\[[^\n]*?\])?"


def _label(path: tuple, key: bool) -> str:
    """The field without its instance: `dom0s[*].guests[*].name`, `os.*.family`, `os.<name>`."""
    out = ""
    for i, p in enumerate(path):
        if isinstance(p, int):
            out += "[*]"
        elif i == 1 and path[0] in MAP_REFS:  # the name of an entry of a map
            out += ".<name>" if key else ".*"
        else:
            out += ("." if out else "") + p
    return out


def _where(path: tuple) -> str:
    """xenfab's path of the field: `dom0s[xen01].guests[ullr].disks[0].vg`, names loose."""
    parts: list[str] = []
    for i, p in enumerate(path):
        if isinstance(p, int) or (i == 1 and path[0] in MAP_REFS):
            continue  # the entry's name or index: `[...]` after the previous segment
        parts.append(_segment_pattern(p))
    if len(path) == 2 and path[0] in MAP_REFS:  # the name of a map entry
        return re.escape(path[0]) + r"\["
    return r"\.".join(parts)


def fields(base: str, fabric: dict) -> list[tuple[Field, list[tuple]]]:
    """Every text field of FABRIC, with the paths of all its instances (the first is the label)."""
    found: dict[str, tuple[Field, list[tuple]]] = {}

    def add(path: tuple, key: bool = False) -> None:
        label = _label(path, key)
        if label not in found:
            found[label] = (Field(base, path, label, key, _where(path)), [])
        found[label][1].append(path)

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if len(path) == 1 and path[0] in MAP_REFS:
                    add((*path, k), key=True)
                walk(v, (*path, k))
        elif isinstance(node, list):
            if node and all(isinstance(v, str) for v in node):
                walk(node[0], (*path, 0))  # a list of strings: its first element
            else:
                for i, v in enumerate(node):
                    walk(v, (*path, i))
        elif isinstance(node, str):
            name = next(p for p in reversed(path) if isinstance(p, str))
            if name not in REFERENCES:  # a reference is mutated through what it names
                add(path)

    walk(fabric, ())
    return list(found.values())


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _rename_refs(node: Any, names: tuple[str, ...], old: str, new: str) -> None:
    """Every string (or string in a list) under a key in NAMES that equals OLD becomes NEW."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in names and v == old:
                node[k] = new
            elif k in names and isinstance(v, list):
                node[k] = [new if x == old else x for x in v]
            else:
                _rename_refs(v, names, old, new)
    elif isinstance(node, list):
        for v in node:
            _rename_refs(v, names, old, new)


def mutate(fabric: dict, path: tuple, key: bool, make: Any) -> tuple[dict, str, str]:
    """A copy of FABRIC with the field at PATH made MAKE(old); returns (copy, old, new)."""
    doc = copy.deepcopy(fabric)
    if key:
        table, old = path
        new = make(old)
        doc[table] = {(new if k == old else k): v for k, v in doc[table].items()}
        _rename_refs({k: v for k, v in doc.items() if k != table}, MAP_REFS[table], old, new)
        if table == "boot_images":  # os entries refer to boot images too
            _rename_refs(doc["os"], ("boot_image",), old, new)
        return doc, old, new
    old = _get(doc, path)
    new = make(old)
    _set(doc, path, new)
    names = [p for p in path if isinstance(p, str)]
    link = NAME_REFS.get(".".join(names[-2:]))
    if link:  # keep the scheme consistent: its references follow the renamed name
        scope = doc if names[-2] == "volume_groups" else _get(doc, path[:2])
        _rename_refs(scope, link, old, new)
    return doc, old, new


# --- writing TOML and JSON with the line of every value ----------------------------------------


def _toml_str(s: str) -> str:
    # json.dumps with ensure_ascii writes only TOML basic-string escapes (\" \\ \b \f \n \r \t
    # and \uXXXX); DEL is not escaped by json and must be in TOML.
    return json.dumps(s, ensure_ascii=True).replace("\x7f", "\\u007f")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def to_toml(doc: dict) -> tuple[str, dict[tuple, int]]:
    """DOC as TOML, and the line (1-based) of every scalar, list and table by its path."""
    lines: list[str] = []
    where: dict[tuple, int] = {}

    def is_table(v: Any) -> bool:
        return isinstance(v, dict)

    def is_table_array(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    def emit(node: dict, path: tuple, header: list[str]) -> None:
        for k, v in node.items():
            if not is_table(v) and not is_table_array(v):
                lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
                where[(*path, k)] = len(lines)
        for k, v in node.items():
            if is_table(v):
                lines.append("[" + ".".join(_toml_key(h) for h in [*header, k]) + "]")
                where[(*path, k)] = len(lines)
                emit(v, (*path, k), [*header, k])
            elif is_table_array(v):
                for i, item in enumerate(v):
                    lines.append("[[" + ".".join(_toml_key(h) for h in [*header, k]) + "]]")
                    where[(*path, k, i)] = len(lines)
                    emit(item, (*path, k, i), [*header, k])

    emit(doc, (), [])
    return "\n".join(lines) + "\n", where


def to_json(doc: dict) -> tuple[str, dict[tuple, int]]:
    """DOC as JSON (one value a line), and the line of every value by its path."""
    lines: list[str] = []
    where: dict[tuple, int] = {}

    def emit(v: Any, path: tuple, prefix: str, last: bool, indent: str) -> None:
        comma = "" if last else ","
        if isinstance(v, dict) and v:
            lines.append(f"{indent}{prefix}{{")
            where[path] = len(lines)
            items = list(v.items())
            for i, (k, x) in enumerate(items):
                emit(x, (*path, k), json.dumps(k) + ": ", i == len(items) - 1, indent + "  ")
            lines.append(f"{indent}}}{comma}")
        elif isinstance(v, list) and v:
            lines.append(f"{indent}{prefix}[")
            where[path] = len(lines)
            for i, x in enumerate(v):
                emit(x, (*path, i), "", i == len(v) - 1, indent + "  ")
            lines.append(f"{indent}]{comma}")
        else:
            lines.append(f"{indent}{prefix}{json.dumps(v)}{comma}")
            where[path] = len(lines)

    emit(doc, (), "", True, "")
    return "\n".join(lines) + "\n", where


# --- the cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    """One mutated input: what to write, how to render it, and what to look for.

    The files are made on demand (``files()``), so that holding every case costs little."""

    id: str
    fmt: str  # toml, json, quattor-json, quattor-xml
    field: str  # the field's label
    payload_class: str
    position: str
    old: str  # the valid value
    new: str  # the value with the payload
    benign: str  # NEW with the payload's text made harmless: the reference render
    files: Callable[[], dict[str, bytes]]  # name → content, for the case's input directory
    benign_files: Callable[[], dict[str, bytes]]
    base_files: Callable[[], dict[str, bytes]]  # the unmutated input
    where: str  # regex of the field's path in diagnostics
    line: Optional[int] = None  # the value's line in the input file (TOML and JSON)
    extra: dict = field(default_factory=dict)


def _position(i_field: int, i_class: int, name: str) -> str:
    if name == "dash":  # a leading `-`: first or alone
        return ("prefix", "whole")[(i_field + i_class) % 2]
    return POSITIONS[(i_field + i_class) % len(POSITIONS)]


def _render_input(write: Callable, name: str, base: dict, path: tuple, key: bool, text: Optional[str],
                  position: str = "") -> Callable[[], dict[str, bytes]]:
    """The input file with TEXT put into the field at POSITION (None: the base as it is)."""
    def make() -> dict[str, bytes]:
        doc = base if text is None else mutate(base, path, key, lambda v: insert(v, text, position))[0]
        return {name: write(doc)[0].encode("utf-8")}
    return make


def fabric_cases(fmt: str) -> Iterator[Case]:
    """Every field of both bases × every payload class, as FMT (`toml` or `json`)."""
    write = to_toml if fmt == "toml" else to_json
    name = "fabric." + fmt
    seen: set[str] = set()
    for base_name, load in BASES.items():
        base = load()
        _, lines = write(base)  # one value a line: mutating a value moves no line
        for i_field, (fld, instances) in enumerate(fields(base_name, base)):
            if fld.label in seen:  # a field of both bases: the first one's
                continue
            seen.add(fld.label)
            for i_class, (cls, payload) in enumerate(PAYLOADS):
                path = instances[i_class % len(instances)]
                position = _position(i_field, i_class, cls)
                old = path[-1] if fld.key else _get(base, path)
                yield Case(
                    id=f"{fmt}-{base_name}-{fld.label}-{cls}",
                    fmt=fmt, field=fld.label, payload_class=cls, position=position, old=old,
                    new=insert(old, payload, position), benign=insert(old, benign(payload), position),
                    files=_render_input(write, name, base, path, fld.key, payload, position=position),
                    benign_files=_render_input(write, name, base, path, fld.key, benign(payload), position=position),
                    base_files=_render_input(write, name, base, path, fld.key, None),
                    where=fld.where, line=lines.get(path),
                )


# --- Quattor -----------------------------------------------------------------------------------

HOST, GUEST = "xen-host.example.org", "xen-guest.example.org"
# Profile values that become fabric fields (found by looking for each value of the profiles in
# `xenfab quattor fabric`'s output), with the fabric field they become and its path in
# diagnostics. Only one of a list of alike values is taken (the first package, not all twenty).
# A guest's host name is not here: ncm-xen names the guest in its dom0's profile too, so a
# changed name is a guest without a profile, which says nothing about the name's text.
QUATTOR_FIELDS: list[tuple[str, str, str, str]] = [
    # (profile, path in the profile, the fabric field it becomes, its path in diagnostics)
    (HOST, "/system/network/hostname", "dom0s[*].name", r"dom0s\["),
    (HOST, "/system/network/domainname", "site.domain", r"(site\.domain|/system/network/domainname)"),
    (HOST, "/system/network/interfaces/eth0/ip", "dom0s[*].ip", r"(dom0s\[[^\n]*?\]\.ip|/system/network/interfaces/eth0)"),
    (HOST, "/system/network/default_gateway", "networks.*.gateway", r"(networks\[[^\n]*?\]\.gateway|/system/network/default_gateway)"),
    (HOST, "/system/network/nameserver/0", "networks.*.dns[0]", r"(networks\[[^\n]*?\]\.dns|/system/network/nameserver)"),
    (HOST, "/hardware/cards/nic/eth0/hwaddr", "dom0s[*].mac", r"(dom0s\[[^\n]*?\]\.mac|/hardware/cards/nic/eth0/hwaddr)"),
    (HOST, "/system/aii/dhcp/filename", "install.boot_file", r"(install\.boot_file|/system/aii/dhcp/filename)"),
    (HOST, "/system/aii/dhcp/tftpserver", "install.next_server", r"(install\.next_server|/system/aii/dhcp/tftpserver)"),
    (HOST, "/system/aii/nbp/pxelinux/kernel", "boot_images.*.kernel", r"(boot_images\[|/system/aii/nbp/pxelinux/kernel)"),
    (HOST, "/system/aii/nbp/pxelinux/initrd", "boot_images.*.initrd", r"(boot_images\[[^\n]*?\]\.initrd|/system/aii/nbp/pxelinux/initrd)"),
    (HOST, "/system/aii/nbp/pxelinux/kslocation", "install.kickstart_url", r"(install\.kickstart_url|/system/aii/nbp/pxelinux/kslocation)"),
    (HOST, "/system/aii/osinstall/ks/installtype", "os.*.install_url", r"(os\[[^\n]*?\]\.install_url|/system/aii/osinstall/ks/installtype)"),
    (HOST, "/system/aii/osinstall/ks/rootpw", "kickstart.root_password", r"(kickstart\.root_password|/system/aii/osinstall/ks/rootpw)"),
    (HOST, "/system/aii/osinstall/ks/timezone", "kickstart.timezone", r"(kickstart\.timezone|/system/aii/osinstall/ks/timezone)"),
    (HOST, "/system/aii/osinstall/ks/lang", "kickstart.lang", r"(kickstart\.lang|/system/aii/osinstall/ks/lang)"),
    (HOST, "/system/aii/osinstall/ks/keyboard", "kickstart.keyboard", r"(kickstart\.keyboard|/system/aii/osinstall/ks/keyboard)"),
    (HOST, "/system/aii/osinstall/ks/packages/0", "kickstart.dom0.packages[0]", r"(kickstart\.(dom0|guest)\.packages|/system/aii/osinstall/ks/packages)"),
    (HOST, "/system/kernel/version", "os.*.kernel_version", r"(os\[[^\n]*?\]\.kernel_version|/system/kernel/version)"),
    (HOST, "/system/blockdevices/partitions/sda1/holding_dev", "partition_schemes.*.partitions[*].disk", r"(partition_schemes\[|/system/blockdevices/partitions/sda1)"),
    (HOST, "/system/blockdevices/logical_volumes/dom0root/volume_group", "partition_schemes.*.logical_volumes[*].vg", r"(partition_schemes\[|/system/blockdevices/logical_volumes/dom0root)"),
    (HOST, "/system/filesystems/1/mountpoint", "partition_schemes.*.logical_volumes[*].mount", r"(partition_schemes\[|/system/filesystems/1)"),
    (HOST, "/software/components/xen/domains/xen-guest.example.org/options/disk/0/guestdevice", "dom0s[*].guests[*].disks[*].vdev", r"(\.disks\[[^\n]*?\]\.vdev|/options/disk/0/guestdevice)"),
    (HOST, "/software/components/xen/domains/xen-guest.example.org/options/disk/0/hostdevice", "dom0s[*].guests[*].disks[*].vg", r"(\.disks\[[^\n]*?\]\.vg|/options/disk/0/hostdevice)"),
    (HOST, "/software/components/xen/domains/xen-guest.example.org/options/disk/0/hostvol", "dom0s[*].guests[*].disks[*].lv", r"(\.disks\[[^\n]*?\]\.lv|/options/disk/0/hostvol)"),
    (GUEST, "/system/network/interfaces/eth0/ip", "dom0s[*].guests[*].ip", r"(guests\[[^\n]*?\]\.ip|/system/network/interfaces/eth0)"),
    (GUEST, "/hardware/cards/nic/eth0/hwaddr", "dom0s[*].guests[*].mac", r"(guests\[[^\n]*?\]\.mac|/hardware/cards/nic/eth0/hwaddr|/options/vif)"),
]


def _pointer_get(doc: Any, pointer: str) -> Any:
    for p in pointer.strip("/").split("/"):
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    return doc


def _pointer_set(doc: Any, pointer: str, value: Any) -> None:
    *head, last = pointer.strip("/").split("/")
    parent = _pointer_get(doc, "/".join(head)) if head else doc
    if isinstance(parent, list):
        parent[int(last)] = value
    else:
        parent[last] = value


def _xml_element(root: ElementTree.Element, pointer: str) -> ElementTree.Element:
    """The element of a pan XML profile at POINTER (each element's `name` attribute; list
    items are the N-th child)."""
    node = root
    for p in pointer.strip("/").split("/"):
        children = list(node)
        by_name = [c for c in children if c.get("name") == p]
        node = by_name[0] if by_name else children[int(p)]
    return node


def _xml_text(s: str) -> str:
    """S as XML character data: markup characters escaped, every other character as it is
    (XML 1.0 cannot carry most control characters at all: such a profile is malformed, and
    xenfab must say so)."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quattor_files(kind: str, profile: str, pointer: str, value: str) -> dict[str, bytes]:
    files = {}
    for host in (HOST, GUEST):
        src = QUATTOR / f"{host}.{kind}"
        if kind == "json":
            doc = json.loads(src.read_text(encoding="utf-8"))
            if host == profile:
                _pointer_set(doc, pointer, value)
            files[src.name] = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
        else:
            text = src.read_text(encoding="utf-8")
            if host == profile:
                root = ElementTree.fromstring(text)
                old = _xml_element(root, pointer).text or ""
                # Replace the one element's text in the source, to keep the file as pan wrote it.
                name = pointer.rsplit("/", 1)[-1]
                pattern = re.compile(r"(<string name=\"" + re.escape(name) + r"\">)" + re.escape(_xml_text(old)) + r"(</string>)")
                if not pattern.search(text):  # list items have no name
                    pattern = re.compile(r"(<string>)" + re.escape(_xml_text(old)) + r"(</string>)")
                text = pattern.sub(lambda m: m.group(1) + _xml_text(value) + m.group(2), text, count=1)
            files[src.name] = text.encode("utf-8")
    return files


def quattor_cases(kind: str) -> Iterator[Case]:
    """Every QUATTOR_FIELDS value × every payload class, in the JSON or the XML profiles."""
    for i_field, (profile, pointer, label, where) in enumerate(QUATTOR_FIELDS):
        doc = json.loads((QUATTOR / f"{profile}.json").read_text(encoding="utf-8"))
        old = _pointer_get(doc, pointer)
        for i_class, (cls, payload) in enumerate(PAYLOADS):
            position = _position(i_field, i_class, cls)
            new = insert(old, payload, position)
            good = insert(old, benign(payload), position)
            yield Case(
                id=f"quattor-{kind}-{profile.split('.')[0]}{pointer}-{cls}",
                fmt=f"quattor-{kind}", field=label, payload_class=cls, position=position, old=old, new=new,
                benign=good,
                files=lambda kind=kind, profile=profile, pointer=pointer, new=new: _quattor_files(kind, profile, pointer, new),
                benign_files=lambda kind=kind, profile=profile, pointer=pointer, good=good: _quattor_files(kind, profile, pointer, good),
                base_files=lambda kind=kind, profile=profile, pointer=pointer, old=old: _quattor_files(kind, profile, pointer, old),
                where=where, extra={"profile": profile, "pointer": pointer},
            )


def all_cases() -> list[Case]:
    return [*fabric_cases("toml"), *fabric_cases("json"), *quattor_cases("json"), *quattor_cases("xml")]
