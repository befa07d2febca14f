"""A dom0's GRUB2 entry booted by real GRUB EFI under real UEFI firmware: the self-test of
``boot/grub_efi_boot.py``.

A hand-written grub.cfg as a Debian dom0 with a separate ``/boot`` on GPT partition 2 has it
(``insmod part_gpt``, ``insmod ext2``, ``multiboot2 /xen…gz dom0_mem=1024M,max:1024M …``,
``module2`` the dom0 kernel and the initrd). ``grub_efi_boot.py`` puts it on a GPT disk (ESP with
GRUB's x86_64-efi image as ``EFI/BOOT/BOOTX64.EFI``, ext2 ``/boot``), OVMF boots it, and the probe
multiboot kernel at the hypervisor's path prints what GRUB handed over. The test asserts:

* the multiboot2 protocol, Xen's command line with the file's ``dom0_mem=…`` and the other
  dom0 tokens, the two modules in order with their command lines;
* the same with ``/boot`` on partition 3 (``--boot-part 3``);
* the real hypervisor: Debian 12's Xen 4.17 (``boot/build/xen-4.17-amd64.gz``, extracted by
  scripts/install-validators) at the entry's path, booted by GRUB's ``multiboot2`` through its
  EFI entry, echoes the same ``dom0_mem=…`` on its ``Command line:`` and gets as far as building
  dom0 (whose dummy kernel then stops it). The entry has ``console=com1 com1=115200,8n1`` for that:
  Xen writes to a serial port only when told to;
* it can fail: the entry naming partition 3 on a disk whose ``/boot`` is partition 2 is GRUB's
  error and no probe; ``multiboot`` in place of ``multiboot2`` is protocol 1, which the
  protocol check rejects.

Marked ``boot``. ~4 s a boot under TCG, ~12 s with Xen (2 shared cores). Missing programs fail ("run
scripts/install-validators"); XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips them.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from boot_env import PATH, missing, require

HERE = Path(__file__).resolve().parent
XEN_GZ = Path(os.environ.get("XENFAB_XEN_GZ", HERE / "boot" / "build" / "xen-4.17-amd64.gz"))
GRUB_EFI_BOOT = HERE / "boot" / "grub_efi_boot.py"

pytestmark = pytest.mark.boot

XEN = "/xen-4.17-amd64.gz"
KERNEL = "/vmlinuz-6.1.0-13-amd64"
INITRD = "/initrd.img-6.1.0-13-amd64"
XEN_ARGS = "placeholder dom0_mem=1024M,max:1024M dom0_max_vcpus=2 dom0_vcpus_pin"
KERNEL_ARGS = "placeholder root=/dev/mapper/vg-root ro quiet"
# The shape of Debian's 20_linux_xen entry (grub-mkconfig, GRUB 2.06): insmod lines, `echo`,
# then the hypervisor with multiboot2 and the kernel and initrd with module2 (--nounzip on
# the initrd, as 20_linux_xen writes it).
CFG = f"""set default=0
set timeout=0
insmod part_gpt
insmod ext2
menuentry 'Debian GNU/Linux, with Xen hypervisor' {{
  insmod gzio
  echo 'Loading the Xen hypervisor'
  multiboot2 {XEN} {XEN_ARGS}
  echo 'Loading the dom0 kernel'
  module2 {KERNEL} {KERNEL_ARGS}
  module2 --nounzip {INITRD}
}}
"""


def _require(*extra: str) -> None:
    commands = ["qemu-system-x86_64", "mke2fs", "gcc", "grub-mkimage", "sfdisk", "mkfs.vfat", "mcopy"]
    files = ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/lib/grub/x86_64-efi/multiboot2.mod", *extra]
    require(missing(commands, files), "the GRUB EFI boots")


def grub_efi_boot(cfg_text: str, tmp: Path, *args: str) -> tuple[int, dict, str]:
    cfg = tmp / "grub.cfg"
    cfg.write_text(cfg_text, encoding="utf-8")
    out = tmp / "boot.json"
    argv = [sys.executable, str(GRUB_EFI_BOOT), str(cfg), "--probe", XEN, "--file", KERNEL, "--file", INITRD,
            "--expect-modules", "2", "--timeout", "120", "--json", str(out), *args]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                          errors="replace", env=dict(os.environ, PATH=PATH), timeout=240, check=False)
    log = f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"
    if proc.returncode == 2 or not out.exists():
        pytest.fail(f"grub_efi_boot.py could not set up the boot:\n{log}", pytrace=False)
    return proc.returncode, json.loads(out.read_text(encoding="utf-8")), log


def problems(got: dict, proto: str = "2") -> list[str]:
    """What differs from the entry: protocol, Xen's command line, the two modules."""
    found = []
    if got["proto"] != proto:
        found.append(f"multiboot protocol {got['proto']}, not {proto}")
    have = (got["cmdline"] or "").split()
    found += [f"Xen's command line lacks {t!r}" for t in XEN_ARGS.split() if t not in have]
    heads = [m["head"] for m in got["modules"]]
    if heads != [f"DUMMY:{KERNEL}", f"DUMMY:{INITRD}"]:
        found.append(f"modules {heads}, not the dom0 kernel and initrd")
    elif got["modules"][0]["cmdline"] != KERNEL_ARGS:
        found.append(f"the dom0 kernel's command line is {got['modules'][0]['cmdline']!r}")
    return found


