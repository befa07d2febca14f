"""DHCP hands each kind of network-booting client its own boot file, asked of the real servers.

ISC dhcpd, Kea and dnsmasq serve the ``dhcp/`` files of ``tests/cases/uefi-boot`` (the example
site with ``[install.boot_files]``: ``bios = "pxelinux.0"``, ``uefi = "grub2/grubx64.efi"``,
``http = "http://192.168.96.1/efi/grubx64.efi"``, ``ipxe = "ipxe/boot.ipxe"``), and busybox
udhcpc with ullr's MAC asks as each kind of client would (``boot/dhcp_probe.sh``, the server in
a network namespace, over a veth pair):

* BIOS: no option 93, and option 93 = 0 (IANA "Processor Architecture Types": x86 BIOS) ->
  ``pxelinux.0``;
* x86-64 UEFI PXE: option 93 = 7 (what EDK2 sends for x64) and 9 (RFC 4578's "EFI x86-64") ->
  the UEFI file;
* UEFI HTTP boot: option 93 = 16, vendor class ``HTTPClient:Arch:00016:UNDI:003001`` and option
  60 in the parameter request list, as EDK2 asks (NetworkPkg/HttpBootDxe/HttpBootDhcp4.c,
  ``HttpBootBuildDhcp4Options``) -> the URL, and option 60 ``HTTPClient`` back, without which
  EDK2 takes the offer for a plain one (``HttpBootParseDhcp4Packet``);
* an arch-16 client without the HTTPClient vendor class is not an HTTP boot client;
* iPXE on UEFI: option 93 = 7 and user class (77) ``iPXE`` -> the iPXE script, not the UEFI file.

And a mutant of each server's file, its x64 UEFI test changed to 6 (x86 UEFI), gives the
arch-7 client the BIOS file: the test can fail. The files are the golden ones (a Rust test keeps
them current); root and ``ip netns`` only: skipped with the reason otherwise; missing programs
fail ("run scripts/install-validators"), XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips
them. About 1 s a probe.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from boot_env import PATH, missing, netns_or_skip, require

HERE = Path(__file__).resolve().parent
CASE = HERE.parent / "cases" / "uefi-boot" / "expected" / "dhcp"
DHCP_PROBE = HERE / "boot" / "dhcp_probe.sh"
ENV = dict(os.environ, PATH=PATH)

# ullr of the example site, and the site's TFTP server (tests/cases/uefi-boot/fabric.toml).
ULLR_MAC, ULLR_IP, NEXT_SERVER = "00:16:3e:a8:60:2b", "192.168.96.43", "192.168.96.1"
BIOS, UEFI, IPXE = "pxelinux.0", "grub2/grubx64.efi", "ipxe/boot.ipxe"
HTTP = "http://192.168.96.1/efi/grubx64.efi"
HTTP_VENDOR = "HTTPClient:Arch:00016:UNDI:003001"

# udhcpc arguments of each kind of client: -x 0x5d:HEX sends option 93, -V the vendor class,
# -x 0x4d:HEX the user class ("iPXE" = 69 50 58 45), -O 60 asks for option 60.
CLIENTS = {
    "bios-no-arch": ([], BIOS),
    "bios-arch0": (["-x", "0x5d:0000"], BIOS),
    "uefi-arch7": (["-x", "0x5d:0007"], UEFI),
    "uefi-arch9": (["-x", "0x5d:0009"], UEFI),
    "http-arch16": (["-x", "0x5d:0010", "-V", HTTP_VENDOR, "-O", "60"], HTTP),
    "arch16-not-httpclient": (["-x", "0x5d:0010", "-O", "60"], None),
    "ipxe-on-uefi": (["-x", "0x5d:0007", "-x", "0x4d:69505845"], IPXE),
}
SERVERS = [("isc", "dhcpd.conf", "dhcpd"), ("kea", "kea-dhcp4.json", "kea-dhcp4"),
           ("dnsmasq", "dnsmasq.conf", "dnsmasq")]


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True,
                          errors="replace", timeout=timeout, check=False)


@pytest.fixture(scope="module")
def netns() -> None:
    """Skip unless this process may create network namespaces (root, `ip netns`)."""
    require(missing(["ip", "busybox"], []), "the DHCP probes")
    netns_or_skip("the DHCP probes")


def _served(kind: str, name: str, text: str, tmp: Path) -> Path:
    """TEXT as the file the server reads; Kea's with its leases in TMP (the packaged path,
    /var/lib/kea, is the service's StateDirectory)."""
    if kind == "kea":
        config = json.loads(text)
        config["Dhcp4"]["lease-database"]["name"] = str(tmp / "kea-leases4.csv")
        text = json.dumps(config, indent=2)
    conf = tmp / name
    conf.write_text(text, encoding="utf-8")
    return conf


