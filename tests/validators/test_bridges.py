"""Every guest's bridge exists on its dom0, made by the dom0's own network setup.

For each dom0 of each golden tree, the bridges it has after its install are worked out the way
its own tools make them, not from xenfab's model:

- an xm dom0 (EL5, Xen 3.1): xend runs its `network-script` at start. Xen 3.1's
  `XendRoot.get_network_script()` splits the value on spaces and puts the scripts directory
  before the first word; `xen.xend.Vifctl.network()` inserts `start` after it and runs that
  argv. `network-bridge` then reads each `name=value` argument (`evalVariables` of
  xen-script-common.sh) and makes `bridge` (default `xenbr${vifnum}`, vifnum 0 here) on
  `netdev` (default `eth${vifnum}`). That netdev must be the NIC the kickstart gives the
  dom0's address to.
- an xl dom0 (EL9): nothing in Xen makes a bridge (xl has no network script); the dom0's
  kickstart does, read with pykickstart's RHEL9 handler: a `network` command with
  `--bridgeslaves` creates the bridge `--device` with those devices as its ports, and it must
  carry the dom0's address. Its port is named `eth0`, which the kernel calls the one NIC only
  with `net.ifnames=0`: every install entry of the dom0 must pass it.
- a Debian dom0: ifupdown makes every bridge of its `/etc/network/interfaces` (read with
  ifupdown's own `ifquery`): `bridge_ports eth0` the bridge with dom0's address (`eth0` needs
  `net.ifnames=0` on dom0's kernel line, its grub.cfg), `bridge_ports none` a host-only one;
  with several NICs, a port is a bond or VLAN device the same file brings up.
- an EL5 dom0 with several NICs: initscripts makes the bridges from the ifcfg files its
  kickstart's `%post` writes (`TYPE=Bridge`, each with a port's `BRIDGE=`), and xend's
  `network-script` must be `/bin/true`.
- an EL9 dom0 with several NICs: NetworkManager makes them from the keyfiles of the `%post`
  (`type=bridge`, each with a port's `master=`), and the kickstart bridges nothing itself.

Then every `bridge=` of every guest config (xm and xl: the vif list; a vif without one goes
on the first bridge there is, Xen 3.1's vif-bridge), every libvirt
`<source bridge=…>` and xl.conf's `vif.default.bridge` must name one of those bridges: else
`vif-bridge` fails and the guest does not start (the defect this checks).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"

DOM0S = sorted(
    p
    for p in CASES.glob("*/expected/inventory/hosts/*.json")
    if json.loads(p.read_text()).get("role") == "dom0"
)
VIF_BRIDGE = re.compile(r"\bbridge=([^,'\"\s\]]+)")
LIBVIRT_BRIDGE = re.compile(r"<source bridge=[\"']([^\"']+)[\"']")
XL_DEFAULT_BRIDGE = re.compile(r'^vif\.default\.bridge="([^"]+)"', re.M)


def vif_bridges(cfg: str) -> list:
    """The bridge of each vif of an xm or xl config; None for a vif that names none, which
    Xen 3.1's vif-bridge puts on the first bridge `brctl show` lists (and xl on `xenbr0`)."""
    line = re.search(r"^vif\s*=\s*\[(.*)\]", cfg, re.M)
    if not line:
        return []
    out = []
    for vif in re.findall(r"'([^']*)'", line.group(1)):
        m = VIF_BRIDGE.search(vif)
        out.append(m.group(1) if m else None)
    return out


def _sxp_parse(text: str) -> list:
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_xend_sxp", HERE / "check_xend_sxp.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.parse(text)


def xend_bridges(sxp: str) -> tuple[set[str], str]:
    """The bridge `network-bridge` makes from this xend-config.sxp, and the NIC it takes."""
    forms = [f for f in _sxp_parse(sxp) if isinstance(f, list) and f and f[0] == "network-script"]
    assert len(forms) == 1, f"expected one (network-script …), got {forms}"
    argv = forms[0][1].split(" ")  # XendRoot.get_network_script(): s.split(" ")
    assert argv[0] == "network-bridge", f"network-script is {argv[0]!r}, not network-bridge"
    env = dict(a.split("=", 1) for a in argv[1:] if "=" in a)  # evalVariables
    assert all("=" in a for a in argv[1:]), f"network-bridge ignores {argv[1:]}"
    vifnum = env.get("vifnum", "0")
    return {env.get("bridge", f"xenbr{vifnum}")}, env.get("netdev", f"eth{vifnum}")


def ks_networks(text: str):
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    version = re.search(r"#version=(RHEL[0-9]+)", text)
    assert version, "kickstart without #version="
    handler = makeVersion(version.group(1))
    KickstartParser(handler, followIncludes=False).readKickstartFromString(text)
    return handler.network.network


