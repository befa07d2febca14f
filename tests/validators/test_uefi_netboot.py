"""A rendered fabric with BIOS and UEFI dom0s boots from the network through real firmware.

``tests/cases/uefi/fabric.toml`` is rendered, and ``xenfab boot`` puts its dom0s ``uefi9``
(Rocky 9 on a UEFI machine), ``bios9`` (Rocky 9 on a BIOS machine) and ``deb`` (Debian 12 on a
UEFI machine) in ``install``. Then ``boot/efi_netboot.py`` runs each rendered DHCP file in its
real server (ISC dhcpd, Kea, dnsmasq) in a network namespace, dnsmasq serves the rendered
``tftpboot/`` over TFTP, and QEMU boots the dom0's MAC:

* OVMF (real UEFI firmware, its own PXE: option 93 = 7) is handed ``grub2/grubx64.efi`` by each
  server. There sits Debian's signed GRUB netboot image, whose built-in prefix is ``/grub``:
  it reads the rendered ``grub/grub.cfg``, which sends it to ``grub2/``, where GRUB's own lookup
  finds the link ``grub.cfg-01-<mac>`` that ``xenfab boot`` switched. The probe Linux at the
  entry's kernel path shows the command line GRUB passed: ``inst.ks=…/uefi9.uefi.test.ks``
  (``deb``: ``url=…/preseed/deb.uefi.test.cfg``).
* SeaBIOS with iPXE (option 93 = 0), with ``bios9``'s MAC and the same server, is handed
  ``pxelinux.0`` and boots ``pxelinux.cfg/01-<mac>``.
* Without the MAC link GRUB's lookup finds the host's ``grub.cfg-<HEXIP>`` link.
* It can fail: the DHCP file with its UEFI test taken out hands OVMF ``pxelinux.0``, which it
  cannot run; without the host's two links GRUB reads ``grub2/grub.cfg``, the local disk, and
  no installer starts.

Root, ``ip netns`` and /dev/net/tun, or skipped with the reason. Marked ``boot``: about 20 s a
boot under TCG (2 cores), some 3 min in all. Missing programs fail ("run
scripts/install-validators"); XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boot_env import PATH, efi_netboot_needs, netns_or_skip, require

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASE = ROOT / "tests" / "cases" / "uefi"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
EFI_NETBOOT = HERE / "boot" / "efi_netboot.py"
PROBE_KERNEL = Path(os.environ.get("XENFAB_PROBE_KERNEL", HERE / "boot" / "build" / "probe-vmlinuz"))

pytestmark = pytest.mark.boot

# The case's install server and dom0s (tests/cases/uefi/fabric.toml).
SERVER = "192.0.2.1/24"
KS_URL = "http://192.0.2.1/ks"
DOMAIN = "uefi.test"
HOSTS = {
    "uefi9": "52:54:00:0e:00:12",
    "bios9": "52:54:00:0e:00:11",
    "deb": "52:54:00:0e:00:14",
}
UEFI_FILE = "grub2/grubx64.efi"  # xenfab's default once a dom0 boots with UEFI
CONFS = {"isc": "dhcpd.conf", "kea": "kea-dhcp4.json", "dnsmasq": "dnsmasq.conf"}


def _xenfab(*args: str) -> None:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    r = subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"xenfab {shlex.join(args)}:\n{r.stderr}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The case rendered, with uefi9 and bios9 switched to install (deb is there already)."""
    out = tmp_path_factory.mktemp("uefi") / "out"
    fabric = CASE / "fabric.toml"
    _xenfab("render", str(fabric), "-o", str(out))
    for host in ("uefi9", "bios9"):
        _xenfab("boot", host, "install", "--wipe-guests", "--fabric", str(fabric), "-o", str(out))
    return out


@pytest.fixture(scope="module")
def netns() -> None:
    netns_or_skip("the network boots", tap=True)


def _require(kind: str, firmware: str) -> None:
    require(efi_netboot_needs(kind, firmware, str(PROBE_KERNEL)), "the network boots")


def _entry_files(entry: Path) -> tuple[str, str]:
    """The kernel and initrd an install entry (GRUB2's or pxelinux's) loads, TFTP-root relative."""
    text = entry.read_text(encoding="utf-8")
    kernel = re.search(r"^\s*(?:linux|KERNEL|kernel)\s+/?(\S+)", text, re.M)
    initrd = re.search(r"^\s*initrd\s+/?(\S+)", text, re.M) or re.search(r"initrd=(\S+)", text)
    assert kernel and initrd, f"no kernel or initrd in {entry}:\n{text}"
    return kernel.group(1), initrd.group(1)


def _copy(rendered: Path, tmp: Path) -> Path:
    """A copy of the rendered tree that a test may break."""
    dst = tmp / "out"
    shutil.copytree(rendered, dst, symlinks=True)
    return dst