def _probe(kind: str, conf: Path, args: list[str]) -> tuple[int, dict[str, str], str]:
    argv = ["sh", str(DHCP_PROBE), kind, str(conf), ULLR_MAC, f"{NEXT_SERVER}/24", *args]
    proc = _run(argv, 30)
    lease = dict(line.split("=", 1) for line in proc.stdout.splitlines() if re.match(r"^[a-z_0-9]+=", line))
    return proc.returncode, lease, f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"


@pytest.mark.boot
@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize(("kind", "name", "command"), SERVERS, ids=[s[0] for s in SERVERS])
def test_boot_file_by_client(kind: str, name: str, command: str, client: str, netns: None,
                             tmp_path: Path) -> None:
    require(missing([command], []), f"the {kind} probe")
    args, want = CLIENTS[client]
    conf = _served(kind, name, (CASE / name).read_text(encoding="utf-8"), tmp_path)
    rc, lease, log = _probe(kind, conf, args)
    assert rc == 0, f"no lease from {kind}:\n{log}"
    assert lease.get("ip") == ULLR_IP, log
    if want is None:
        # An arch-16 client that is no HTTP boot client: no URL, no HTTPClient; dnsmasq gives
        # it no file at all (its BIOS line excludes option 93 = 16), dhcpd and Kea the BIOS one.
        assert lease.get("boot_file") in (None, BIOS), log
        assert lease.get("vendor") != "HTTPClient", log
        return
    assert lease.get("boot_file") == want, log
    assert lease.get("siaddr") == NEXT_SERVER, log
    if want == HTTP:
        assert lease.get("vendor") == "HTTPClient", f"no option 60 HTTPClient in the reply:\n{log}"
    else:
        assert lease.get("vendor") != "HTTPClient", log


# Each server's x64 UEFI test, and the same test for x86 UEFI (IANA 6): the mutant.
MUTANTS = {
    "isc": ("option pxe-system-type = 00:07 or option pxe-system-type = 00:09",
            "option pxe-system-type = 00:06"),
    "kea": ("(option[93].hex == 0x0007 or option[93].hex == 0x0009)", "(option[93].hex == 0x0006)"),
    "dnsmasq": ("option:client-arch,7\ndhcp-match=set:xenfab+uefi,option:client-arch,9\n",
                "option:client-arch,6\n"),
}


@pytest.mark.boot
@pytest.mark.parametrize(("kind", "name", "command"), SERVERS, ids=[s[0] for s in SERVERS])
def test_mutant_uefi_test_fails(kind: str, name: str, command: str, netns: None, tmp_path: Path) -> None:
    """The probe can fail: with the UEFI test asking for 6, the arch-7 client gets pxelinux.0."""
    require(missing([command], []), f"the {kind} probe")
    text = (CASE / name).read_text(encoding="utf-8")
    good, bad = MUTANTS[kind]
    assert good in text, f"{name} no longer has the UEFI test {good!r}: update the mutant"
    conf = _served(kind, name, text.replace(good, bad), tmp_path)
    rc, lease, log = _probe(kind, conf, CLIENTS["uefi-arch7"][0])
    assert rc == 0, f"no lease from {kind}:\n{log}"
    assert lease.get("boot_file") == BIOS, log


# --- xenfab dhcpd-config ------------------------------------------------------------------------

XENFAB = Path(os.environ.get("XENFAB", HERE.parents[1] / "target" / "debug" / "xenfab"))
SAMPLES = HERE / "samples"
BOOT_FILES = """
[install.boot_files]
uefi = "grub2/grubx64.efi"
http = "http://192.168.1.1/efi/grubx64.efi"
ipxe = "ipxe/boot.ipxe"
"""