@pytest.mark.parametrize("inv", DOM0S, ids=lambda p: f"{p.parts[-5]}/{p.stem}")
def test_guest_bridges_exist_on_their_dom0(inv: Path) -> None:
    pytest.importorskip("pykickstart")
    tree = inv.parents[2]
    host = json.loads(inv.read_text())
    fqdn, dom0 = host["fqdn"], host["dom0"]
    base = tree / "dom0s" / fqdn
    domain = fqdn.split(".", 1)[1]
    uses: list[tuple[str, str]] = []  # (file, bridge)
    interfaces = base / "network" / "interfaces"
    nets = [] if interfaces.exists() else ks_networks((tree / "kickstart" / f"{fqdn}.ks").read_text())
    ifcfgs = sorted(base.glob("network/ifcfg-*"))
    keyfiles = sorted(base.glob("network/*.nmconnection"))
    if interfaces.exists():
        made = set()
        stanzas = ifquery(interfaces)
        addressed = []
        for name, options in stanzas.items():
            if "bridge_ports" not in options:
                continue
            made.add(name)
            if options["bridge_ports"] != "none":
                port = options["bridge_ports"]
                # A NIC (by the kernel's name: net.ifnames=0), or a bond or VLAN device the
                # file brings up (several NICs).
                assert port.startswith("eth") or port in stanzas, f"{name}: port {port} is brought up by nothing"
                if options.get("address", "").split("/")[0] == dom0["ip"]:
                    addressed.append(name)
                grub = (base / "grub" / "grub.cfg").read_text()
                assert re.search(r"^\s*module2 \S*vmlinuz .*\bnet\.ifnames=0\b", grub, re.M), \
                    "eth0 is not the NIC without net.ifnames=0 on dom0's kernel line"
        assert made, f"{fqdn}: its interfaces make no bridge"
        assert len(addressed) == 1, f"{fqdn}: one bridge with a port must carry dom0's address, not {addressed}"
        conf = (base / "xen" / "xl.conf").read_text()
        uses += [("xl.conf", b) for b in XL_DEFAULT_BRIDGE.findall(conf)]
    elif ifcfgs:
        # EL5 with several NICs: initscripts makes the bridges (render/ifcfg), xend nothing.
        sxp = (base / "xen" / "xend-config.sxp").read_text()
        forms = [f for f in _sxp_parse(sxp) if isinstance(f, list) and f and f[0] == "network-script"]
        assert [f[1] for f in forms] == ["/bin/true"], f"network-script is {forms}, not /bin/true"
        cfg = {p.name.removeprefix("ifcfg-"): dict(re.findall(r"^(\w+)=\"?([^\"\n]*)\"?$", p.read_text(), re.M))
               for p in ifcfgs}
        made = {name for name, c in cfg.items() if c.get("TYPE") == "Bridge"}
        ports = {c["BRIDGE"] for c in cfg.values() if "BRIDGE" in c}
        assert made and ports == made, f"{fqdn}: bridges {sorted(made)}, with a port: {sorted(ports)}"
        assert [n for n in made if cfg[n].get("IPADDR") == dom0["ip"]], f"{fqdn}: no bridge carries dom0's address"
        post = (tree / "kickstart" / f"{fqdn}.ks").read_text()
        for p in ifcfgs:
            assert f"cat > /etc/sysconfig/network-scripts/{p.name} <<'XENFAB_EOF'\n{p.read_text()}XENFAB_EOF\n" in post, \
                f"{fqdn}: the kickstart's %post does not write {p.name} as rendered"
    elif keyfiles:
        # EL9 with several NICs: NetworkManager makes the bridges from the %post's keyfiles.
        assert not [n for n in nets if getattr(n, "bridgeslaves", "")], "the kickstart bridges a NIC itself"
        kinds = {}
        for p in keyfiles:
            text = p.read_text()
            name = re.search(r"^interface-name=(\S+)$", text, re.M).group(1)
            kinds[name] = (re.search(r"^type=(\S+)$", text, re.M).group(1), text)
        made = {n for n, (kind, _) in kinds.items() if kind == "bridge"}
        assert made, f"{fqdn}: no bridge connection"
        assert [n for n in made if f"address1={dom0['ip']}/" in kinds[n][1]], f"{fqdn}: no bridge carries dom0's address"
        ports = {m.group(1) for _, text in kinds.values() for m in [re.search(r"^master=(\S+)\nslave-type=bridge$", text, re.M)] if m}
        assert ports == made, f"{fqdn}: bridges {sorted(made)}, with a port: {sorted(ports)}"
        conf = (base / "xen" / "xl.conf").read_text()
        uses += [("xl.conf", b) for b in XL_DEFAULT_BRIDGE.findall(conf)]
    elif dom0["toolstack"] == "xm":
        made, netdev = xend_bridges((base / "xen" / "xend-config.sxp").read_text())
        addressed = [n for n in nets if n.ip == dom0["ip"]]
        assert [n.device for n in addressed] == [netdev], (
            f"network-bridge takes {netdev}, but the kickstart gives {dom0['ip']} to "
            f"{[n.device for n in addressed]}: the bridge would not carry the host's address"
        )
    else:
        bridges = [n for n in nets if getattr(n, "bridgeslaves", "")]
        made = {n.device for n in bridges}
        assert made, f"{fqdn}: an xl dom0's kickstart makes no bridge (no network --bridgeslaves)"
        assert [n.ip for n in bridges] == [dom0["ip"]], "the bridge must carry dom0's address"
        slaves = {s for n in bridges for s in n.bridgeslaves.split(",")}
        if slaves == {"eth0"}:
            entries = list((tree / "tftpboot").rglob(f"{fqdn}.*"))
            assert entries, f"{fqdn}: no install entry"
            for e in entries:
                text = e.read_text()
                if "inst.ks=" in text:
                    assert "net.ifnames=0" in text, f"{e.name}: eth0 is not the NIC without net.ifnames=0"
        conf = (base / "xen" / "xl.conf").read_text()
        uses += [("xl.conf", b) for b in XL_DEFAULT_BRIDGE.findall(conf)]
    # The reinstall kickstart keeps the same network setup.
    reinstall = tree / "kickstart" / f"{fqdn}.reinstall.ks"
    if reinstall.exists():
        again = ks_networks(reinstall.read_text())
        seen = lambda ns: [(n.device, getattr(n, "bridgeslaves", ""), n.ip) for n in ns]  # noqa: E731
        assert seen(again) == seen(nets)
    for guest in dom0["guests"]:
        for cfg in (base / "xen" / guest, base / "xen" / f"{guest}.cfg"):
            if cfg.exists():
                uses += [(cfg.name, b) for b in vif_bridges(cfg.read_text())]
        xml = base / "libvirt" / f"{guest}.xml"
        if xml.exists():
            uses += [(xml.name, b) for b in LIBVIRT_BRIDGE.findall(xml.read_text())]
        assert any(f in (guest, f"{guest}.cfg") for f, _ in uses), f"no config of {guest}.{domain}"
    missing = [(f, b) for f, b in uses if b not in made and not (b is None and made)]
    assert not missing, f"{fqdn} makes only {sorted(made)}; these name another bridge: {missing}"