def boot(out: Path, kind: str, host: str, firmware: str, tmp: Path, *expect: str) -> tuple[int, dict, str]:
    """Boot HOST's MAC with FIRMWARE against KIND serving OUT's DHCP file and OUT/tftpboot."""
    _require(kind, firmware)
    mac = HOSTS[host]
    fqdn = f"{host}.{DOMAIN}"
    entry = out / "tftpboot" / ("grub2" if firmware == "uefi" else "pxelinux.cfg") / f"{fqdn}.cfg"
    kernel, initrd = _entry_files(entry)
    conf = out / "dhcp" / CONFS[kind]
    result = tmp / "boot.json"
    argv = [sys.executable, str(EFI_NETBOOT), str(out / "tftpboot"), "--dhcp", kind, str(conf), "--mac", mac,
            "--server-cidr", SERVER, "--firmware", firmware, "--kernel", kernel, "--initrd", initrd,
            "--timeout", "240", "--json", str(result), *expect]
    if firmware == "uefi":
        argv += ["--grub-efi", UEFI_FILE]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                          errors="replace", env=dict(os.environ, PATH=PATH), timeout=400, check=False)
    log = f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"
    if proc.returncode == 2 or not result.exists():
        pytest.fail(f"efi_netboot.py could not set up the boot:\n{log}", pytrace=False)
    got = json.loads(result.read_text(encoding="utf-8"))
    print(f"{host} ({firmware}) with {kind}: {got.get('seconds')} s, boot file {got.get('bootfile')}")
    return proc.returncode, got, log


def _mac_name(host: str) -> str:
    return "01-" + HOSTS[host].replace(":", "-")


@pytest.mark.parametrize("kind", list(CONFS))
def test_uefi_dom0_boots_its_install_entry(kind: str, rendered: Path, netns: None, tmp_path: Path) -> None:
    rc, got, log = boot(rendered, kind, "uefi9", "uefi", tmp_path,
                        "--expect-bootfile", UEFI_FILE,
                        "--expect-config", f"grub2/grub.cfg-{_mac_name('uefi9')}",
                        "--expect-cmdline", rf"(^| )inst\.ks={re.escape(KS_URL)}/uefi9\.uefi\.test\.ks( |$)")
    assert rc == 0, log
    assert got["client_arch"] == [7], log  # OVMF's PXE: x86-64 UEFI
    assert ["/grub/grub.cfg", "ok"] in got["tftp"], log  # the image's /grub prefix, led to grub2/


def test_debian_uefi_dom0_boots_the_installer_with_its_preseed(rendered: Path, netns: None, tmp_path: Path) -> None:
    rc, _, log = boot(rendered, "isc", "deb", "uefi", tmp_path,
                      "--expect-bootfile", UEFI_FILE,
                      "--expect-config", f"grub2/grub.cfg-{_mac_name('deb')}",
                      "--expect-cmdline", rf"(^| )url={re.escape(KS_URL)}/preseed/deb\.uefi\.test\.cfg( |$)")
    assert rc == 0, log


def test_bios_dom0_of_the_same_fabric_gets_pxelinux(rendered: Path, netns: None, tmp_path: Path) -> None:
    rc, got, log = boot(rendered, "dnsmasq", "bios9", "bios", tmp_path,
                        "--expect-bootfile", "pxelinux.0",
                        "--expect-config", f"pxelinux.cfg/{_mac_name('bios9')}",
                        "--expect-cmdline", rf"(^| )inst\.ks={re.escape(KS_URL)}/bios9\.uefi\.test\.ks( |$)")
    assert rc == 0, log
    assert got["client_arch"] == [0], log


# --- the boots can fail ---------------------------------------------------------------------------


def test_dhcp_without_its_uefi_class_fails(rendered: Path, netns: None, tmp_path: Path) -> None:
    out = _copy(rendered, tmp_path)
    conf = out / "dhcp" / "dnsmasq.conf"
    text = conf.read_text(encoding="utf-8")
    broken = "\n".join(l for l in text.splitlines() if "client-arch" not in l) + "\n"
    assert broken != text, "the rendered dnsmasq.conf has no client-arch test to take out"
    conf.write_text(broken, encoding="utf-8")
    rc, got, log = boot(out, "dnsmasq", "uefi9", "uefi", tmp_path,
                        "--expect-cmdline", r"(^| )inst\.ks=")
    assert rc == 1, log
    assert got["bootfile"] == "pxelinux.0", log


def test_without_the_mac_link_grub_finds_the_hexip_link(rendered: Path, netns: None, tmp_path: Path) -> None:
    out = _copy(rendered, tmp_path)
    (out / "tftpboot" / "grub2" / f"grub.cfg-{_mac_name('uefi9')}").unlink()
    rc, got, log = boot(out, "isc", "uefi9", "uefi", tmp_path,
                        "--expect-config", "grub2/grub.cfg-C000020C",  # 192.0.2.12
                        "--expect-cmdline", rf"(^| )inst\.ks={re.escape(KS_URL)}/uefi9\.uefi\.test\.ks( |$)")
    assert rc == 0, log


def test_without_per_host_grub_files_the_installer_does_not_start(rendered: Path, netns: None,
                                                                  tmp_path: Path) -> None:
    out = _copy(rendered, tmp_path)
    for name in (f"grub.cfg-{_mac_name('uefi9')}", "grub.cfg-C000020C"):
        link = out / "tftpboot" / "grub2" / name
        assert link.is_symlink(), f"{link} is not there"
        link.unlink()
    rc, got, log = boot(out, "isc", "uefi9", "uefi", tmp_path,
                        "--timeout", "150", "--expect-cmdline", r"(^| )inst\.ks=")
    assert rc == 1, log
    assert got["cmdline"] is None, log
    assert ["/grub2/grub.cfg", "ok"] in got["tftp"], log  # the local disk: GRUB's last name