@pytest.mark.boot
@pytest.mark.parametrize("declared", [False, True], ids=["plain", "own-option-arch"])
def test_dhcpd_config_by_client(declared: bool, netns: None, tmp_path: Path) -> None:
    """`xenfab dhcpd-config` puts the same per-kind host entries into Quattor's example
    dhcpd.conf, which needs no `option arch` declaration of xenfab's (dhcpd's own
    `pxe-system-type` is option 93), and keeps working beside the common one of a user's own
    (`option arch code 93 = unsigned integer 16;`, two names for one code); a second run changes
    nothing, and the served file answers each kind of client."""
    require(missing(["dhcpd"], []), "the isc probe")
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    site = (SAMPLES / "aii-site.toml").read_text(encoding="utf-8")
    anchor = 'kickstart_url = "http://192.168.1.1/ks"\n'
    assert anchor in site
    (tmp_path / "site.toml").write_text(site.replace(anchor, anchor + BOOT_FILES, 1), encoding="utf-8")
    # Quattor's example says `ddns-update-style ad-hoc;`, which dhcpd 4 refuses (test_netboot).
    conf = (SAMPLES / "aii-dhcpd.conf.example").read_text(encoding="utf-8").replace("ad-hoc", "none")
    if declared:
        conf = "option arch code 93 = unsigned integer 16;\n" + conf
    (tmp_path / "in.conf").write_text(conf, encoding="utf-8")
    outs = []
    for src, dst in (("in.conf", "out.conf"), ("out.conf", "again.conf")):
        r = subprocess.run([str(XENFAB), "dhcpd-config", "--fabric", str(tmp_path / "site.toml"), str(tmp_path / src)],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        (tmp_path / dst).write_text(r.stdout, encoding="utf-8")
        outs.append(r.stdout)
    assert outs[0] == outs[1], "a second run changed the file"
    assert outs[0].count("code 93") == (1 if declared else 0)
    # ullr of the aii site: 192.168.1.43 (the example's last octet).
    mac = re.search(r"host ullr\.[^{]*\{\s*hardware ethernet ([0-9a-f:]+);", outs[0])
    assert mac, outs[0]
    for client in ("bios-no-arch", "uefi-arch7", "http-arch16", "ipxe-on-uefi"):
        args, want = CLIENTS[client]
        argv = ["sh", str(DHCP_PROBE), "isc", str(tmp_path / "out.conf"), mac.group(1), "192.168.1.1/24", *args]
        proc = _run(argv, 30)
        lease = dict(line.split("=", 1) for line in proc.stdout.splitlines() if re.match(r"^[a-z_0-9]+=", line))
        log = f"$ {shlex.join(argv)}\n{proc.stdout}"
        assert proc.returncode == 0, log
        assert lease.get("boot_file") == (want.replace("192.168.96.1", "192.168.1.1") if want == HTTP else want), log


# --- other NICs: no boot file, whatever they say they are ---------------------------------------

MULTI_NIC = HERE.parent / "cases" / "multi-nic" / "fabric.toml"
# tests/cases/multi-nic: guest ullr's first NIC on public (it boots from there), its second on
# the storage network, which no host boots from (test_netboot's ULLR_NICS).
MULTI_NIC_ULLR = [("public", "02:00:c0:00:02:2d", "192.0.2.1/24", UEFI),
                  ("storage", "02:00:0a:14:00:2d", "10.20.0.1/24", None)]


@pytest.fixture(scope="module")
def multi_nic_dhcp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The multi-nic case's dhcp/ files, rendered with a UEFI boot file."""
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    tmp = tmp_path_factory.mktemp("multi-nic-uefi")
    text = MULTI_NIC.read_text(encoding="utf-8")
    anchor = 'kickstart_url = "http://192.0.2.1/ks"\n'
    assert anchor in text
    fabric = tmp / "fabric.toml"
    fabric.write_text(text.replace(anchor, anchor + '\n[install.boot_files]\nuefi = "grub2/grubx64.efi"\n', 1),
                      encoding="utf-8")
    r = subprocess.run([str(XENFAB), "render", str(fabric), "-o", str(tmp / "out")], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr
    return tmp / "out" / "dhcp"


@pytest.mark.boot
@pytest.mark.parametrize(("network", "mac", "server", "want"), MULTI_NIC_ULLR, ids=[n[0] for n in MULTI_NIC_ULLR])
@pytest.mark.parametrize(("kind", "name", "command"), SERVERS, ids=[s[0] for s in SERVERS])
def test_other_nics_get_no_boot_file(kind: str, name: str, command: str, network: str, mac: str, server: str,
                                     want: str | None, multi_nic_dhcp: Path, netns: None, tmp_path: Path) -> None:
    """An arch-7 client on the network a host boots from gets the UEFI file; on a network only
    other NICs are on, none (Kea: the classes are required only by the booting subnets)."""
    require(missing([command], []), f"the {kind} probe")
    conf = _served(kind, name, (multi_nic_dhcp / name).read_text(encoding="utf-8"), tmp_path)
    argv = ["sh", str(DHCP_PROBE), kind, str(conf), mac, server, "-x", "0x5d:0007"]
    proc = _run(argv, 30)
    log = f"$ {shlex.join(argv)}\n{proc.stdout}"
    assert proc.returncode == 0, f"no lease from {kind} on {network}:\n{log}"
    lease = dict(line.split("=", 1) for line in proc.stdout.splitlines() if re.match(r"^[a-z_0-9]+=", line))
    assert lease.get("boot_file") == want, log
