"""pypxeboot boots the rendered guests: the guests' xm configs and the TFTP tree, read the way
xend and pypxeboot 0.0.3 read them.

pypxeboot is a Python 2 script that no distribution packages and that needs a patched udhcpc,
so it cannot run here. What decides whether a guest boots is small and exact, and this file
restates it from the released source, step by step, with where each step comes from:

- xm reads the config as Python (`execfile`), and xend starts the bootloader as
  `BOOTLOADER [--kernel=K] [--ramdisk=R] [--args=A] --output=FIFO <shlex.split(bootargs)> DISK`
  (tools/python/xen/xend/XendBootloader.py, `bootloader()`, the same in Xen 3.0.3 to 3.4; `-q`
  only when xend asks for quiet, which `_configureBootloader` does not). `A` is the image's
  `args` (the config's `extra`) with ` root=<root>` added (XendConfig.py,
  `update_with_image_sxp`), and DISK the first disk's file (`phy:vg/lv` is `/dev/vg/lv`).
- pypxeboot 0.0.3 (grid.ie's pypxeboot-0.0.3.tar.gz, imported unchanged into
  github.com/blamarvt/pypxeboot, commit b7e226b): `getopt.gnu_getopt(argv[1:], 'vqh::',
  ["verbose", "help", "output=", "label=", "interface=", "udhcpc=", "pygrub-image=",
  "isconfig"])`, usage and exit 1 on a GetoptError or without a positional argument; the MAC is
  `arg.split('=')[1].strip(',')` of the first argument beginning with `mac=`, checked against
  `^([\\da-f]{2}:){5}[\\da-f]{2}$` (case-insensitive). It asks DHCP for that MAC, then fetches
  `pxelinux.cfg/01-<mac with - for :>`, `pxelinux.cfg/<HEXIP>` (`%2.2X` four times) and
  `pxelinux.cfg/default` by TFTP, the first that exists. In that file, after `strip()` and
  skipping `#` lines, it matches `default (.+)`, `label (.+)`, `kernel (.+)`, `append (.+)`
  and `localboot (.*)` at the start of a line (case-insensitive); each word of `append` is
  unpacked as `(k,v) = entry.split('=')` (a ValueError for two `=`; a word without `=` reuses
  the previous `k`, a NameError if none). The label is `--label` or `default`; a label with
  `localboot` runs `pygrub -q <--pygrub-image>` and exits 1 without that option; otherwise it
  fetches the `initrd` argument and the `kernel` by TFTP and boots them with the other words.

pypxeboot 0.0.2's source is in no archive this project can reach (only 0.0.3's tarball is
mirrored); its README shows the same `bootargs=vif[0]` set-up.
"""

from __future__ import annotations

import getopt
import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = HERE.parent / "cases"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))

# pypxeboot 0.0.3's command line: short and long options as its getopt call lists them.
SHORT = "vqh::"
LONG = ["verbose", "help", "output=", "label=", "interface=", "udhcpc=", "pygrub-image=", "isconfig"]
MAC = re.compile(r"^([\da-f]{2}:){5}[\da-f]{2}$", re.I)
# Its pxelinux parser.
R_LABEL = re.compile(r"^[ \t]*label (.+)$", re.I)
R_KERNEL = re.compile(r"^[ \t]*kernel (.+)$", re.I)
R_APPEND = re.compile(r"^[ \t]*append (.+)$", re.I)
R_DEFAULT = re.compile(r"^[ \t]*default (.+)$", re.I)
R_LOCALBOOT = re.compile(r"^[ \t]*localboot (.*)$", re.I)


class Refused(Exception):
    """pypxeboot would print an error (or a traceback) and exit non-zero."""


def xm_config(text: str) -> dict:
    """The variables of an xm config, as xm's `execfile` leaves them."""
    env: dict = {}
    exec(compile(text, "xm-config", "exec"), env)  # noqa: S102 - our own rendered file
    return {k: v for k, v in env.items() if not k.startswith("__")}


def uname_to_file(uname: str) -> str:
    """xend's blkdev_uname_to_file: `phy:xenvg/ullr` is `/dev/xenvg/ullr`."""
    kind, _, path = uname.partition(":")
    if kind == "phy" and not path.startswith("/"):
        return "/dev/" + path
    return path


