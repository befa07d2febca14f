"""Real UEFI firmware boots from the network: the self-test of ``boot/efi_netboot.py``.

Hand-written inputs, no xenfab output: a DHCP config for each real server (ISC dhcpd, Kea,
dnsmasq) that gives an x86-64 UEFI client (DHCP option 93 = 7, RFC 4578) the boot file
``grub2/grubx64.efi`` and a BIOS client (93 = 0) ``pxelinux.0``, next-server 192.0.2.1; a TFTP
tree with GRUB's per-MAC file ``grub/grub.cfg-01-<mac>`` and pxelinux's ``pxelinux.cfg/01-<mac>``,
each booting the probe Linux with an installer URL on its command line. The harness runs the
server and a TFTP server in a network namespace, QEMU on a tap there, and:

* OVMF (Debian's ``ovmf``, its own PXE stack) gets ``grub2/grubx64.efi`` = Debian's signed
  ``grubnetx64.efi``, which reads ``grub/grub.cfg`` (its prefix is ``/grub`` on the TFTP server,
  whatever the image's directory), whose nested ``normal`` searches ``grub/grub.cfg-01-<mac>``;
  the probe's /proc/cmdline has ``ks=http://x/y.ks``. For each of the three servers.
* xenfab's layout, the per-MAC file in ``grub2/``: a ``grub/grub.cfg`` that sets
  ``prefix=($root)/grub2`` before its ``normal`` makes the same image read
  ``grub2/grub.cfg-01-<mac>``.
* Through shim (shim-unsigned's ``shimx64.efi`` as the boot file, GRUB beside it as
  ``grubx64.efi``): shim fetches ``grub2/grubx64.efi`` from its own TFTP directory, and GRUB
  still reads ``/grub/grub.cfg`` and the per-MAC file.
* SeaBIOS + iPXE, same MAC, same server and config: ``pxelinux.0``, ``pxelinux.cfg/01-<mac>``,
  ``url=http://x/p.cfg``. For each of the three servers.
* The boots can fail: the EFI client handed ``pxelinux.0`` (the DHCP class wrong) does not
  reach the probe; the per-MAC GRUB file under a wrong name (no ``01-``) leaves GRUB at its
  prompt.

Root and ``ip netns`` only (skipped with the reason otherwise). Marked ``boot``. Missing programs
fail ("run scripts/install-validators"); XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips.
Measured on 2 shared cores (TCG): an OVMF boot to the probe's line ~20 s, a BIOS one ~25 s (most
of it iPXE's DHCP retries), the two failing boots ~9 s and ~12 s; about 3.5 min in all.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from boot_env import PATH, efi_netboot_needs, netns_or_skip, require

HERE = Path(__file__).resolve().parent
EFI_NETBOOT = HERE / "boot" / "efi_netboot.py"
PROBE_KERNEL = Path(os.environ.get("XENFAB_PROBE_KERNEL", HERE / "boot" / "build" / "probe-vmlinuz"))

MAC = "52:54:00:12:34:56"
IP = "192.0.2.10"
SERVER = "192.0.2.1"
EFI_FILE = "grub2/grubx64.efi"
GRUB_MAC_CFG = "grub/grub.cfg-01-" + MAC.replace(":", "-")
PXE_MAC_CFG = "pxelinux.cfg/01-" + MAC.replace(":", "-")

pytestmark = pytest.mark.boot

# Option 93 (RFC 4578 section 2.1, "Client System Architecture Type"): 0 = Intel x86PC (BIOS),
# 7 = EFI x64 (what OVMF's PxeBcDxe sends, NetworkPkg/UefiPxeBcDxe/PxeBcDhcp4.c
# PxeBcBuildDhcp4Options, PXEBC_CLIENT_SYSTEM_ARCH = 7 on X64; efi_netboot.py's JSON shows it).
ISC = f"""option arch code 93 = unsigned integer 16;
default-lease-time 600;
authoritative;
subnet 192.0.2.0 netmask 255.255.255.0 {{
  next-server {SERVER};
  host probe {{
    hardware ethernet {MAC};
    fixed-address {IP};
    if option arch = 00:07 {{ filename "{{efi}}"; }} else {{ filename "{{bios}}"; }}
  }}
}}
"""
KEA = {"Dhcp4": {
    "interfaces-config": {"interfaces": ["*"]},
    "lease-database": {"type": "memfile", "persist": False},
    "valid-lifetime": 600,
    "client-classes": [
        {"name": "efi64", "test": "option[93].hex == 0x0007", "boot-file-name": "{efi}"},
        {"name": "bios", "test": "not member('efi64')", "boot-file-name": "{bios}"},
    ],
    "subnet4": [{"subnet": "192.0.2.0/24", "next-server": SERVER,
                 "reservations": [{"hw-address": MAC, "ip-address": IP}]}],
}}
DNSMASQ = f"""dhcp-range=192.0.2.0,static,255.255.255.0,10m
dhcp-host={MAC},{IP}
dhcp-match=set:efi64,option:client-arch,7
dhcp-boot=tag:efi64,{{efi}},,{SERVER}
dhcp-boot=tag:!efi64,{{bios}},,{SERVER}
"""

# Debian's grubnetx64 sources only $prefix/grub.cfg (its memdisk grub.cfg, see efi_netboot.py);
# a nested `normal` without a file does GRUB's own per-MAC / per-IP / default search
# (grub-core/normal/main.c grub_cmd_normal -> grub-core/net/net.c grub_net_search_config_file),
# which ends at grub/grub.cfg again: the exported variable stops the recursion.
GRUB_CFG = """if [ -z "$xenfab_searched" ]; then
  set xenfab_searched=1
  export xenfab_searched
  normal
