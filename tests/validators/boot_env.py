"""What the tests that boot or serve over a network share: the programs they need, and the
network namespaces they run in.

``require`` fails a test when something it needs is missing ("run scripts/install-validators"),
or skips it when XENFAB_SKIP_BOOT=1 or XENFAB_SKIP_VALIDATORS=1 says so; ``netns_or_skip``
skips it unless this process may make network namespaces (root, ``ip netns``, and for QEMU's
tap /dev/net/tun). ``efi_netboot_needs`` lists what boot/efi_netboot.py needs. Used by test_dhcp_arch.py, test_efi_boot.py, test_grub_efi_boot.py and
test_uefi_netboot.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PATH = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])


def missing(commands: list[str], files: list[str]) -> list[str]:
    """The COMMANDS not on PATH (with the sbin directories) and the FILES not there."""
    return [c for c in commands if not shutil.which(c, path=PATH)] + [f for f in files if not os.path.exists(f)]


def require(absent: list[str], what: str) -> None:
    """Fail (or skip, with XENFAB_SKIP_BOOT=1 or XENFAB_SKIP_VALIDATORS=1) when ABSENT names
    anything WHAT needs."""
    if not absent:
        return
    message = f"missing for {what}: {', '.join(absent)}: run scripts/install-validators"
    for var in ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"):
        if os.environ.get(var) == "1":
            pytest.skip(f"{message} ({var}=1)")
    pytest.fail(message, pytrace=False)


def efi_netboot_needs(kind: str, firmware: str, probe_kernel: str) -> list[str]:
    """What boot/efi_netboot.py needs, and is not here, to boot FIRMWARE (`uefi`: OVMF and
    Debian's GRUB netboot image; `bios`: SeaBIOS, iPXE's ROM, pxelinux) against DHCP server
    KIND (`isc`, `kea`, `dnsmasq`) with the probe kernel PROBE_KERNEL."""
    server = {"isc": "dhcpd", "kea": "kea-dhcp4", "dnsmasq": "dnsmasq"}[kind]
    files = [probe_kernel, "/bin/busybox"]
    if firmware == "uefi":
        files += ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"]
    else:
        files += ["/usr/lib/PXELINUX/pxelinux.0", "/usr/share/seabios/bios-256k.bin", "/usr/lib/ipxe/qemu/efi-e1000.rom"]
    return missing(["qemu-system-x86_64", "dnsmasq", server], files)


def netns_or_skip(what: str, tap: bool = False) -> None:
    """Skip unless this process may make network namespaces (root, `ip netns`; with TAP also
    /dev/net/tun, for QEMU's NIC)."""
    if os.geteuid() != 0:
        pytest.skip(f"{what} need root (ip netns): run as root to include them")
    if not shutil.which("ip", path=PATH):
        pytest.skip(f"no `ip` (iproute2): {what} need it")
    if tap and not os.path.exists("/dev/net/tun"):
        pytest.skip(f"no /dev/net/tun: {what} need a tap device")
    name = f"xfcheck{uuid.uuid4().hex[:8]}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"`ip netns add` does not work here ({r.stderr.strip()}): {what} need it")
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
