"""Every artefact of the golden corpus, checked by its real consumer.

The trees in ``tests/cases/*/expected/`` are what xenfab renders for each case (a Rust test
keeps them current). Each file whose path matches a row of ``CHECKS`` is one test, named
``<case>/<path>``, that runs the checker of that row on it; other files are not checked yet.
The checkers themselves are tested too: each accepts a good sample and rejects a bad one, so a
green run means something.

Run with the venv that scripts/install-validators filled (pykickstart is imported from it):

    scripts/install-validators .venv/bin/python
    .venv/bin/python -m pytest tests/validators

A missing validator program fails its tests ("run scripts/install-validators"), unless
XENFAB_SKIP_VALIDATORS=1, which skips them instead. No dependence on the xenfab package.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import pytest

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"
GOOD = HERE / "samples" / "good"
BAD = HERE / "samples" / "bad"
XEND_CHECKER = HERE / "check_xend_sxp.py"
# dhcpd, kea-dhcp4 and dnsmasq live in /usr/sbin, which a user's PATH may lack.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PATH = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])

# Switches that make a checker lenient: the suite is strict whatever the caller's environment.
RELAXING_ENV = ("KS_ALLOW_DEPRECATED", "XEND_ALLOW_UNKNOWN", "XL_ALLOW_WARNINGS")
# xenfab's kickstarts open with anaconda's own marker, e.g. `#version=RHEL5`.
KS_VERSION_LINE = re.compile(r"#version=(RHEL[0-9]+)")


class Rejected(Exception):
    """A validator, or an assertion on what it printed, refused the file."""

    def __init__(self, message: str, rc: Optional[int] = None) -> None:
        super().__init__(message)
        self.rc = rc


def _require(present: bool, what: str) -> None:
    """Fail (or skip, with XENFAB_SKIP_VALIDATORS=1) when a validator program is missing."""
    if present:
        return
    message = f"{what} is missing: run scripts/install-validators"
    if os.environ.get("XENFAB_SKIP_VALIDATORS") == "1":
        pytest.skip(f"{message} (XENFAB_SKIP_VALIDATORS=1)")
    pytest.fail(message, pytrace=False)


def _validate(argv: list[str], extra_env: Optional[dict[str, str]] = None) -> str:
    """Run a checker; return its output, or raise Rejected with that output."""
    env = {k: v for k, v in os.environ.items() if k not in RELAXING_ENV}
    env["PATH"] = PATH
    env.update(extra_env or {})
    proc = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise Rejected(f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}", proc.returncode)
    return proc.stdout


# --- the checkers, one per artefact kind ------------------------------------------------------


def check_kickstart(path: Path, version: str) -> None:
    """pykickstart's parser for VERSION (as ksvalidator -v), plus cross references."""
    _require(importlib.util.find_spec("pykickstart") is not None, f"pykickstart (in {sys.executable})")
    _validate([sys.executable, str(HERE / "check_kickstart.py"), str(path), version])


def check_kickstart_artefact(path: Path) -> None:
    """A kickstart xenfab wrote: the version comes from its first line, which must be there."""
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n")
    match = KS_VERSION_LINE.fullmatch(first)
    if not match:
        raise Rejected(f"{path}: the first line must be `#version=RHELn` (RHEL3, RHEL4, RHEL5 or RHEL9), not {first!r}")
    check_kickstart(path, match.group(1))