fi
"""
# xenfab's tree keeps GRUB's files in grub2/: the image's /grub/grub.cfg moves the prefix there
# ($root is the TFTP device the image came from, (tftp,<next-server>)) and searches.
GRUB_CFG_TO_GRUB2 = """if [ -z "$xenfab_searched" ]; then
  set xenfab_searched=1
  export xenfab_searched
  set prefix=($root)/grub2
  normal
fi
"""
GRUB_MAC = """set timeout=0
menuentry probe {
  linux /probe-vmlinuz ks=http://x/y.ks console=ttyS0
  initrd /probe-initrd.img
}
"""
PXE_MAC = "DEFAULT probe\nLABEL probe\n  KERNEL probe-vmlinuz\n  APPEND initrd=probe-initrd.img url=http://x/p.cfg\n"


def dhcp_conf(kind: str, tmp: Path, efi: str = EFI_FILE, bios: str = "pxelinux.0") -> Path:
    """The hand-written config of server KIND, EFI clients getting EFI, BIOS clients BIOS."""
    if kind == "kea":
        doc = json.loads(json.dumps(KEA).replace("{efi}", efi).replace("{bios}", bios))
        doc["Dhcp4"]["lease-database"]["name"] = str(tmp / "kea-leases4.csv")
        path, text = tmp / "kea-dhcp4.json", json.dumps(doc, indent=1)
    else:
        path, text = (tmp / "dhcpd.conf", ISC) if kind == "isc" else (tmp / "dnsmasq.conf", DNSMASQ)
        text = text.replace("{efi}", efi).replace("{bios}", bios)
    path.write_text(text, encoding="utf-8")
    return path


def tree(tmp: Path, grub_mac_name: str = GRUB_MAC_CFG) -> Path:
    root = tmp / "tftpboot"
    (root / "grub").mkdir(parents=True)
    (root / "pxelinux.cfg").mkdir()
    (root / "grub" / "grub.cfg").write_text(GRUB_CFG, encoding="utf-8")
    (root / grub_mac_name).write_text(GRUB_MAC, encoding="utf-8")
    (root / PXE_MAC_CFG).write_text(PXE_MAC, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def netns() -> None:
    netns_or_skip("the EFI network boots", tap=True)


def _require(kind: str, firmware: str) -> None:
    require(efi_netboot_needs(kind, firmware, str(PROBE_KERNEL)), "the EFI network boots")


def efi_netboot(root: Path, kind: str, conf: Path, tmp: Path, *args: str) -> tuple[int, dict, str]:
    """Run boot/efi_netboot.py; its exit code, JSON result and output."""
    out = tmp / "boot.json"
    argv = [sys.executable, str(EFI_NETBOOT), str(root), "--dhcp", kind, str(conf), "--mac", MAC,
            "--server-cidr", f"{SERVER}/24", "--kernel", "probe-vmlinuz", "--initrd", "probe-initrd.img",
            "--timeout", "240", "--json", str(out), *args]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                          errors="replace", env=dict(os.environ, PATH=PATH), timeout=400, check=False)
    log = f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"
    if proc.returncode == 2 or not out.exists():
        pytest.fail(f"efi_netboot.py could not set up the boot:\n{log}", pytrace=False)
    return proc.returncode, json.loads(out.read_text(encoding="utf-8")), log


KINDS = ["isc", "kea", "dnsmasq"]


@pytest.mark.parametrize("kind", KINDS)
def test_ovmf_netboots_grub_per_mac_config(kind: str, netns: None, tmp_path: Path) -> None:
    _require(kind, "uefi")
    rc, got, log = efi_netboot(tree(tmp_path), kind, dhcp_conf(kind, tmp_path), tmp_path,
                               "--grub-efi", EFI_FILE, "--expect-bootfile", EFI_FILE,
                               "--expect-config", GRUB_MAC_CFG, "--expect-cmdline", r"(^| )ks=http://x/y\.ks( |$)")
    print(f"OVMF boot with {kind}: {got['seconds']} s, client arch {got['client_arch']}")
    assert rc == 0, log
    assert got["client_arch"] == [7], log  # OVMF's PXE says x86-64 UEFI
    assert [EFI_FILE, "ok"] in got["tftp"], log


def test_ovmf_netboots_per_mac_config_in_grub2(netns: None, tmp_path: Path) -> None:
    _require("isc", "uefi")
    root = tree(tmp_path)
    (root / "grub" / "grub.cfg").write_text(GRUB_CFG_TO_GRUB2, encoding="utf-8")
    (root / "grub2").mkdir()
    (root / GRUB_MAC_CFG).rename(root / "grub2" / Path(GRUB_MAC_CFG).name)
    want = "grub2/" + Path(GRUB_MAC_CFG).name
    rc, got, log = efi_netboot(root, "isc", dhcp_conf("isc", tmp_path), tmp_path, "--grub-efi", EFI_FILE,
                               "--expect-config", want, "--expect-cmdline", r"(^| )ks=http://x/y\.ks( |$)")
    print(f"OVMF boot, per-MAC file in grub2/: {got['seconds']} s")
    assert rc == 0, log


def test_ovmf_netboots_shim_then_grub(netns: None, tmp_path: Path) -> None:
    _require("isc", "uefi")
    shim = "grub2/shimx64.efi"
    rc, got, log = efi_netboot(tree(tmp_path), "isc", dhcp_conf("isc", tmp_path, efi=shim), tmp_path,
                               "--shim", shim, "--expect-bootfile", shim, "--expect-config", GRUB_MAC_CFG,
                               "--expect-cmdline", r"(^| )ks=http://x/y\.ks( |$)")
    print(f"OVMF boot through shim: {got['seconds']} s")
    assert rc == 0, log
    assert ["grub2/grubx64.efi", "ok"] in got["tftp"], log  # shim's second stage, from its directory


@pytest.mark.parametrize("kind", KINDS)
def test_bios_client_of_the_same_server_gets_pxelinux(kind: str, netns: None, tmp_path: Path) -> None:
    _require(kind, "bios")
    rc, got, log = efi_netboot(tree(tmp_path), kind, dhcp_conf(kind, tmp_path), tmp_path, "--firmware", "bios",
                               "--expect-bootfile", "pxelinux.0", "--expect-config", PXE_MAC_CFG,
                               "--expect-cmdline", r"(^| )url=http://x/p\.cfg( |$)")
    print(f"BIOS boot with {kind}: {got['seconds']} s, client arch {got['client_arch']}")
    assert rc == 0, log
    assert got["client_arch"] == [0], log


# --- the boots can fail ---------------------------------------------------------------------------


def test_efi_client_handed_pxelinux_fails(netns: None, tmp_path: Path) -> None:
    """The DHCP class wrong: the EFI client gets the BIOS boot file; OVMF cannot run it."""
    _require("isc", "uefi")
    conf = dhcp_conf("isc", tmp_path, efi="pxelinux.0")
    rc, got, log = efi_netboot(tree(tmp_path), "isc", conf, tmp_path, "--grub-efi", EFI_FILE,
                               "--expect-cmdline", "ks=", "--quiet", "15")
    print(f"OVMF boot handed pxelinux.0: {got['seconds']} s, {got['stopped']}")
    assert rc == 1, log
    assert got["bootfile"] == "pxelinux.0" and got["cmdline"] is None, log


def test_per_mac_grub_file_under_a_wrong_name_fails(netns: None, tmp_path: Path) -> None:
    """The per-MAC file without GRUB's `01-` (ARP type) prefix: never read, GRUB stops at its prompt."""
    _require("isc", "uefi")
    root = tree(tmp_path, grub_mac_name="grub/grub.cfg-" + MAC.replace(":", "-"))
    rc, got, log = efi_netboot(root, "isc", dhcp_conf("isc", tmp_path), tmp_path, "--grub-efi", EFI_FILE,
                               "--expect-config", GRUB_MAC_CFG, "--quiet", "15")
    print(f"OVMF boot without the per-MAC file: {got['seconds']} s, {got['stopped']}")
    assert rc == 1, log
    assert got["cmdline"] is None, log
    assert not [f for f, st in got["tftp"] if f.lstrip("/") == GRUB_MAC_CFG and st == "ok"], log
    assert any(f.lstrip("/") == GRUB_MAC_CFG for f, _ in got["tftp"]), log  # GRUB did look for it