@pytest.mark.parametrize("part", [2, 3])
def test_grub_efi_boots_xen_entry_with_dom0_mem(part: int, tmp_path: Path) -> None:
    _require()
    rc, got, log = grub_efi_boot(CFG, tmp_path, "--boot-part", str(part),
                                 "--expect-cmdline", r"(^| )dom0_mem=1024M,max:1024M( |$)")
    print(f"GRUB EFI boot, /boot on gpt{part}: {got['seconds']} s")
    assert rc == 0, log
    assert problems(got) == [], log
    assert got["grub_errors"] == [], log


def test_grub_efi_boots_real_xen_with_dom0_mem(tmp_path: Path) -> None:
    _require(str(XEN_GZ))
    serial = CFG.replace(XEN_ARGS, XEN_ARGS + " console=com1 com1=115200,8n1")
    rc, got, log = grub_efi_boot(serial, tmp_path, "--hypervisor", str(XEN_GZ),
                                 "--expect-cmdline", r"(^| )dom0_mem=1024M,max:1024M( |$)")
    print(f"GRUB EFI boot of Xen 4.17: {got['seconds']} s, {got['xen']}")
    assert rc == 0, log
    xen = got["xen"]
    assert xen["cmdline"] == XEN_ARGS + " console=com1 com1=115200,8n1", log
    assert xen["bootloader"].startswith("GRUB 2.06") and xen["efi"] and xen["building_dom0"], log


def test_grub_efi_entry_on_the_wrong_partition_fails(tmp_path: Path) -> None:
    """The entry reads gpt3 while /boot is gpt2: GRUB's own error, no probe."""
    _require()
    wrong = CFG.replace("  insmod gzio\n", "  insmod gzio\n  set root=(hd0,gpt3)\n")
    rc, got, log = grub_efi_boot(wrong, tmp_path, "--boot-part", "2")
    assert rc == 1, log
    assert got["cmdline"] is None and got["grub_errors"], log


def test_grub_efi_multiboot1_is_seen(tmp_path: Path) -> None:
    """`multiboot` for `multiboot2`: the probe runs, but with protocol 1, which the check rejects."""
    _require()
    mb1 = CFG.replace("multiboot2 ", "multiboot ").replace("module2 ", "module ")
    rc, got, log = grub_efi_boot(mb1, tmp_path)
    assert got["proto"] == "1", log
    assert "multiboot protocol 1, not 2" in problems(got), log