def xend_argv(cfg: dict, fifo: str = "/var/lib/xen/xenbl.1") -> list[str]:
    """The argv xend starts the config's bootloader with."""
    args = [cfg["bootloader"]]
    kernel_args = cfg.get("extra", "")
    if cfg.get("root") and "root=" not in kernel_args:
        kernel_args += " root=%s" % cfg["root"]
    if cfg.get("kernel"):
        args.append("--kernel=%s" % cfg["kernel"])
    if cfg.get("ramdisk"):
        args.append("--ramdisk=%s" % cfg["ramdisk"])
    if kernel_args:
        args.append("--args=%s" % kernel_args)
    args.append("--output=%s" % fifo)
    if cfg.get("bootargs"):
        args.extend(shlex.split(cfg["bootargs"]))
    disk = cfg["disk"][0].split(",")[0].strip()
    args.append(uname_to_file(disk))
    return args


@dataclass
class Options:
    mac: str
    label: str | None = None
    pygrub_image: str | None = None
    interface: str | None = None


def parse_argv(argv: list[str]) -> Options:
    """pypxeboot 0.0.3's reading of its command line."""
    try:
        opts, args = getopt.gnu_getopt(argv[1:], SHORT, LONG)
    except getopt.GetoptError as e:
        raise Refused(f"usage, exit 1: {e}") from e
    if len(args) < 1:
        raise Refused("usage, exit 1: no positional argument")
    got = Options(mac="")
    for o, a in opts:
        if o == "--label":
            got.label = a
        elif o == "--pygrub-image":
            got.pygrub_image = a
        elif o == "--interface":
            got.interface = a
    for arg in argv[1:]:
        if arg.startswith("mac="):
            got.mac = arg.split("=")[1].strip(",")
            break
    if not got.mac:
        raise Refused("Please specify a MAC address")
    if not MAC.match(got.mac):
        raise Refused(f"Invalid MAC address: {got.mac}")
    if got.label is not None and not got.label:
        raise Refused("Please specify a valid kernel boot label")
    return got


def config_file(tftp: Path, mac: str, ip: str) -> Path:
    """The pxelinux file pypxeboot fetches for the MAC and the IP address DHCP gave."""
    hexip = "%02X%02X%02X%02X" % tuple(int(o) for o in ip.split("."))
    for name in ("01-" + mac.replace(":", "-"), hexip, "default"):
        path = tftp / "pxelinux.cfg" / name
        if path.exists():
            return path
    raise Refused("Could not find a valid boot configuration file on the tftp server")


@dataclass
class Label:
    kernel: str | None = None
    append: dict | None = None
    localboot: str | None = None
    words: list = field(default_factory=list)


def parse_pxelinux(text: str) -> tuple[str | None, dict[str, Label]]:
    """pypxeboot 0.0.3's parse of a pxelinux file: the default label and the labels."""
    labels: dict[str, Label] = {}
    current = default = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] == "#":
            continue
        if m := R_DEFAULT.match(line):
            default = m.group(1)
        elif m := R_LABEL.match(line):
            current = m.group(1)
            labels[current] = Label()
        elif m := R_KERNEL.match(line):
            if current is None:
                raise Refused("AssertionError: kernel outside label")
            labels[current].kernel = m.group(1)
        elif m := R_APPEND.match(line):
            if current is None:
                raise Refused("AssertionError: append outside label")
            append: dict = {}
            key = None
            for entry in m.group(1).split():
                labels[current].words.append(entry)
                if "=" in entry:
                    parts = entry.split("=")
                    if len(parts) != 2:
                        raise Refused(f"ValueError: too many values to unpack: {entry!r}")
                    key, value = parts
                    append[key] = value
                elif key is None:
                    raise Refused(f"NameError: name 'k' is not defined ({entry!r})")
                else:
                    # The previous key loses its value: pypxeboot passes `key` alone.
                    append[key] = None
            labels[current].append = append
        elif m := R_LOCALBOOT.match(line):
            if current is None:
                raise Refused("TypeError: localboot outside label")
            labels[current].localboot = m.group(1)
    return default, labels


@dataclass
class Boot:
    """What pypxeboot hands xend: pygrub on an image, or a kernel with initrd and words."""

    pygrub: str | None = None
    kernel: str | None = None
    initrd: str | None = None
    args: dict | None = None