def check_grub_legacy(path: Path) -> dict:
    """pygrub's GrubConf (xen-utils-4.17); returns the entries it parsed."""
    _require(bool(glob.glob("/usr/lib/xen-4.*/lib/python/grub/GrubConf.py")), "pygrub's GrubConf.py (xen-utils-4.17)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "menu.json"
        _validate([sys.executable, str(HERE / "check_grub_legacy.py"), str(path), str(out)])
        return json.loads(out.read_text(encoding="utf-8"))


def check_dom0_menu_lst(path: Path) -> None:
    """A dom0's menu.lst: valid for pygrub, and its first entry boots Xen with a dom0."""
    parsed = check_grub_legacy(path)
    first = parsed["entries"][0]  # the checker rejects a menu.lst without entries
    problems = []
    if "dom0_mem=" not in (first["args"] or ""):
        problems.append("the first entry's kernel (Xen) arguments have no dom0_mem=")
    if len(first["modules"]) < 2:
        problems.append("the first entry needs at least two modules (the dom0 kernel and its initrd)")
    if problems:
        raise Rejected("\n".join([f"{path}:", *problems, json.dumps(first, indent=1)]))


def check_grub2_cfg(path: Path) -> None:
    """grub-script-check (grub-common): syntax only."""
    _require(shutil.which("grub-script-check") is not None, "grub-script-check (grub-common)")
    _validate(["sh", str(HERE / "check_grub2_cfg.sh"), str(path)])


NM_CHECKER = HERE / "check_nmconnection.py"
# libnm's introspection (gir1.2-nm-1.0, python3-gi) is the system Python's, not the venv's.
SYSTEM_PYTHON = "/usr/bin/python3"


def check_nmconnection(path: Path) -> None:
    """NetworkManager's connection file of an EL9 dom0: libnm's own keyfile reader."""
    _require(Path("/usr/lib/x86_64-linux-gnu/girepository-1.0/NM-1.0.typelib").exists(),
             "libnm's introspection (gir1.2-nm-1.0)")
    _validate([SYSTEM_PYTHON, str(NM_CHECKER), str(path)])


def check_xend_sxp(path: Path) -> None:
    """Our own reading of xend's sxp grammar and XendOptions' value rules."""
    if not XEND_CHECKER.exists():
        pytest.skip("tests/validators/check_xend_sxp.py is not written yet")
    _validate([sys.executable, str(XEND_CHECKER), str(path)])


def _daemon(command: str, package: str) -> None:
    _require(shutil.which(command, path=PATH) is not None, f"{command} ({package})")


def check_dhcpd(path: Path) -> None:
    """ISC dhcpd's own parser: `dhcpd -t` (isc-dhcp-server 4.4)."""
    _daemon("dhcpd", "isc-dhcp-server")
    _validate(["sh", str(HERE / "check_dhcpd.sh"), str(path)])


def check_kea4(path: Path) -> None:
    """Kea's: `kea-dhcp4 -t` (2.2), syntax and semantics; its syntax warnings fail too."""
    _daemon("kea-dhcp4", "kea-dhcp4-server")
    _validate(["sh", str(HERE / "check_kea4.sh"), str(path)])


def check_dnsmasq(path: Path) -> None:
    """dnsmasq's: `dnsmasq --test -C FILE` (2.90)."""
    _daemon("dnsmasq", "dnsmasq-base")
    _validate(["sh", str(HERE / "check_dnsmasq.sh"), str(path)])


def check_zone(path: Path) -> None:
    """BIND's: `named-checkzone` with every check fatal (a zone), `named-checkconf -z` (the
    zone statements, loading each zone they name); bind9-utils 9.18."""
    _require(shutil.which("named-checkzone", path=PATH) is not None, "named-checkzone (bind9-utils)")
    _validate(["sh", str(HERE / "check_zone.sh"), str(path)])


def check_pxelinux(path: Path) -> None:
    """The pxelinux syntax xenfab relies on (our own check; test_netboot.py boots pxelinux)."""
    _validate([sys.executable, str(HERE / "check_pxelinux.py"), str(path)])


# --- guests: xl and xm configs, xl.conf, libvirt domains, provision.sh -------------------------

BUILD = HERE / "boot" / "build"  # git-ignored; scripts/install-validators builds into it
XLU_CFG_GET = BUILD / "xlu-cfg-get"  # libxlutil's reader (xlu_cfg_get.c)
# The keys of a domU config the JSON assertions read, and those a config of xenfab's must set:
# xl ignores an unknown key silently (`vcpu = 4` leaves one vCPU), so a misspelt one shows up
# as a missing one here.
XL_CFG_KEYS = ("name", "type", "builder", "memory", "maxmem", "vcpus", "maxvcpus", "bootloader", "boot",
               "kernel", "ramdisk", "cmdline", "root", "extra", "disk", "vif", "on_poweroff", "on_reboot",
               "on_crash")
XL_CFG_REQUIRED = ("name", "type", "memory", "vcpus", "disk", "vif")
# xl's defaults for the shutdown actions (xl.cfg(5)); libxl's JSON leaves out `destroy`.
XL_ACTION_DEFAULTS = {"on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"}
# What xl says when it reads an HVM xm config (the oracles' README, finding 8): it ignores
# xm's `kernel = hvmloader` and `device_model`, and says so. Nothing else may be printed.
XL_HVM_XM_WARNINGS = {
    "kernel": ('WARNING: you seem to be using "kernel" directive to override HVM guest firmware. Ignore that.'
               ' Use "firmware_override" instead if you really want a non-default firmware',),
    "device_model": ("WARNING: ignoring device_model directive.",
                     'WARNING: Use "device_model_override" instead if you really want a non-default device_model'),
}
# xl.conf(5) of Xen 4.17: every key xl reads from its global config.
XL_CONF_KEYS = ("domid_policy", "autoballoon", "run_hotplug_scripts", "lockfile", "max_grant_frames",
                "max_maptrack_frames", "max_grant_version", "vif.default.script", "vif.default.bridge",
                "vif.default.backend", "vif.default.gatewaydev", "remus.default.netbufscript",
                "colo.default.proxyscript", "output_format", "blkdev_start", "claim_mode", "vm.cpumask",
                "vm.hvm.cpumask", "vm.pv.cpumask")
# The left-hand sides of a config's settings (libxlutil's IDs), for the xl.conf check.
XL_SETTING = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=", re.MULTILINE)
# Legacy disk-spec prefixes (`phy:`, `file:`, `tap:aio:`, `tap:qcow2:` …) and the format they give.
DISK_PREFIXES = {"phy": None, "file": None, "tap": None, "tap2": None, "tapdisk": None, "aio": None,
                 "raw": "raw", "qcow": "qcow", "qcow2": "qcow2", "vhd": "vhd", "qed": "qed"}


def _xl_binary() -> Optional[str]:
    found = sorted(glob.glob("/usr/lib/xen-4.*/bin/xl"))
    return found[-1] if found else None


def _xlu_cfg_get(path: Path, keys: tuple[str, ...] | list[str]) -> dict:
    """The values FILE sets for KEYS, as libxlutil (xl's config reader) reads them."""
    _require(XLU_CFG_GET.exists(), f"{XLU_CFG_GET.relative_to(HERE)} (libxen-dev, gcc)")
    return json.loads(_validate([str(XLU_CFG_GET), str(path), *keys]))


def _xl_parse(path: Path, allowed: tuple[str, ...] = ()) -> dict:
    """xl's own parser (`xl -N create`, check_xl_cfg.sh): the libxl_domain_config it builds.

    Strict: any message of xl fails, except the exact lines in ALLOWED."""
    _require(_xl_binary() is not None, "xl (xen-utils-4.17)")
    _require((BUILD / "xlshim.so").exists() or Path("/usr/include/xenctrl.h").exists(),
             "boot/build/xlshim.so (libxen-dev, gcc)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "domain.json"
        argv = ["sh", str(HERE / "check_xl_cfg.sh"), str(path), str(out)]
        said = _validate(argv, {"XL_ALLOW_WARNINGS": "1"} if allowed else None)
        unexpected = [line for line in said.splitlines() if line not in allowed and line != f"{path}: OK"]
        if unexpected:
            raise Rejected(f"$ XL_ALLOW_WARNINGS=1 {shlex.join(argv)}\nxl said more than it may:\n" + "\n".join(unexpected))
        return json.loads(out.read_text(encoding="utf-8"))


def _xl_run(path: Path) -> subprocess.CompletedProcess:
    """xl's parser on PATH, its result as it is (for files it must refuse)."""
    _require(_xl_binary() is not None, "xl (xen-utils-4.17)")
    env = {k: v for k, v in os.environ.items() if k not in RELAXING_ENV}
    return subprocess.run(["sh", str(HERE / "check_xl_cfg.sh"), str(path)], capture_output=True, text=True, check=False, env=env)


def _disk_spec(spec: str) -> dict:
    """An xl disk spec (xl-disk-configuration(5)) as {target, vdev, format, readwrite, cdrom}."""
    parts, keyed, positional = spec, {}, []
    while parts:
        head, sep, rest = parts.partition(",")
        head = head.strip()
        if head.startswith("target="):  # takes the rest of the spec, commas included
            keyed["target"] = parts.split("=", 1)[1].strip()
            break
        if "=" in head:
            key, _, value = head.partition("=")
            keyed[key.strip()] = value.strip()
        elif head:
            positional.append(head)
        parts = rest if sep else ""
    if positional and keyed:
        raise Rejected(f"disk spec mixes positional and key=value parameters, which this test does not read: {spec!r}")
    fmt = keyed.get("format")
    if len(positional) == 3:  # legacy: [PREFIX:]TARGET,VDEV[:cdrom],ACCESS
        target, vdev, access = positional
        while ":" in target and target.split(":", 1)[0] in DISK_PREFIXES:
            prefix, target = target.split(":", 1)
            fmt = DISK_PREFIXES[prefix] or fmt
    elif len(positional) == 4:
        target, fmt, vdev, access = positional
    elif positional:
        raise Rejected(f"disk spec with {len(positional)} positional parameters, which this test does not read: {spec!r}")
    else:
        target, vdev, access = keyed.get("target"), keyed.get("vdev"), keyed.get("access", "rw")
        if keyed.get("devtype") == "cdrom":
            vdev += ":cdrom"
    cdrom = vdev.endswith(":cdrom")
    return {"target": target, "vdev": vdev.removesuffix(":cdrom"), "format": fmt or "raw",
            "readwrite": access in ("w", "rw", "w!"), "cdrom": cdrom}


def _vif_spec(spec: str) -> dict:
    return dict(
        (k.strip(), v.strip()) for k, _, v in (p.partition("=") for p in spec.split(",") if p.strip())
    )


def _compare_xl(path: Path, cfg: dict, dom: dict) -> None:
    """Does xl's libxl_domain_config (DOM) say what the file's settings (CFG) say?"""
    problems = []

    def same(what: str, got, want) -> None:
        if got != want:
            problems.append(f"{what}: xl has {got!r}, the file says {want!r}")

    c_info, b_info = dom.get("c_info", {}), dom.get("b_info", {})
    same("c_info.name", c_info.get("name"), cfg.get("name"))
    want_type = cfg.get("type") or ("hvm" if cfg.get("builder") == "hvm" else "pv")
    same("c_info.type", c_info.get("type"), want_type)
    memory, maxmem = int(cfg.get("memory", 0)), int(cfg.get("maxmem") or cfg.get("memory", 0))
    same("b_info.target_memkb", b_info.get("target_memkb"), memory * 1024)
    same("b_info.max_memkb", b_info.get("max_memkb"), maxmem * 1024)
    vcpus = int(cfg.get("vcpus", 1))
    same("b_info.max_vcpus", b_info.get("max_vcpus"), int(cfg.get("maxvcpus") or vcpus))
    same("len(b_info.avail_vcpus)", len(b_info.get("avail_vcpus", [])), vcpus)
    if "bootloader" in cfg:
        same("b_info.bootloader", b_info.get("bootloader"), cfg["bootloader"])
    if want_type != "hvm":
        # Direct kernel boot (xl.cfg(5)): `cmdline`, else `root=ROOT` and `extra` joined by a space.
        same("b_info.kernel", b_info.get("kernel"), cfg.get("kernel"))
        same("b_info.ramdisk", b_info.get("ramdisk"), cfg.get("ramdisk"))
        parts = [f"root={cfg['root']}"] if "root" in cfg else []
        parts += [cfg["extra"]] if "extra" in cfg else []
        same("b_info.cmdline", b_info.get("cmdline"), cfg.get("cmdline", " ".join(parts) or None))
    if want_type == "hvm":
        same("b_info.type.hvm.boot", b_info.get("type.hvm", {}).get("boot"), cfg.get("boot"))
    disks, specs = dom.get("disks", []), [_disk_spec(d) for d in cfg.get("disk", [])]
    same("number of disks", len(disks), len(specs))
    for i, (disk, spec) in enumerate(zip(disks, specs)):
        same(f"disks[{i}].vdev", disk.get("vdev"), spec["vdev"])
        same(f"disks[{i}].pdev_path", disk.get("pdev_path"), spec["target"])
        same(f"disks[{i}].format", disk.get("format"), spec["format"])
        same(f"disks[{i}].readwrite", bool(disk.get("readwrite")), spec["readwrite"])
        same(f"disks[{i}].is_cdrom", bool(disk.get("is_cdrom")), spec["cdrom"])
    nics, vifs = dom.get("nics", []), [_vif_spec(v) for v in cfg.get("vif", [])]
    same("number of nics", len(nics), len(vifs))
    for i, (nic, vif) in enumerate(zip(nics, vifs)):
        same(f"nics[{i}].mac", nic.get("mac"), vif.get("mac"))
        same(f"nics[{i}].bridge", nic.get("bridge"), vif.get("bridge"))
    for action, default in XL_ACTION_DEFAULTS.items():
        same(action, dom.get(action, "destroy"), cfg.get(action, default))
    if problems:
        raise Rejected("\n".join([f"{path}: xl read something else than the file says:", *problems]))


def check_xl_domu(path: Path) -> None:
    """An xl config: xl's parser accepts it, and its JSON holds what the file says."""
    cfg = _xlu_cfg_get(path, XL_CFG_KEYS)
    missing = [k for k in XL_CFG_REQUIRED if k not in cfg]
    if missing:
        raise Rejected(f"{path}: no {', '.join(missing)} (xl ignores a misspelt key silently)")
    _compare_xl(path, cfg, _xl_parse(path))


def check_xm_domu(path: Path) -> None:
    """An xm config: Python literals (check_xm_cfg.py), and the real xl parser on the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "xm.json"
        _validate([sys.executable, str(HERE / "check_xm_cfg.py"), str(path), str(out)])
        cfg = json.loads(out.read_text(encoding="utf-8"))
    # What pypxeboot makes of `bootargs` is test_pypxeboot.py's.
    # XL_ALLOW_WARNINGS=1 only for HVM xm configs, and only for the lines xl prints about xm's
    # `kernel = hvmloader` and `device_model` (xl picks both itself): the file is right for xm,
    # which is what reads it. Any other message still fails.
    allowed: tuple[str, ...] = ()
    if cfg.get("builder") == "hvm":
        allowed = tuple(line for key, lines in XL_HVM_XM_WARNINGS.items() if key in cfg for line in lines)
    _compare_xl(path, cfg, _xl_parse(path, allowed))


def check_xm_artefact(path: Path) -> None:
    """A file of `dom0s/<fqdn>/xen/` that no row above took: an xm config has no extension."""
    if "." in path.name:
        raise Rejected(f"{path}: not an xm config (those have no extension): give it a row in CHECKS")
    check_xm_domu(path)


def check_xl_conf(path: Path) -> None:
    """xl's global config, read by libxlutil as xl reads it; only keys of xl.conf(5)."""
    text = path.read_text(encoding="utf-8")
    named = list(dict.fromkeys(XL_SETTING.findall(text)))
    got = _xlu_cfg_get(path, list(dict.fromkeys([*XL_CONF_KEYS, *named])))
    problems = [f"{k}: not a key of xl.conf(5) (xl ignores it)" for k in named if k not in XL_CONF_KEYS]
    problems += [f"{k}: set in the file, but libxlutil read no value" for k in named if k not in got]
    if got.get("autoballoon") not in ("off", "on"):
        problems.append(f"autoballoon is {got.get('autoballoon')!r}, not \"off\" or \"on\"")
    if not isinstance(got.get("vif.default.bridge"), str) or not got["vif.default.bridge"]:
        problems.append("vif.default.bridge is not set")
    if problems:
        raise Rejected("\n".join([f"{path}: {json.dumps(got)}", *problems]))


def check_libvirt_domain(path: Path) -> None:
    """libvirt's RelaxNG schema and its domain parser (virsh -c test:///default define)."""
    for command in ("virt-xml-validate", "virsh", "xmllint"):
        _require(shutil.which(command) is not None, f"{command} (libvirt-clients, libxml2-utils)")
    _validate(["sh", str(HERE / "check_libvirt_domain.sh"), str(path)])


def check_provision_sh(path: Path) -> None:
    """bash's parser (bash -n), and shellcheck with every default check: not one message."""
    _require(shutil.which("shellcheck") is not None, "shellcheck")
    _validate(["bash", "-n", str(path)])
    _validate(["shellcheck", "-s", "bash", str(path)])


# --- Debian dom0s: /etc/network/interfaces, grub.d/xen.cfg, xendomains, kernel-img.conf ----------


def _ifcfg(path: Path) -> dict[str, str]:
    """An ifcfg file as initscripts reads it: sourced by bash (ifup's `source_config`)."""
    out = _run_checker(["bash", "-c", 'set -a; . "$1"; env -0', "ifcfg", str(path)])
    before = _run_checker(["bash", "-c", "env -0"])
    base = dict(v.split("=", 1) for v in before.split("\0") if "=" in v)
    return {k: v for k, v in (v.split("=", 1) for v in out.split("\0") if "=" in v) if base.get(k) != v}


def check_ifcfg(path: Path) -> None:
    """An EL5 dom0's ifcfg file, read by bash as ifup reads it, against its siblings: DEVICE is
    the file's name; a MASTER is a bond of the same directory with BONDING_OPTS (mode and
    miimon); a BRIDGE is a file with TYPE=Bridge; a VLAN device `<dev>.<id>` has VLAN=yes and
    its parent's file; a static bridge has IPADDR and NETMASK (initscripts 8.45's ifup-eth)."""
    _require(shutil.which("bash", path=PATH) is not None, "bash")
    cfg = _ifcfg(path)
    name = path.name.removeprefix("ifcfg-")
    problems = []
    if cfg.get("DEVICE") != name:
        problems.append(f"DEVICE={cfg.get('DEVICE')!r}, not {name}")
    if cfg.get("ONBOOT") != "yes":
        problems.append("not ONBOOT=yes")

    def sibling(dev: str) -> Optional[dict]:
        other = path.with_name(f"ifcfg-{dev}")
        return _ifcfg(other) if other.exists() else None

    if "MASTER" in cfg:
        bond = sibling(cfg["MASTER"])
        if bond is None or not re.fullmatch(r"mode=\d miimon=\d+", bond.get("BONDING_OPTS", "")):
            problems.append(f"MASTER={cfg['MASTER']} is no bond with BONDING_OPTS here")
        if cfg.get("SLAVE") != "yes":
            problems.append("MASTER without SLAVE=yes")
        if "BRIDGE" in cfg:
            problems.append("a bond member in a bridge")
    if "BRIDGE" in cfg:
        bridge = sibling(cfg["BRIDGE"])
        if bridge is None or bridge.get("TYPE") != "Bridge":
            problems.append(f"BRIDGE={cfg['BRIDGE']} has no ifcfg file with TYPE=Bridge here")
    if "." in name:
        if cfg.get("VLAN") != "yes":
            problems.append("a VLAN device without VLAN=yes")
        if sibling(name.rsplit(".", 1)[0]) is None:
            problems.append(f"VLAN device of {name.rsplit('.', 1)[0]}, which has no ifcfg file here")
    if cfg.get("TYPE") == "Bridge" and cfg.get("BOOTPROTO") == "static":
        if not cfg.get("IPADDR") or not cfg.get("NETMASK"):
            problems.append("a static bridge without IPADDR and NETMASK")
    if problems:
        raise Rejected("\n".join([str(path), *problems]), 1)


def check_interfaces(path: Path) -> None:
    """ifupdown's own reader (ifquery of ifupdown 0.8, which ifup and the boot use): every
    interface it lists is a bridge, a bond or a VLAN device; a bridge has its ports, each a
    NIC, a bond or a VLAN device of the file (or `none`), and a static one its address; a bond
    has two members or more, a mode and link monitoring (ifenslave's options); a VLAN device
    names its raw device, which the file brings up; `ifup --no-act` accepts the whole file."""
    _require(shutil.which("ifquery", path=PATH) is not None, "ifquery (ifupdown)")
    with tempfile.TemporaryDirectory() as state:
        base = ["-i", str(path), f"--state-dir={state}"]
        listed = _run_checker(["ifquery", *base, "--list", "--allow=auto"])
        names = [n for n in listed.split() if n != "lo"]
        if not names:
            raise Rejected(f"{path}: ifquery lists no interface besides lo")
        problems = []
        text = path.read_text(encoding="utf-8")
        for name in names:
            options = dict(line.split(": ", 1) for line in _run_checker(["ifquery", *base, name]).splitlines()
                           if ": " in line)
            static = re.search(rf"^iface {re.escape(name)} inet static$", text, re.MULTILINE) is not None
            if "bond-slaves" in options:
                members = options["bond-slaves"].split()
                if len(members) < 2:
                    problems.append(f"{name}: a bond of {members}")
                if "bond-mode" not in options or "bond-miimon" not in options:
                    problems.append(f"{name}: bond without bond-mode or bond-miimon (ifquery: {options})")
            elif "vlan-raw-device" in options:
                if options["vlan-raw-device"] not in names and not name.startswith(options["vlan-raw-device"] + "."):
                    problems.append(f"{name}: raw device {options['vlan-raw-device']} is not brought up")
            elif "bridge_ports" in options:
                for port in options["bridge_ports"].split():
                    if port != "none" and "." in port and port not in names:
                        problems.append(f"{name}: port {port} is a VLAN device the file does not define")
                    if port.startswith("bond") and "." not in port and port not in names:
                        problems.append(f"{name}: port {port} is a bond the file does not define")
                if static and "address" not in options:
                    problems.append(f"{name}: static without address (ifquery: {options})")
            else:
                problems.append(f"{name}: no bridge_ports, bond-slaves nor vlan-raw-device (ifquery: {options})")
        _run_checker(["ifup", "--no-act", "--no-scripts", "-a", *base])
    if problems:
        raise Rejected("\n".join([str(path), *problems]), 1)


def _run_checker(argv: list[str]) -> str:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                          errors="replace", env={**os.environ, "PATH": PATH}, check=False)
    if proc.returncode != 0 or "warning" in proc.stdout.lower() or "error" in proc.stdout.lower():
        raise Rejected(f"{shlex.join(argv)}: exit {proc.returncode}\n{proc.stdout}", proc.returncode)
    return proc.stdout


# How grub-mkconfig reads /etc/default/grub.d/*.cfg: sourced by sh, with grub-mkconfig_lib's
# gettext and grub_warn defined and GRUB_DISTRIBUTOR set (Debian's /etc/default/grub:
# `lsb_release -i -s`, "Debian"). Prints what 20_linux_xen then reads.
GRUB_D_READER = r"""
gettext() { printf '%s' "$1"; }
grub_warn() { echo "grub_warn: $*" >&2; }
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX=""
. "$1"
printf 'GRUB_CMDLINE_XEN_DEFAULT=%s\nGRUB_CMDLINE_LINUX_XEN_REPLACE=%s\nGRUB_DEFAULT=%s\n' \
  "$GRUB_CMDLINE_XEN_DEFAULT" "$GRUB_CMDLINE_LINUX_XEN_REPLACE" "${GRUB_DEFAULT:-}"
"""


def check_grub_d_xen(path: Path) -> None:
    """/etc/default/grub.d/xen.cfg, sourced as grub-mkconfig sources it (dash, Debian's sh):
    no warning, Xen's dom0 memory and vCPUs on the Xen line, the Xen entry the default by the
    title 20_linux_xen gives it, and the grub.cfg beside it boots the same Xen line."""
    try:
        out = _run_checker(["sh", "-e", "-c", GRUB_D_READER, "sh", str(path)])
    except Rejected as e:  # sh's syntax errors exit 2: still a verdict on the file
        raise Rejected(str(e), 1) from None
    got = dict(line.split("=", 1) for line in out.splitlines())
    xen = got["GRUB_CMDLINE_XEN_DEFAULT"]
    problems = []
    if not re.search(r"(^| )dom0_mem=\d+M(,max:\d+M)? ", xen) or "dom0_max_vcpus=" not in xen:
        problems.append(f"GRUB_CMDLINE_XEN_DEFAULT has no dom0_mem and dom0_max_vcpus: {xen!r}")
    if got["GRUB_DEFAULT"] != "Debian GNU/Linux, with Xen hypervisor":
        problems.append(f"GRUB_DEFAULT is {got['GRUB_DEFAULT']!r}, not 20_linux_xen's Xen entry")
    entry = path.with_name("grub.cfg")
    if path.parent.name == "grub" and entry.exists():  # a rendered tree: dom0s/<fqdn>/grub/
        lines = [l.split(None, 2) for l in entry.read_text(encoding="utf-8").splitlines()]
        booted = [l[2] for l in lines if len(l) == 3 and l[0] == "multiboot2"]
        if booted != [xen]:
            problems.append(f"grub.cfg boots Xen with {booted}, xen.cfg says {xen!r}")
        if f"menuentry '{got['GRUB_DEFAULT']}'" not in entry.read_text(encoding="utf-8"):
            problems.append("grub.cfg's entry is not titled as 20_linux_xen titles it")
    if problems:
        raise Rejected("\n".join([str(path), *problems]), 1)


def check_xendomains(path: Path) -> None:
    """/etc/default/xendomains, sourced by /etc/init.d/xendomains (sh): the guests linked in
    /etc/xen/auto, where provision.sh links them, are the ones it starts."""
    out = _run_checker(["sh", "-e", "-c", '. "$1"; echo "$XENDOMAINS_AUTO"', "sh", str(path)])
    if out.strip() != "/etc/xen/auto":
        raise Rejected(f"{path}: XENDOMAINS_AUTO is {out.strip()!r}, not /etc/xen/auto (provision.sh's links)", 1)


def check_kernel_img_conf(path: Path) -> None:
    """linux-base's reader (DebianLinux::read_kernelimg_conf, which linux-update-symlinks
    uses): no warning, and the links go to /boot, where the Xen entry loads them."""
    _require(Path("/usr/share/perl5/DebianLinux.pm").exists(), "DebianLinux.pm (linux-base)")
    out = _run_checker(["perl", "-MDebianLinux=read_kernelimg_conf", "-e",
                        '$c = read_kernelimg_conf($ARGV[0]); print "$c->{do_symlinks} $c->{image_dest}\n"',
                        str(path)])
    if out.splitlines() != ["1 /boot"]:
        raise Rejected(f"{path}: linux-base reads it as {out!r}, not do_symlinks 1 and image_dest /boot", 1)


# --- Debian dom0s: the preseed file -------------------------------------------------------------

PRESEED_CHECKER = HERE / "check_preseed.py"


def check_preseed(path: Path) -> None:
    """check_preseed.py: debconf's debconf-set-selections --checkonly and the Debian installer's
    own reader (bookworm netboot initrd) read the same questions and values; partman-auto's
    decode_recipe reads the recipe's sizes, every volume's group is made; the late command,
    run by busybox sh in a scratch /target, writes the tree's files and runs update-grub."""
    build = HERE / "boot" / "build"
    _require(shutil.which("debconf-set-selections") is not None, "debconf-set-selections (debconf)")
    _require((build / "di-debconf-set-selections").exists(), "boot/build/di-debconf-set-selections (debian-installer-12-netboot-amd64)")
    _require((build / "partman-auto" / "lib" / "partman" / "lib" / "recipes.sh").exists(), "boot/build/partman-auto (partman-auto udeb)")
    _require((build / "partman-auto-lvm" / "lib" / "partman" / "lib" / "auto-lvm.sh").exists(), "boot/build/partman-auto-lvm (partman-auto-lvm udeb)")
    _validate([sys.executable, str(PRESEED_CHECKER), str(path)])


# Which checker reads which artefact: a glob on the path inside an expected/ tree (`*` stays
# within one path segment), first matching row wins. A new artefact kind adds a row here.
CHECKS: list[tuple[str, Callable[[Path], None]]] = [
    ("kickstart/*.ks", check_kickstart_artefact),  # <fqdn>.ks and <fqdn>.reinstall.ks
    ("dom0s/*/grub/menu.lst", check_dom0_menu_lst),
    ("dom0s/*/grub/grub.cfg", check_grub2_cfg),
    ("dom0s/*/grub/xen.cfg", check_grub_d_xen),  # Debian: /etc/default/grub.d/xen.cfg
    ("dom0s/*/network/interfaces", check_interfaces),  # Debian: /etc/network/interfaces
    ("dom0s/*/network/ifcfg-*", check_ifcfg),  # EL5 with several NICs: network-scripts/ifcfg-*
    ("dom0s/*/network/*.nmconnection", check_nmconnection),  # EL9 with several NICs: NetworkManager
    ("dom0s/*/default/xendomains", check_xendomains),  # Debian: /etc/default/xendomains
    ("dom0s/*/kernel-img.conf", check_kernel_img_conf),  # Debian: /etc/kernel-img.conf
    ("dom0s/*/xen/xend-config.sxp", check_xend_sxp),
    ("dhcp/dhcpd.conf", check_dhcpd),  # complete config, hosts in each subnet's managed region
    ("dhcp/dhcpd-hosts.conf", check_dhcpd),  # host declarations only, for an include
    ("dhcp/kea-dhcp4.json", check_kea4),
    ("dhcp/dnsmasq.conf", check_dnsmasq),
    ("dns/*.zone", check_zone),  # the forward zone and each reverse zone
    ("dns/named.conf.xenfab", check_zone),  # named-checkconf -z: the statements and their zones
    ("tftpboot/pxelinux.cfg/*.cfg", check_pxelinux),  # <fqdn>[.reinstall|.rescue].cfg, localboot.cfg (not the links)
    ("tftpboot/grub2/*.cfg", check_grub2_cfg),  # the same entries for GRUB2 network boot
    ("tftpboot/grub/grub.cfg", check_grub2_cfg),  # UEFI: the way from Debian grubnetx64's /grub prefix to grub2/
    ("tftpboot/pxelinux.cfg/netinstall-*", check_pxelinux),  # pypxeboot's menus
    ("dom0s/*/xen/xl.conf", check_xl_conf),  # xl's global config
    ("dom0s/*/xen/*.cfg", check_xl_domu),  # <guest>.cfg: guests of xl dom0s
    ("dom0s/*/xen/*", check_xm_artefact),  # <guest>: guests of xm dom0s (xend-config.sxp, xl.conf: above)
    ("dom0s/*/libvirt/*.xml", check_libvirt_domain),
    ("dom0s/*/provision.sh", check_provision_sh),
    ("dom0s/*/install/*.sh", check_provision_sh),
    ("preseed/*.cfg", check_preseed),  # Debian dom0s: the Debian installer's answers
]


def _matches(rel: str, pattern: str) -> bool:
    names, globs = rel.split("/"), pattern.split("/")
    return len(names) == len(globs) and all(fnmatchcase(n, g) for n, g in zip(names, globs))


def _artefacts() -> list:
    params = []
    for expected in sorted(CASES.glob("*/expected")):
        for path in sorted(p for p in expected.rglob("*") if p.is_file()):
            rel = path.relative_to(expected).as_posix()
            check = next((c for pattern, c in CHECKS if _matches(rel, pattern)), None)
            if check is not None:
                params.append(pytest.param(path, check, id=f"{expected.parent.name}/{rel}"))
    if not params:
        reason = "no artefact in tests/cases/*/expected/ has a checker yet"
        params.append(pytest.param(None, None, id="none", marks=pytest.mark.skip(reason=reason)))
    return params


def _expect_valid(check: Callable[[Path], None], path: Path) -> None:
    try:
        check(path)
    except Rejected as e:
        message = str(e)
    else:
        return
    pytest.fail(message, pytrace=False)  # outside `except`: the output is shown once


# --- the golden corpus --------------------------------------------------------------------------


def test_corpus_is_there() -> None:
    assert list(CASES.glob("*/expected")), f"no golden trees under {CASES}/*/expected"


@pytest.mark.parametrize(("path", "check"), _artefacts())
def test_artefact(path: Path, check: Callable[[Path], None]) -> None:
    _expect_valid(check, path)


# --- the checkers can fail ----------------------------------------------------------------------

# (id, checker, good sample, bad sample, what the rejection must mention)
SELF_TESTS = [
    # RHEL4: `%packages --resolvedeps` passes (anaconda 10.1 needs it), `repo` (anaconda 11) does not
    ("kickstart-RHEL4", partial(check_kickstart, version="RHEL4"), "rhel4.ks", "rhel4-repo.ks", "unknown command: repo"),
    ("kickstart-RHEL5", partial(check_kickstart, version="RHEL5"), "rhel5.ks", "rhel5-resolvedeps.ks", "resolvedeps"),
    ("kickstart-RHEL9", partial(check_kickstart, version="RHEL9"), "rhel9.ks", "rhel9-typo.ks", "--sise"),
    ("grub2-cfg", check_grub2_cfg, "grub.cfg", "grub-quote.cfg", "syntax error"),
    ("grub-legacy", check_dom0_menu_lst, "menu.lst", "menu-typo.lst", "timout"),
    ("xend-sxp", check_xend_sxp, "xend-config.sxp", "xend-config-values.sxp", "maybe"),
    ("dhcpd", check_dhcpd, "dhcpd.conf", "dhcpd-nosemi.conf", "semicolon expected"),
    ("kea4-dup-ip", check_kea4, "kea-dhcp4.json", "kea-dupip.json", "already a reservation"),
    ("kea4-trailing-comma", check_kea4, "kea-dhcp4.json", "kea-trailing-comma.json", "extraneous comma"),
    ("dnsmasq", check_dnsmasq, "dnsmasq.conf", "dnsmasq-semihost.conf", "bad dhcp host name"),
    ("zone-ns-address", check_zone, "dns/example.org.zone", "dns/example.org.zone", "has no address records"),
    ("named-conf", check_zone, "dns/named.conf.xenfab", "dns/named.conf.xenfab", "missing ';'"),
    ("pxelinux-append", check_pxelinux, "pxelinux-install.cfg", "pxelinux-injected-append.cfg", "xen01;reboot"),
    ("pxelinux-default", check_pxelinux, "pxelinux-install.cfg", "pxelinux-default-undefined.cfg", "`instal` is not defined"),
    ("pxelinux-serial-first", check_pxelinux, "pxelinux-serial.cfg", "pxelinux-serial-late.cfg", "must be the first directive"),
    ("pxelinux-serial-baud", check_pxelinux, "pxelinux-serial.cfg", "pxelinux-serial-baud.cfg", "does not divide 115200"),
    ("pxelinux-ipappend", check_pxelinux, "pxelinux-install.cfg", "pxelinux-ipappend-twice.cfg", "second `ipappend`"),
    ("xl-cfg-disk", check_xl_domu, "xl-pv.cfg", "xl-baddisk.cfg", "unknown parameter: near `tarrget"),
    ("xl-cfg-mac", check_xl_domu, "xl-hvm.cfg", "xl-badmac.cfg", "invalid parameter `mac'"),
    ("xm-cfg", check_xm_domu, "xm-pv.cfg", "xm-nonliteral.cfg", "value is not a literal: 256 * 2"),
    ("xl-conf", check_xl_conf, "xl.conf", "xl-unquoted.conf", "config parsing error near `off'"),
    ("libvirt", check_libvirt_domain, "libvirt-pv.xml", "libvirt-dupdisk.xml", "target 'xvda' duplicated"),
    ("provision-sh", check_provision_sh, "provision.sh", "provision-unquoted.sh", "sc2086"),
    ("interfaces-method", check_interfaces, "interfaces", "interfaces-statik", "unknown or no method"),
    ("interfaces-ports", check_interfaces, "interfaces", "interfaces-noports", "no bridge_ports"),
    ("nmconnection-bond-mode", check_nmconnection, "bond0.nmconnection", "bond0.nmconnection",
     "[bond] mode=foo: networkmanager has 'balance-rr'"),
    ("ifcfg-master", check_ifcfg, "ifcfg-eth0", "ifcfg-eth0", "master=bond9 is no bond"),
    ("interfaces-bond", check_interfaces, "interfaces", "interfaces-one-slave", "a bond of ['eth0']"),
    ("interfaces-vlan", check_interfaces, "interfaces", "interfaces-undefined-vlan",
     "port bond0.20 is a vlan device the file does not define"),
    ("grub-d-xen", check_grub_d_xen, "xen.cfg", "xen-unterminated.cfg", "unterminated"),
    ("xendomains", check_xendomains, "xendomains", "xendomains-elsewhere", "not /etc/xen/auto"),
    ("kernel-img-conf", check_kernel_img_conf, "kernel-img.conf", "kernel-img-typo.conf", "unknown parameter link_in_bot"),
    # a space after a continuation's `\`: the recipe's next line is read as a question of its own
    ("preseed-continuation", check_preseed, "preseed.cfg", "preseed-space-after-backslash.cfg", "unknown type"),
    # a size partman-auto cannot read (decode_recipe makes it 2200000000: no disk is that large)
    ("preseed-recipe-size", check_preseed, "preseed.cfg", "preseed-badsize.cfg", "2200000000"),
    # a late command that leaves the Xen entry out of grub.cfg: no update-grub in /target
    ("preseed-late-command", check_preseed, "preseed.cfg", "preseed-late-no-update-grub.cfg", "update-grub"),
    # two groups' physical volumes named by their disk: partman-auto-lvm gives both its first one
    ("preseed-vg-map", check_preseed, "preseed.cfg", "preseed-vg-same-device.cfg", "maps the physical volumes"),
    # a UEFI recipe (ESP first, GPT) read as if on msdos: the logical physical volume becomes
    # sda5, and no partition is the sda4 its device{ } names (partman-auto-lvm: no_such_pv)
    ("preseed-gpt-numbers", check_preseed, "preseed-gpt.cfg", "preseed-gpt-as-msdos.cfg", "no_such_pv"),
    # software RAID: an array whose members are different partitions of the two disks
    ("preseed-raid-members", check_preseed, "preseed-raid.cfg", "preseed-raid-members.cfg", "not one partition the recipe makes"),
]


@pytest.mark.parametrize(("check", "good"), [pytest.param(c, g, id=i) for i, c, g, _, _ in SELF_TESTS])
def test_checker_accepts_good_sample(check: Callable[[Path], None], good: str) -> None:
    _expect_valid(check, GOOD / good)


@pytest.mark.parametrize(("check", "bad", "reason"), [pytest.param(c, b, r, id=i) for i, c, _, b, r in SELF_TESTS])
def test_checker_rejects_bad_sample(check: Callable[[Path], None], bad: str, reason: str) -> None:
    with pytest.raises(Rejected) as rejected:
        check(BAD / bad)
    assert rejected.value.rc == 1, f"exit {rejected.value.rc}, not a verdict (1):\n{rejected.value}"
    assert reason in str(rejected.value).lower(), f"rejected, but not for {reason!r}:\n{rejected.value}"


def test_kickstart_version_comes_from_first_line(tmp_path: Path) -> None:
    body = (GOOD / "rhel5.ks").read_text(encoding="utf-8")
    ks = tmp_path / "xen01.example.org.ks"
    ks.write_text("#version=RHEL5\n" + body, encoding="utf-8")
    _expect_valid(check_kickstart_artefact, ks)
    ks.write_text("#version=RHEL9\n" + body, encoding="utf-8")  # `install` was removed since
    with pytest.raises(Rejected, match="install has been removed"):
        check_kickstart_artefact(ks)


def test_kickstart_without_version_line_is_rejected(tmp_path: Path) -> None:
    ks = tmp_path / "xen01.example.org.ks"
    ks.write_text((GOOD / "rhel5.ks").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(Rejected, match="#version=RHELn"):
        check_kickstart_artefact(ks)


def test_menu_lst_must_boot_xen_first(tmp_path: Path) -> None:
    menu = tmp_path / "menu.lst"
    menu.write_text("default=0\ntitle Linux\n\troot (hd0,0)\n\tkernel /vmlinuz ro\n\tinitrd /initrd.img\n", encoding="utf-8")
    with pytest.raises(Rejected, match="dom0_mem="):
        check_dom0_menu_lst(menu)


def test_xl_json_must_say_what_the_file_says() -> None:
    cfg = _xlu_cfg_get(GOOD / "xl-pv.cfg", XL_CFG_KEYS)
    dom = _xl_parse(GOOD / "xl-pv.cfg")
    _compare_xl(GOOD / "xl-pv.cfg", cfg, dom)
    wrong = {**cfg, "memory": "256", "disk": ["format=raw, vdev=xvdb, access=rw, target=/dev/vg0/vm01-disk"]}
    with pytest.raises(Rejected) as rejected:
        _compare_xl(GOOD / "xl-pv.cfg", wrong, dom)
    assert "b_info.target_memkb: xl has 524288, the file says 262144" in str(rejected.value)
    assert "disks[0].vdev: xl has 'xvda', the file says 'xvdb'" in str(rejected.value)


def test_xl_cfg_with_misspelt_key_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "vm01.cfg"  # xl reads `vcpu = 2` without a word, and gives the guest one vCPU
    cfg.write_text((GOOD / "xl-pv.cfg").read_text(encoding="utf-8").replace("vcpus =", "vcpu ="), encoding="utf-8")
    with pytest.raises(Rejected, match="no vcpus"):
        check_xl_domu(cfg)


def test_hvm_xm_config_may_only_have_xls_hvmloader_warnings(tmp_path: Path) -> None:
    vali = next(CASES.glob("*/expected/dom0s/*/xen/vali"))
    xm = tmp_path / "vali"
    _expect_valid(check_xm_domu, vali)  # the warnings about kernel/device_model only
    xm.write_text(vali.read_text(encoding="utf-8").replace("mac=00:16:3e:a8:60:2c", "mac=00:16:3e:a8:60:2c, colour=blue"),
                  encoding="utf-8")
    with pytest.raises(Rejected, match="unrecognized argument `colour=blue'"):
        check_xm_domu(xm)


def test_xl_conf_with_unknown_key_is_rejected(tmp_path: Path) -> None:
    conf = tmp_path / "xl.conf"  # xl ignores a key it does not know: ballooning stays on
    conf.write_text('autoballon="off"\nautoballoon="on"\nvif.default.bridge="xenbr0"\n', encoding="utf-8")
    with pytest.raises(Rejected, match="autoballon: not a key of xl.conf"):
        check_xl_conf(conf)
