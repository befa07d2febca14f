"""The network boot, end to end: DHCP servers that really answer, pxelinux that really boots.

* ``xenfab dhcpd-config`` on Quattor's own dhcpd.conf example (``samples/aii-dhcpd.conf.example``)
  with a fabric on its subnet (``samples/aii-site.toml``): ``dhcpd -t`` accepts the result; the
  managed region sits in the right ``subnet``, holds the fabric's hosts, and removing it gives
  back the input byte for byte; a second run changes nothing.
* ISC dhcpd, Kea and dnsmasq serve the example's ``dhcp/`` files (``boot/dhcp_probe.sh``: the
  server in a network namespace, busybox udhcpc with ullr's MAC in another, over a veth pair):
  the guest gets its address, next-server, boot file, host name and router. Root and ``ip
  netns`` only: skipped with the reason otherwise.
* pxelinux boots the example's ``tftpboot/`` in QEMU (``boot/pxe_boot.py``, slirp's DHCP/TFTP):
  xen01 in its rendered state loads ``pxelinux.cfg/01-<mac>``, which is ``localboot.cfg``; after
  ``xenfab boot xen01 install --wipe-guests`` (``reinstall``, ``rescue``) the same lookup reaches
  xen01's install (reinstall, rescue) entry, and a probe Linux at the entry's kernel path prints
  the command line pxelinux really passed: ``ks=…/xen01.example.org.ks``,
  ``ks=…/xen01.example.org.reinstall.ks``, or ``rescue`` with the install tree (anaconda 11's
  loader, the example's CentOS 5.2), and the NIC: ``ksdevice=bootif`` and the ``BOOTIF=`` that
  pxelinux's ``IPAPPEND 2`` appends (rescue: ``ksdevice=eth0``, xen01's boot NIC being eth0). ``xenfab render`` afterwards
  keeps the switched state.
* A two-NIC xen01 (another NIC first on the bus, the fabric's MAC booting): the probe's line
  names the boot NIC, ``BOOTIF=01-<xen01's mac>``; with the entry's ``ipappend`` taken out it
  does not, so the test can fail.

The DHCP files are the golden ones (``tests/cases/example/expected/dhcp/``) when they are there,
else a fresh render; the PXE tests render ``tests/cases/example/fabric.toml`` themselves, since
``xenfab boot`` and ``xenfab render`` work on a tree xenfab wrote. The ``xenfab`` binary is
``target/debug/xenfab`` unless ``XENFAB`` names another.

The DHCP servers and the boots are marked ``boot``. Missing programs fail them ("run
scripts/install-validators"); XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips them.
About 90 s in all (six PXE boots under TCG: ~9 s, then ~12 s each with the probe kernel, more
on a loaded machine).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLES = HERE / "samples"
EXAMPLE = ROOT / "tests" / "cases" / "example"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
DHCP_PROBE = HERE / "boot" / "dhcp_probe.sh"
PXE_BOOT = HERE / "boot" / "pxe_boot.py"
PROBE_KERNEL = Path(os.environ.get("XENFAB_PROBE_KERNEL", HERE / "boot" / "build" / "probe-vmlinuz"))
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PATH = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
ENV = dict(os.environ, PATH=PATH)

AII_CONF = SAMPLES / "aii-dhcpd.conf.example"
AII_SITE = SAMPLES / "aii-site.toml"
BEGIN = "# BEGIN xenfab managed hosts"
END = "# END xenfab managed hosts"

# The example's hosts (tests/cases/example/fabric.toml, the built-in example).
ULLR = {"mac": "00:16:3e:a8:60:2b", "ip": "192.168.96.43", "hostname": "ullr"}
XEN01_MAC, XEN01_IP, XEN01 = "00:1e:c9:2a:11:01", "192.168.96.11", "xen01.example.org"
NEXT_SERVER, GATEWAY = "192.168.96.1", "192.168.96.254"


def xenfab(*args: str) -> subprocess.CompletedProcess[str]:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    return subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True,
                          errors="replace", timeout=timeout, check=False)


def _log(argv: list[str], proc: subprocess.CompletedProcess[str]) -> str:
    return f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"


def _require(missing: list[str], what: str, variables: tuple[str, ...]) -> None:
    """Fail when a program is missing, or skip when one of VARIABLES is 1."""
    if not missing:
        return
    message = f"missing for {what}: {', '.join(missing)}: run scripts/install-validators"
    for var in variables:
        if os.environ.get(var) == "1":
            pytest.skip(f"{message} ({var}=1)")
    pytest.fail(message, pytrace=False)


def _missing(commands: list[str], files: list[str]) -> list[str]:
    return [c for c in commands if not shutil.which(c, path=PATH)] + [f for f in files if not os.path.exists(f)]


# --- xenfab dhcpd-config on Quattor's example ---------------------------------------------------


def _dhcpd_t(conf: Path) -> subprocess.CompletedProcess[str]:
    _require(_missing(["dhcpd"], []), "dhcpd -t", ("XENFAB_SKIP_VALIDATORS",))
    return _run(["sh", str(HERE / "check_dhcpd.sh"), str(conf)], 60)


def _without_region(text: bytes) -> bytes:
    """TEXT with every managed region (its BEGIN line to its END line) taken out."""
    return re.sub(rb"(?ms)^[ \t]*" + re.escape(BEGIN.encode()) + rb".*?^[ \t]*" + re.escape(END.encode()) + rb"[^\n]*\n",
                  b"", text)


def _enclosing_block(text: str, offset: int) -> str:
    """The header of the innermost `{ … }` block open at OFFSET (comments and strings skipped)."""
    code = re.sub(r'#[^\n]*|"[^"\n]*"', lambda m: " " * len(m.group()), text[:offset])
    stack, start = [], 0
    for i, c in enumerate(code):
        if c == "{":
            stack.append(" ".join(code[start:i].split()))
        if c in "{};":
            start = i + 1
            if c == "}" and stack:
                stack.pop()
    return stack[-1] if stack else ""


def _hosts(text: str) -> set[tuple[str, str, str]]:
    """(name, MAC, fixed address) of every host declaration in a dhcpd.conf."""
    found = re.findall(r"\bhost\s+(\S+)\s*\{([^}]*)\}", re.sub(r"#[^\n]*", "", text))
    return {(name, re.search(r"hardware ethernet\s+([0-9a-f:]+);", body).group(1),
             re.search(r"fixed-address\s+([0-9.]+);", body).group(1)) for name, body in found}


def test_aii_site_is_valid() -> None:
    r = xenfab("validate", str(AII_SITE))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("variant", ["verbatim", "ddns-none"])
def test_dhcpd_config_into_quattor_example(variant: str, tmp_path: Path) -> None:
    """The hosts go into Quattor's own example, which dhcpd then accepts; nothing else changes.

    The example (2003) says `ddns-update-style ad-hoc;`, which ISC dhcpd 4 refuses ("ddns-update-style
    ad_hoc no longer supported"): xenfab keeps it, and warns. The `verbatim` variant proves the
    byte-for-byte and idempotence properties on the file as it is; `ddns-none` is the same file
    with `none` there (what xenfab's warning suggests), on which `dhcpd -t` has the last word.
    """
    source = AII_CONF.read_bytes()
    if variant == "ddns-none":
        assert source.count(b"ddns-update-style ad-hoc;") == 1
        source = source.replace(b"ddns-update-style ad-hoc;", b"ddns-update-style none;")
    conf = tmp_path / "dhcpd.conf"
    conf.write_bytes(source)
    before = _dhcpd_t(conf)
    if variant == "verbatim":  # the premise: dhcpd refuses the input for this line only
        assert before.returncode == 1 and "ad_hoc no longer supported" in before.stdout, before.stdout
    else:
        assert before.returncode == 0, before.stdout

    r = xenfab("dhcpd-config", "--fabric", str(AII_SITE), str(conf))
    assert r.returncode == 0, r.stderr
    if variant == "verbatim":
        assert "ad-hoc" in r.stderr, f"no warning about `ddns-update-style ad-hoc`:\n{r.stderr}"
    out = tmp_path / "dhcpd.conf.out"
    out.write_text(r.stdout, encoding="utf-8")
    result = out.read_bytes()

    # dhcpd reads the result.
    after = _dhcpd_t(out)
    if variant == "verbatim":
        assert after.returncode == 1 and "ad_hoc no longer supported" in after.stdout, after.stdout
    else:
        assert after.returncode == 0, f"dhcpd -t refuses the result:\n{after.stdout}\n{r.stdout}"

    # One managed region, in the subnet of the fabric's network, holding the fabric's hosts.
    text = result.decode("utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, text
    block = _enclosing_block(text, text.index(BEGIN))
    assert block == "subnet 192.168.1.0 netmask 255.255.255.0", f"the managed region is in `{block}`"
    rendered = tmp_path / "rendered"
    rr = xenfab("render", str(AII_SITE), "-o", str(rendered))
    assert rr.returncode == 0, rr.stderr
    want = _hosts((rendered / "dhcp" / "dhcpd-hosts.conf").read_text(encoding="utf-8"))
    assert len(want) == 8, want
    assert _hosts(text[text.index(BEGIN):text.index(END)]) == want

    # Everything else is kept byte for byte, and a second run changes nothing.
    assert _without_region(result) == source
    again = xenfab("dhcpd-config", "--fabric", str(AII_SITE), str(out))
    assert again.returncode == 0, again.stderr
    assert again.stdout.encode("utf-8") == result, "a second run changed the file"


# --- real DHCP servers --------------------------------------------------------------------------


def _dhcp_file(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    golden = EXAMPLE / "expected" / "dhcp" / name
    if golden.exists():
        return golden
    out = tmp_path_factory.getbasetemp() / "example-render"
    if not out.exists():
        r = xenfab("render", str(EXAMPLE / "fabric.toml"), "-o", str(out))
        assert r.returncode == 0, r.stderr
    return out / "dhcp" / name


@pytest.fixture(scope="module")
def netns() -> None:
    """Skip unless this process may create network namespaces (root, `ip netns`)."""
    _require(_missing(["ip", "busybox"], []), "the DHCP probes", ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"))
    if os.geteuid() != 0:
        pytest.skip("the DHCP probes need root (ip netns, veth): run as root to include them")
    name = f"xfcheck{uuid.uuid4().hex[:8]}"
    r = _run(["ip", "netns", "add", name], 10)
    if r.returncode != 0:
        pytest.skip(f"`ip netns add` does not work here ({r.stdout.strip()}): the DHCP probes need it")
    _run(["ip", "netns", "del", name], 10)


SERVERS = [("isc", "dhcpd.conf", "dhcpd"), ("kea", "kea-dhcp4.json", "kea-dhcp4"), ("dnsmasq", "dnsmasq.conf", "dnsmasq")]


def _probe(kind: str, conf: Path, mac: str) -> tuple[int, dict, str]:
    argv = ["sh", str(DHCP_PROBE), kind, str(conf), mac, f"{NEXT_SERVER}/24"]
    proc = _run(argv, 30)
    lease = dict(line.split("=", 1) for line in proc.stdout.splitlines() if re.match(r"^[a-z_]+=", line))
    return proc.returncode, lease, _log(argv, proc)


@pytest.mark.boot
@pytest.mark.parametrize(("kind", "name", "command"), SERVERS, ids=[s[0] for s in SERVERS])
def test_dhcp_server_answers_ullr(kind: str, name: str, command: str, netns: None, tmp_path: Path,
                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    _require(_missing([command], []), f"the {kind} probe", ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"))
    conf = _dhcp_file(name, tmp_path_factory)
    if kind == "kea":
        # Kea keeps leases in /var/lib/kea/kea-leases4.csv, a directory systemd makes for the
        # service (StateDirectory=kea): the copy it serves keeps them in the temp dir instead.
        config = json.loads(conf.read_text(encoding="utf-8"))
        config["Dhcp4"]["lease-database"]["name"] = str(tmp_path / "kea-leases4.csv")
        conf = tmp_path / name
        conf.write_text(json.dumps(config, indent=2), encoding="utf-8")
    rc, lease, log = _probe(kind, conf, ULLR["mac"])
    assert rc == 0, f"no lease from {kind}:\n{log}"
    got = {k: lease.get(k) for k in ("ip", "siaddr", "boot_file", "hostname", "router")}
    want = {"ip": ULLR["ip"], "siaddr": NEXT_SERVER, "boot_file": "pxelinux.0", "hostname": ULLR["hostname"],
            "router": GATEWAY}
    assert got == want, log


@pytest.mark.boot
def test_dhcpd_gives_unknown_mac_nothing(netns: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The probe can fail: xenfab's subnets have no pool, so a MAC not in the fabric gets no lease."""
    _require(_missing(["dhcpd"], []), "the isc probe", ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"))
    rc, lease, log = _probe("isc", _dhcp_file("dhcpd.conf", tmp_path_factory), "00:16:3e:99:99:99")
    assert rc == 1 and not lease, log


# --- PXE boots ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh render of the example case (xenfab's manifest included, so it can render again)."""
    out = tmp_path_factory.mktemp("pxe") / "out"
    r = xenfab("render", str(EXAMPLE / "fabric.toml"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out


def _require_pxe_tools(with_kernel: bool) -> None:
    files = ["/usr/lib/PXELINUX/pxelinux.0", "/usr/lib/syslinux/modules/bios/ldlinux.c32",
             "/usr/share/seabios/bios-256k.bin", "/usr/lib/ipxe/qemu/efi-e1000.rom"]
    if with_kernel:
        files += [str(PROBE_KERNEL), "/bin/busybox"]
    _require(_missing(["qemu-system-x86_64"], files), "the PXE boots", ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"))


def pxe_boot(tree: Path, tmp: Path, *args: str) -> tuple[int, dict, str]:
    # Generous limits: they only bound a failing boot (TCG on 2 shared cores can take a minute
    # from the initrd's download to the probe's line under load).
    out = tmp / "pxe.json"
    argv = [sys.executable, str(PXE_BOOT), str(tree), "--mac", XEN01_MAC, "--ip", XEN01_IP,
            "--timeout", "120", "--quiet", "60", "--json", str(out), *args]
    proc = _run(argv, 180)
    log = _log(argv, proc)
    if proc.returncode == 2 or not out.exists():
        pytest.fail(f"pxe_boot.py could not set up the boot:\n{log}", pytrace=False)
    return proc.returncode, json.loads(out.read_text(encoding="utf-8")), log


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _link(tftp: Path, name: str) -> str:
    return os.readlink(tftp / "pxelinux.cfg" / name)


MAC_CFG = "pxelinux.cfg/01-" + XEN01_MAC.replace(":", "-")
HEX_IP = "".join(f"{int(o):02X}" for o in XEN01_IP.split("."))  # C0A8600B


@pytest.mark.boot
def test_pxe_boot_xen01_localboot(rendered: Path, tmp_path: Path) -> None:
    """Rendered state: pxelinux finds xen01's MAC link at once, and it is the localboot entry."""
    _require_pxe_tools(with_kernel=False)
    tftp = _copy(rendered / "tftpboot", tmp_path / "tftpboot")
    assert _link(tftp, MAC_CFG.split("/")[1]) == "localboot.cfg"
    assert _link(tftp, HEX_IP) == "localboot.cfg"
    entry = (tftp / "pxelinux.cfg" / "localboot.cfg").read_text(encoding="utf-8")
    assert re.search(r"(?mi)^\s*localboot\s+0\s*$", entry), entry

    rc, got, log = pxe_boot(tftp, tmp_path, "--expect-config", MAC_CFG)
    assert rc == 0, log
    asked = [f for f, _ in got["tftp"]]
    configs = [f for f in asked if f.startswith("pxelinux.cfg/")]
    assert configs == [MAC_CFG], f"pxelinux asked for {configs}, not just {MAC_CFG}:\n{log}"
    # localboot: after the config, pxelinux loads nothing (no kernel, no initrd).
    after = asked[asked.index(MAC_CFG) + 1:]
    assert not [f for f in after if not f.endswith(".c32")], f"files loaded after the localboot config: {after}\n{log}"


# What each state's entry of xen01 (the example's CentOS 5.2 dom0, anaconda 11.1) must pass the
# installer, and what it must not: the kickstart of that state, or rescue mode and where the
# installer's tree is (loader2/loader.c reads the bare `rescue` and `method=`), and the NIC it
# booted from: `ksdevice=bootif` with the `BOOTIF=01-<mac>` that pxelinux's `IPAPPEND 2` appends
# (loader2/net.c, chooseNetworkInterface), or in rescue mode `ksdevice=eth0` (its boot NIC).
KS_URL = f"http://{NEXT_SERVER}/ks/{XEN01}"
BOOTIF = "BOOTIF=01-" + XEN01_MAC.replace(":", "-")
# state: (the word the probe's command line must have, all it must have, what it must not)
STATES = {
    "install": (f"ks={KS_URL}.ks", {"ksdevice=bootif", BOOTIF}, {"rescue", "ksdevice=eth0"}),
    "reinstall": (f"ks={KS_URL}.reinstall.ks", {"ksdevice=bootif", BOOTIF},
                  {f"ks={KS_URL}.ks", "rescue", "ksdevice=eth0"}),
    "rescue": ("rescue", {f"method=http://{NEXT_SERVER}/centos/5.2/os/x86_64", "ksdevice=eth0"},
               {f"ks={KS_URL}.ks", f"ks={KS_URL}.reinstall.ks", "ksdevice=bootif", f"ksdevice={XEN01_MAC}", BOOTIF}),
}
ENTRY = {"install": f"{XEN01}.cfg", "reinstall": f"{XEN01}.reinstall.cfg", "rescue": f"{XEN01}.rescue.cfg"}


@pytest.mark.boot
@pytest.mark.parametrize("state", list(STATES))
def test_pxe_boot_xen01_after_xenfab_boot(state: str, rendered: Path, tmp_path: Path) -> None:
    """`xenfab boot xen01 STATE`: the same lookup reaches that state's entry; the probe kernel
    shows the command line pxelinux passes (the entry's append, exactly), with that state's
    kickstart or rescue mode."""
    _require_pxe_tools(with_kernel=True)
    tftp = _copy(rendered / "tftpboot", tmp_path / "tftpboot")
    extra = ["--wipe-guests"] if state == "install" else []
    r = xenfab("boot", "xen01", state, *extra, "--fabric", str(EXAMPLE / "fabric.toml"), "--tftp-root", str(tftp))
    assert r.returncode == 0, r.stderr
    assert _link(tftp, MAC_CFG.split("/")[1]) == ENTRY[state]
    assert _link(tftp, HEX_IP) == ENTRY[state]
    entry = (tftp / "pxelinux.cfg" / ENTRY[state]).read_text(encoding="utf-8")
    kernel = re.search(r"(?mi)^\s*kernel\s+(\S+)\s*$", entry).group(1)
    append = re.search(r"(?mi)^\s*append\s+(.*?)\s*$", entry).group(1).split()
    initrd = next(t.split("=", 1)[1] for t in append if t.startswith("initrd="))
    # The premise: the example's EL5 entry (boot image with `ramdisk=32768`).
    assert (kernel, initrd) == ("centos-5.2/x86_64/vmlinuz", "centos-5.2/x86_64/initrd.img"), entry
    key, must, must_not = STATES[state]
    must = {key, *must}
    # pxelinux, not the entry, adds BOOTIF= (IPAPPEND 2).
    ipappend = re.findall(r"(?mi)^\s*ipappend\s+(\S+)\s*$", entry)
    assert ipappend == (["2"] if BOOTIF in must else []), entry
    assert {"ramdisk=32768", *(must - {BOOTIF})} <= set(append), entry
    assert not (must_not | {BOOTIF}) & set(append), entry

    rc, got, log = pxe_boot(tftp, tmp_path, "--kernel", kernel, "--initrd", initrd,
                            "--expect-config", MAC_CFG, "--expect-cmdline", rf"(^| ){re.escape(key)}( |$)")
    assert rc == 0, log
    cmdline = got["cmdline"].split()
    assert cmdline[0] == f"BOOT_IMAGE={kernel}", log
    want = append + ([BOOTIF] if ipappend else [])
    assert cmdline[1:] == want, f"the kernel got {cmdline[1:]}, the entry says {want}\n{log}"
    assert must <= set(cmdline) and not must_not & set(cmdline), log
    assert [f for f, st in got["tftp"] if st == "ok"][-2:] == [kernel, initrd], log


# A second NIC, first on the bus (the installer kernel's eth0), that is not xen01's.
OTHER_MAC = "52:54:00:0e:70:01"


def _bootif_problems(cmdline: str | None) -> list[str]:
    """What is wrong with the probe's command line for a two-NIC xen01: the loader must be told
    to use the NIC that booted (`ksdevice=bootif`) and which one that is (`BOOTIF=`, once,
    naming xen01's MAC and not the first NIC's)."""
    if cmdline is None:
        return ["the probe kernel printed no command line"]
    words = cmdline.split()
    problems = []
    if "ksdevice=bootif" not in words:
        problems.append("no `ksdevice=bootif`")
    bootifs = [w for w in words if w.startswith("BOOTIF=")]
    if bootifs != [BOOTIF]:
        problems.append(f"BOOTIF words {bootifs}, not [{BOOTIF}]")
    if any(OTHER_MAC.replace(":", "-") in w or OTHER_MAC in w for w in words):
        problems.append(f"the other NIC's MAC {OTHER_MAC} is on the line")
    return problems


@pytest.mark.boot
@pytest.mark.parametrize("variant", ["rendered", "without-ipappend"])
def test_pxe_boot_two_nic_xen01_names_its_boot_nic(variant: str, rendered: Path, tmp_path: Path) -> None:
    """xen01 (a PE-1950 has two NICs) with a second NIC first on the bus, booting from the NIC
    with its fabric MAC (bootindex=1): the installer's command line carries `BOOTIF=01-<that
    MAC>` (pxelinux's `IPAPPEND 2`) and `ksdevice=bootif`, so the EL5 loader brings up that NIC,
    not eth0. `without-ipappend` is the same entry with its `ipappend` line taken out: the probe
    then shows no `BOOTIF=`, so a green run means the rendered line did it."""
    _require_pxe_tools(with_kernel=True)
    tftp = _copy(rendered / "tftpboot", tmp_path / "tftpboot")
    r = xenfab("boot", "xen01", "install", "--wipe-guests", "--fabric", str(EXAMPLE / "fabric.toml"),
               "--tftp-root", str(tftp))
    assert r.returncode == 0, r.stderr
    path = tftp / "pxelinux.cfg" / ENTRY["install"]
    entry = path.read_text(encoding="utf-8")
    assert re.search(r"(?mi)^\s*ipappend\s+2\s*$", entry), entry
    if variant == "without-ipappend":
        path.write_text(re.sub(r"(?mi)^\s*ipappend\s+2\s*\n", "", entry), encoding="utf-8")
    kernel, initrd = "centos-5.2/x86_64/vmlinuz", "centos-5.2/x86_64/initrd.img"
    rc, got, log = pxe_boot(tftp, tmp_path, "--other-mac", OTHER_MAC, "--kernel", kernel, "--initrd", initrd,
                            "--expect-config", MAC_CFG)
    assert rc == 0, log
    assert got["cmdline"] is not None, log
    problems = _bootif_problems(got["cmdline"])
    if variant == "rendered":
        assert not problems, f"{problems}\n{log}"
    else:
        assert any("BOOTIF" in p for p in problems), f"no BOOTIF problem without IPAPPEND: {problems}\n{log}"


def test_boot_install_of_a_dom0_with_guests_needs_wipe_guests(rendered: Path, tmp_path: Path) -> None:
    """xen01 has guests: `install` (its kickstart clears every disk) is refused and changes
    nothing; the message says to reinstall."""
    tftp = _copy(rendered / "tftpboot", tmp_path / "tftpboot")
    r = xenfab("boot", "xen01", "install", "--fabric", str(EXAMPLE / "fabric.toml"), "--tftp-root", str(tftp))
    assert r.returncode == 1, r.stderr
    assert "reinstall" in r.stderr and "--wipe-guests" in r.stderr, r.stderr
    assert _link(tftp, MAC_CFG.split("/")[1]) == "localboot.cfg"
    assert not (tftp / ".xenfab-boot-state.json").exists()


def test_render_keeps_the_boot_state(rendered: Path, tmp_path: Path) -> None:
    """`xenfab render` after `xenfab boot` keeps the switched links; switching back and rendering
    again gives the rendered tree back."""
    out = _copy(rendered, tmp_path / "out")
    fabric = str(EXAMPLE / "fabric.toml")
    r = xenfab("boot", "xen01", "reinstall", "--fabric", fabric, "--tftp-root", str(out / "tftpboot"))
    assert r.returncode == 0, r.stderr
    r = xenfab("render", fabric, "-o", str(out))
    assert r.returncode == 0, r.stderr
    tftp = out / "tftpboot"
    assert _link(tftp, MAC_CFG.split("/")[1]) == f"{XEN01}.reinstall.cfg", r.stderr
    assert _link(tftp, HEX_IP) == f"{XEN01}.reinstall.cfg", r.stderr
    state = json.loads((tftp / ".xenfab-boot-state.json").read_text(encoding="utf-8"))
    assert state["hosts"][XEN01] == "reinstall", state

    r = xenfab("boot", "xen01", "localboot", "--fabric", fabric, "-o", str(out))
    assert r.returncode == 0, r.stderr
    r = xenfab("render", fabric, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert _tree(out) == _tree(rendered)


def _tree(root: Path) -> dict[str, str]:
    """Every file (its text) and link (its target) under ROOT, but the boot state; the manifest
    without its files' stamps (their inodes and times are this tree's, not what they hold) and
    its `id` (made afresh each time it is written whole)."""
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[rel] = "-> " + os.readlink(path)
        elif rel == ".xenfab-manifest.json":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            manifest.pop("id", None)
            for entry in manifest["entries"].values():
                entry.pop("stamp", None)
            tree[rel] = json.dumps(manifest, sort_keys=True)
        elif path.is_file() and path.name != ".xenfab-boot-state.json":
            tree[rel] = path.read_text(encoding="utf-8", errors="replace")
    return tree


# --- several NICs: each gets its address on its own network -------------------------------------

MULTI_NIC = HERE.parent / "cases" / "multi-nic" / "expected" / "dhcp"
# tests/cases/multi-nic: guest ullr's first NIC on public (it boots from there), its second on
# the VLAN-tagged storage network, which no host boots from.
ULLR_NICS = [
    ("public", "02:00:c0:00:02:2d", "192.0.2.1/24",
     {"ip": "192.0.2.45", "siaddr": "192.0.2.1", "boot_file": "pxelinux.0", "router": "192.0.2.254"}),
    ("storage", "02:00:0a:14:00:2d", "10.20.0.1/24",
     {"ip": "10.20.0.45", "siaddr": None, "boot_file": None, "router": "10.20.0.254"}),
]


@pytest.mark.boot
@pytest.mark.parametrize(("network", "mac", "server", "want"), ULLR_NICS, ids=[n[0] for n in ULLR_NICS])
@pytest.mark.parametrize(("kind", "name", "command"), SERVERS, ids=[s[0] for s in SERVERS])
def test_dhcp_server_answers_each_nic_on_its_network(kind: str, name: str, command: str, network: str, mac: str,
                                                     server: str, want: dict, netns: None, tmp_path: Path) -> None:
    """A real DHCP server on each of the guest's networks gives that NIC its own address there,
    and a boot file only on the network it boots from."""
    _require(_missing([command], []), f"the {kind} probe", ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"))
    conf = MULTI_NIC / name
    if kind == "kea":
        config = json.loads(conf.read_text(encoding="utf-8"))
        config["Dhcp4"]["lease-database"]["name"] = str(tmp_path / "kea-leases4.csv")
        conf = tmp_path / name
        conf.write_text(json.dumps(config, indent=2), encoding="utf-8")
    argv = ["sh", str(DHCP_PROBE), kind, str(conf), mac, server]
    proc = _run(argv, 30)
    assert proc.returncode == 0, f"no lease from {kind} on {network}:\n{_log(argv, proc)}"
    lease = dict(line.split("=", 1) for line in proc.stdout.splitlines() if re.match(r"^[a-z_]+=", line))
    got = {k: lease.get(k) for k in want}
    # A server answers with its own address as siaddr when nothing sets next-server (RFC 2131
    # leaves it 0 otherwise; busybox then leaves `siaddr` out): no TFTP server named either way.
    if want["siaddr"] is None and got["siaddr"] in (None, "0.0.0.0", server.split("/")[0]):
        got["siaddr"] = None
    assert got == want, _log(argv, proc)
# A dom0 with a serial console: release-5.5's xen1, whose hardware profile puts it on com2 at
# 57600 (tests/cases/release-5.5/fabric.toml).
SERIAL_CASE = ROOT / "tests" / "cases" / "release-5.5" / "fabric.toml"
SERIAL_MAC, SERIAL_IP, SERIAL_HOST = "00:25:90:00:00:10", "10.1.0.10", "xen1.example.net"


@pytest.mark.boot
def test_pxe_boot_of_a_dom0_with_a_serial_console(tmp_path: Path) -> None:
    """pxelinux's `SERIAL 1 57600` (first line of xen1's entry) sends its own output to COM2,
    and the installer's kernel gets `console=tty0 console=ttyS1,57600n8`: a `SERIAL 0` or a
    missing line would leave COM2 silent."""
    _require_pxe_tools(with_kernel=True)
    out = tmp_path / "out"
    r = xenfab("render", str(SERIAL_CASE), "-o", str(out))
    assert r.returncode == 0, r.stderr
    tftp = _copy(out / "tftpboot", tmp_path / "tftpboot")
    r = xenfab("boot", "xen1", "install", "--wipe-guests", "--fabric", str(SERIAL_CASE), "--tftp-root", str(tftp))
    assert r.returncode == 0, r.stderr
    name = f"{SERIAL_HOST}.cfg"
    entry = (tftp / "pxelinux.cfg" / name).read_text(encoding="utf-8")
    assert entry.splitlines()[0] == "SERIAL 1 57600", entry
    kernel = re.search(r"(?mi)^\s*kernel\s+(\S+)\s*$", entry).group(1)
    append = re.search(r"(?mi)^\s*append\s+(.*?)\s*$", entry).group(1).split()
    initrd = next(t.split("=", 1)[1] for t in append if t.startswith("initrd="))
    assert append[-2:] == ["console=tty0", "console=ttyS1,57600n8"], entry
    json_out = tmp_path / "pxe.json"
    argv = [sys.executable, str(PXE_BOOT), str(tftp), "--mac", SERIAL_MAC, "--ip", SERIAL_IP,
            "--kernel", kernel, "--initrd", initrd, "--timeout", "200", "--quiet", "150", "--json", str(json_out),
            "--expect-cmdline", r"(^| )console=ttyS1,57600n8( |$)"]
    # More time than the others: on a busy 2-core host the probe kernel took 63 s to its /init.
    proc = _run(argv, 300)
    log = _log(argv, proc)
    if proc.returncode == 2 or not json_out.exists():
        pytest.fail(f"pxe_boot.py could not set up the boot:\n{log}", pytrace=False)
    got = json.loads(json_out.read_text(encoding="utf-8"))
    assert proc.returncode == 0, log
    # pxelinux's `ipappend 2` (the dom0's boot NIC, ksdevice=bootif) adds BOOTIF= at the end.
    appended = [f"BOOTIF=01-{SERIAL_MAC.replace(':', '-')}"] if re.search(r"(?mi)^\s*ipappend\s+2\s*$", entry) else []
    assert got["cmdline"].split()[1:] == append + appended, log
    # pxelinux's "Loading <kernel>... ok" goes to the serial console it set up: COM2.
    assert f"Loading {kernel}" in got["com2_head"], f"nothing of pxelinux on COM2:\n{got['com2_head']!r}\n{log}"
    # and the kernel's own messages too (console=ttyS1 is its last console)
    assert "Run /init as init process" in got["com2_tail"], f"no kernel messages on COM2:\n{got['com2_tail']!r}"