def pypxeboot(argv: list[str], tftp: Path, ip: str) -> Boot:
    """Everything pypxeboot 0.0.3 does with the argv xend gives it and the TFTP tree."""
    opts = parse_argv(argv)
    default, labels = parse_pxelinux(config_file(tftp, opts.mac, ip).read_text(encoding="utf-8"))
    label = opts.label or default
    if label is None:
        raise Refused("No default label in boot config and no label specified")
    if label not in labels:
        raise Refused(f"The specified label {label!r} was not found in the boot config")
    chosen = labels[label]
    if chosen.localboot is not None:
        if not opts.pygrub_image:
            raise Refused("Cannot run pygrub, no root image specified. Please use the --pygrub-image parameter.")
        return Boot(pygrub=opts.pygrub_image)
    append = chosen.append or {}
    if chosen.kernel is None:
        raise Refused("KeyError: 'kernel'")
    if "initrd" in append and append["initrd"] is None:
        raise Refused("initrd without a file name")
    args = {k: v for k, v in append.items() if k not in ("kernel", "initrd")}
    return Boot(kernel=chosen.kernel, initrd=append.get("initrd"), args=args)


def _pypxeboot_guests() -> list:
    """(case, xm config, inventory of the guest) for every pypxeboot guest of the corpus."""
    out = []
    for inv in sorted(CASES.glob("*/expected/inventory/hosts/*.json")):
        host = json.loads(inv.read_text(encoding="utf-8"))
        # A guest in rescue boots the installer directly, without pypxeboot (test_guests.py).
        if host.get("mode") != "pv-pypxeboot" or host.get("state") == "rescue":
            continue
        expected = inv.parents[2]
        xm = expected / "dom0s" / host["dom0"] / "xen" / host["name"]
        if xm.exists():
            out.append(pytest.param(xm, host, id=f"{expected.parent.name}:{host['name']}"))
    return out


PYPXEBOOT_GUESTS = _pypxeboot_guests()


def test_the_corpus_has_pypxeboot_guests() -> None:
    assert len(PYPXEBOOT_GUESTS) >= 5


@pytest.mark.parametrize("xm,host", PYPXEBOOT_GUESTS)
def test_pypxeboot_takes_the_arguments_xend_gives_it(xm: Path, host: dict) -> None:
    cfg = xm_config(xm.read_text(encoding="utf-8"))
    assert cfg["bootloader"] == "/usr/bin/pypxeboot"
    argv = xend_argv(cfg)
    opts = parse_argv(argv)
    assert opts.mac == host["mac"], argv
    disk = host["disks"][0]
    # The image pygrub boots after localboot is the disk xend boots: the first.
    assert opts.pygrub_image == f"/dev/{disk['vg']}/{disk['lv']}" == argv[-1]
    # And the vif that names the MAC to the toolstack says the same MAC.
    assert any(f"mac={host['mac']}" in v for v in cfg["vif"])


def _render_example(out: Path) -> None:
    subprocess.run([str(XENFAB), "render", "--example", "-o", str(out)], check=True, capture_output=True)


def _boot(out: Path, host: str, state: str) -> None:
    subprocess.run([str(XENFAB), "boot", host, state, "--example", "-o", str(out)], check=True, capture_output=True)


def test_ullr_installs_by_pypxeboot_then_boots_its_disk(tmp_path: Path) -> None:
    _render_example(tmp_path)
    host = json.loads((tmp_path / "inventory/hosts/ullr.example.org.json").read_text(encoding="utf-8"))
    cfg = xm_config((tmp_path / "dom0s/xen01.example.org/xen/ullr").read_text(encoding="utf-8"))
    argv = xend_argv(cfg)
    tftp = tmp_path / "tftpboot"

    _boot(tmp_path, "ullr", "install")
    installer = pypxeboot(argv, tftp, host["ip"])
    fabric_image = "xen-domU-c4.6/i386"
    assert installer.kernel == f"{fabric_image}/vmlinuz"
    assert installer.initrd == f"{fabric_image}/initrd.img"
    assert installer.args is not None
    assert installer.args["ks"] == "http://192.168.96.1/ks/ullr.example.org.ks"
    assert installer.args["ksdevice"] == "eth0"

    _boot(tmp_path, "ullr", "localboot")
    disk = pypxeboot(argv, tftp, host["ip"])
    assert disk.pygrub == "/dev/xenvg/ullr"