def ifquery(path: Path) -> dict[str, dict[str, str]]:
    """Every `auto` interface of an interfaces file and its options, as ifupdown reads them."""
    import shutil
    import subprocess
    import tempfile

    path_env = "/usr/sbin:/sbin:/usr/bin:/bin"
    if not shutil.which("ifquery", path=path_env):
        pytest.fail("ifquery (ifupdown) is missing: run scripts/install-validators")
    with tempfile.TemporaryDirectory() as state:
        base = ["ifquery", "-i", str(path), f"--state-dir={state}"]
        run = lambda *a: subprocess.run([*base, *a], capture_output=True, text=True, check=True,  # noqa: E731
                                        env={"PATH": path_env}).stdout
        return {name: dict(line.split(": ", 1) for line in run(name).splitlines() if ": " in line)
                for name in run("--list", "--allow=auto").split() if name != "lo"}


def test_the_check_sees_a_missing_bridge() -> None:
    """The defect itself: the stock line makes xenbr0 only, a guest on xenbr1 has none."""
    made, netdev = xend_bridges("(network-script network-bridge)\n")
    assert made == {"xenbr0"} and netdev == "eth0"
    assert "xenbr1" not in made
    made, _ = xend_bridges("(network-script 'network-bridge bridge=xenbr1 netdev=eth0')\n")
    assert made == {"xenbr1"}


def test_pykickstart_rhel9_reads_the_bridge_line() -> None:
    pytest.importorskip("pykickstart")
    (net,) = ks_networks(
        "#version=RHEL9\n"
        "network --device=xenbr0 --bridgeslaves=eth0 --bootproto=static --ip=192.0.2.10 "
        "--netmask=255.255.255.0 --gateway=192.0.2.254 --hostname=xen.example.org --activate\n"
    )
    assert (net.device, net.bridgeslaves, net.ip, net.bootProto) == (
        "xenbr0",
        "eth0",
        "192.0.2.10",
        "static",
    )