# The seed's /etc/xen/ullr (../shared/seed/xen-on-centos5.txt, "Create domU config file"),
# with a MAC filled in: what xenfab rendered before it read pypxeboot's source.
SEED_ULLR = """name ='ullr'
memory ='1024'
bootloader="/usr/bin/pypxeboot"
vif=['mac=00:16:3e:a8:60:2b']
bootargs=vif[0]
disk = [ "phy:xenvg/ullr,xvda,w" ]
root="/dev/xvda1 ro"
on_poweroff = 'destroy'
on_reboot = 'restart'
on_crash = 'restart'
"""


def test_the_seeds_config_stops_pypxeboot() -> None:
    """The model is not a yes-machine: the seed's config fails where pypxeboot fails."""
    cfg = xm_config(SEED_ULLR)
    argv = xend_argv(cfg)
    assert "--args= root=/dev/xvda1 ro" in argv
    with pytest.raises(Refused, match="option --args not recognized"):
        parse_argv(argv)
    # Without `root`, arguments pass, but the localboot entry has no image for pygrub.
    del cfg["root"]
    assert parse_argv(xend_argv(cfg)).pygrub_image is None
    # And a vif that names its bridge without a space after the comma breaks
    # `bootargs = vif[0]`'s MAC.
    cfg["bootargs"] = "mac=00:16:3e:a8:60:2b,bridge=xenbr1"
    with pytest.raises(Refused, match="Invalid MAC"):
        parse_argv(xend_argv(cfg))


def libxl_argv(cfg: dict) -> list[str]:
    """The argv libxl starts a bootloader with (libxl_bootloader.c, `make_bootloader_args`,
    Xen 4.2 to 4.19): `--output-format=simple0` and `--output-directory=` always."""
    args = [cfg["bootloader"], "--output=/var/run/xen/bootloader.1.out", "--output-format=simple0",
            "--output-directory=/var/run/xen/bootloader.1.d"]
    args.extend(shlex.split(cfg.get("bootargs", "")))
    args.append(uname_to_file(cfg["disk"][0].split(",")[0].strip()))
    return args


@pytest.mark.parametrize("xm,host", PYPXEBOOT_GUESTS[:1])
def test_xl_cannot_start_pypxeboot(xm: Path, host: dict) -> None:
    """Why `mode-needs-xm` refuses pypxeboot guests on xl dom0s: even a config pypxeboot takes
    from xend stops it when libxl starts it."""
    cfg = xm_config(xm.read_text(encoding="utf-8"))
    parse_argv(xend_argv(cfg))
    with pytest.raises(Refused, match="option --output-format not recognized"):
        parse_argv(libxl_argv(cfg))


def _validate(fabric: Path) -> set[str]:
    proc = subprocess.run([str(XENFAB), "validate", "--json", str(fabric)], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return {d["code"] for d in json.loads(proc.stdout)}


@pytest.mark.parametrize(
    "words",
    [
        ["ramdisk=32768"],
        ["console=ttyS0,9600", "ramdisk=32768"],
        ["text"],
        ["ramdisk=32768", "text"],
        ["vga=a=b"],
    ],
)
def test_pypxeboot_unreadable_fires_exactly_where_pypxeboot_fails(words: list[str], tmp_path: Path) -> None:
    """`pypxeboot-unreadable` refuses the `append` words pypxeboot's own parse cannot read
    (or reads wrong), and no others."""
    text = (CASES / "minimal/fabric.toml").read_text(encoding="utf-8")
    assert 'initrd = "c5/initrd.img"\n' in text
    text = text.replace('initrd = "c5/initrd.img"\n', f'initrd = "c5/initrd.img"\nappend = {json.dumps(words)}\n', 1)
    fabric = tmp_path / "fabric.toml"
    fabric.write_text(text, encoding="utf-8")
    line = "label install\n  kernel c5/vmlinuz\n  append initrd=c5/initrd.img " + " ".join(words) + " ks=http://10.1.0.1/ks/web1.example.net.ks ksdevice=eth0\n"
    try:
        _, labels = parse_pxelinux("default install\n" + line)
        readable = all(labels["install"].append.get(w.split("=")[0]) is not None for w in words if "=" in w) and all(
            "=" in w for w in words
        )
    except Refused:
        readable = False
    assert ("pypxeboot-unreadable" not in _validate(fabric)) == readable
