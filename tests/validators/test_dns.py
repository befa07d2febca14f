"""The DNS records xenfab renders, answered by real servers and sent by a real nsupdate.

test_artefacts.py reads every zone and named.conf.xenfab with BIND's checkers; here the
golden tree of tests/cases/debian-site is served, and `dig` asks for the A and PTR records of
its hosts (a guest, a dom0, a guest of the host-only network) with the names and addresses of
its fabric file:

- a real ``named`` (BIND 9.18) loads the rendered zones through ``named.conf.xenfab``;
- a real ``dnsmasq`` (2.90) runs the rendered ``dhcp/dnsmasq.conf`` and answers from its
  ``host-record`` lines (``dnsmasq --test`` of every rendered config is in test_artefacts.py);
- a real ``nsupdate`` sends the rendered ``dns/nsupdate.txt`` to a named whose zones hold no
  host records (and one stale address) and take updates from 127.0.0.1; dig then finds every
  record of the zones, and not the stale one.

Each server runs in a network namespace of its own (``unshare -n``, root), on its loopback:
no port is shared with anything else on the machine, and dnsmasq's DHCP socket binds there
too. Missing programs fail (or skip with XENFAB_SKIP_VALIDATORS=1); not root skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASE = HERE.parent / "cases" / "debian-site"
TREE = CASE / "expected"
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PATH = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
PORT = 5353


def _need(*commands: str) -> None:
    for command in commands:
        if shutil.which(command, path=PATH) is None:
            message = f"{command} is missing (bind9, bind9-utils, dnsutils, dnsmasq-base): run scripts/install-validators"
            if os.environ.get("XENFAB_SKIP_VALIDATORS") == "1":
                pytest.skip(message)
            pytest.fail(message, pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("needs root: the servers run in a network namespace of their own (unshare -n)")


def _fabric() -> dict:
    return tomllib.loads((CASE / "fabric.toml").read_text(encoding="utf-8"))


def _hosts() -> list[tuple[str, str]]:
    """(fqdn, ip) of a dom0, its first guest, and a guest of a host-only network."""
    fabric = _fabric()
    domain = fabric["site"]["domain"]
    host_only = {n for n, v in fabric["networks"].items() if v.get("host_only")}
    dom0 = fabric["dom0s"][0]
    picked = [dom0, dom0["guests"][0]]
    picked += [g for d in fabric["dom0s"] for g in d.get("guests", []) if g.get("network") in host_only][:1]
    return [(f"{h['name']}.{domain}", h["ip"]) for h in picked]


def _reverse(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def _run_in_netns(script: str, tmp_path: Path, timeout: int = 60) -> str:
    """Run a shell script in a new network namespace with its loopback up; its output."""
    path = tmp_path / "run.sh"
    path.write_text("set -u\nip link set lo up\n" + textwrap.dedent(script), encoding="utf-8")
    proc = subprocess.run(
        ["unshare", "-n", "sh", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PATH": PATH},
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}"
    return proc.stdout


DIG = f"dig @127.0.0.1 -p {PORT} +norecurse +tries=1 +time=2"

# The server started last stops when the script ends, however it ends.
STOP = """srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
"""

# Start a server, wait until it answers `$ready` (a name and a type; 20 s at most), then ask.
# (dig +short prints `;; connection timed out` to stdout: an answer begins otherwise.)
WAIT = f"""
i=0
until {DIG} +short $ready | grep -q '^[^;]'; do
    i=$((i+1)); [ $i -gt 40 ] && {{ echo "server did not answer"; cat "$log"; exit 1; }}
    sleep 0.5
done
"""


def _queries(hosts: list[tuple[str, str]]) -> str:
    lines = []
    for fqdn, ip in hosts:
        lines.append(f'echo "A {fqdn} $({DIG} +short {fqdn} A)"')
        lines.append(f'echo "PTR {ip} $({DIG} +short -x {ip})"')
    return "\n".join(lines) + "\n"


def _answers(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        m = re.fullmatch(r"(A|PTR) (\S+) ?(.*)", line)
        if m:
            found[f"{m[1]} {m[2]}"] = m[3].strip()
    return found


def _expect(output: str, hosts: list[tuple[str, str]]) -> None:
    got = _answers(output)
    for fqdn, ip in hosts:
        assert got.get(f"A {fqdn}") == ip, f"A {fqdn}: {got.get(f'A {fqdn}')!r}, not {ip}\n{output}"
        assert got.get(f"PTR {ip}") == f"{fqdn}.", f"PTR {ip}: {got.get(f'PTR {ip}')!r}, not {fqdn}.\n{output}"


def _named_conf(tmp_path: Path, zones: str) -> Path:
    conf = tmp_path / "named.conf"
    conf.write_text(
        textwrap.dedent(
            f"""\
            options {{
                directory "{tmp_path}";
                pid-file "{tmp_path}/named.pid";
                listen-on port {PORT} {{ 127.0.0.1; }};
                listen-on-v6 {{ none; }};
                recursion no;
                dnssec-validation no;
            }};
            {zones}
            """
        ),
        encoding="utf-8",
    )
    return conf


def _named(conf: Path, ready: str, then: str) -> str:
    return f"""
log={conf.parent}/named.log
named -g -c {conf} >"$log" 2>&1 &
{STOP}
ready="{ready} SOA"
{WAIT}
{then}
"""


def test_named_answers_from_the_rendered_zones(tmp_path: Path) -> None:
    _need("named", "dig", "unshare", "ip")
    for f in (TREE / "dns").iterdir():
        shutil.copy(f, tmp_path / f.name)
    conf = _named_conf(tmp_path, f'include "{tmp_path}/named.conf.xenfab";')
    hosts = _hosts()
    domain = _fabric()["site"]["domain"]
    out = _run_in_netns(_named(conf, domain, _queries(hosts)), tmp_path)
    _expect(out, hosts)


def test_named_rejects_a_broken_zone(tmp_path: Path) -> None:
    """The same server and the same queries fail when a zone is broken: the test can fail."""
    _need("named", "dig", "unshare", "ip")
    for f in (TREE / "dns").iterdir():
        shutil.copy(f, tmp_path / f.name)
    domain = _fabric()["site"]["domain"]
    zone = tmp_path / f"{domain}.zone"
    # The name server's address gone: named refuses to load the zone.
    zone.write_text(re.sub(r"(?m)^ns\tIN\tA\t.*\n", "", zone.read_text()), encoding="utf-8")
    conf = _named_conf(tmp_path, f'include "{tmp_path}/named.conf.xenfab";')
    script = _named(conf, "96.168.192.in-addr.arpa", _queries(_hosts()))
    out = _run_in_netns(script, tmp_path)
    got = _answers(out)
    fqdn, _ = _hosts()[0]
    assert got.get(f"A {fqdn}") == "", out
    assert "has no address records" in (tmp_path / "named.log").read_text(), out


def _dnsmasq_answers(source: Path, hosts: list[tuple[str, str]], tmp_path: Path) -> None:
    """A real dnsmasq serving SOURCE (a rendered dnsmasq.conf) answers A and PTR for HOSTS."""
    _need("dnsmasq", "dig", "unshare", "ip")
    conf = tmp_path / "dnsmasq.conf"
    shutil.copy(source, conf)
    script = f"""
log={tmp_path}/dnsmasq.log
dnsmasq --no-daemon -C {conf} --port={PORT} --listen-address=127.0.0.1 --bind-interfaces \\
    --no-resolv --no-hosts --pid-file={tmp_path}/dnsmasq.pid --user=root >"$log" 2>&1 &
{STOP}
ready="{hosts[0][0]} A"
{WAIT}
{_queries(hosts)}
"""
    out = _run_in_netns(script, tmp_path)
    _expect(out, hosts)


def test_dnsmasq_answers_from_its_host_records(tmp_path: Path) -> None:
    _dnsmasq_answers(TREE / "dhcp" / "dnsmasq.conf", _hosts(), tmp_path)


def _bare(zone: str, keep: set[str]) -> str:
    """A zone without its host records (the names in `keep`, the name servers', stay)."""
    lines = []
    for line in zone.splitlines(keepends=True):
        m = re.match(r"(\S+)\tIN\t(A|PTR)\t", line)
        if m and m[1] not in keep:
            continue
        lines.append(line)
    return "".join(lines)


def test_nsupdate_script_fills_zones_that_take_updates(tmp_path: Path) -> None:
    _need("named", "dig", "nsupdate", "unshare", "ip")
    domain = _fabric()["site"]["domain"]
    names = re.findall(r'zone "([^"]+)"', (TREE / "dns" / "named.conf.xenfab").read_text())
    hosts = _hosts()
    stale_fqdn, stale_ip = hosts[1]
    stale_label = stale_fqdn.removesuffix(f".{domain}")
    statements = []
    for name in names:
        text = (TREE / "dns" / f"{name}.zone").read_text()
        bare = _bare(text, {"ns"})
        if name == domain:
            # A stale address of a guest: `update delete` must take it away.
            bare += f"{stale_label}\tIN\tA\t10.255.255.1\n"
        (tmp_path / f"{name}.zone").write_text(bare, encoding="utf-8")
        statements.append(
            f'zone "{name}" {{ type master; file "{name}.zone"; allow-update {{ 127.0.0.1; }}; }};'
        )
    conf = _named_conf(tmp_path, "\n".join(statements))
    script = tmp_path / "nsupdate.txt"
    script.write_text(
        f"server 127.0.0.1 {PORT}\n" + (TREE / "dns" / "nsupdate.txt").read_text(), encoding="utf-8"
    )
    before = f'echo "A-before {stale_fqdn} $({DIG} +short {stale_fqdn} A)"\n'
    then = before + f"nsupdate -v {script} || {{ echo nsupdate failed; cat $log; exit 1; }}\n" + _queries(hosts)
    # Every record of the script, not only the chosen hosts'.
    adds = re.findall(r"(?m)^update add (\S+) \d+ (A|PTR) (\S+)$", script.read_text())
    for owner, rtype, data in adds:
        then += f'echo "ALL {owner} {rtype} {data} $({DIG} +short {owner} {rtype} | tr "\\n" " ")"\n'
    out = _run_in_netns(_named(conf, domain, then), tmp_path, timeout=120)
    assert f"A-before {stale_fqdn} 10.255.255.1" in out, out
    _expect(out, hosts)
    every = re.findall(r"(?m)^ALL (\S+) (\S+) (\S+) (.*)$", out)
    assert len(every) == len(adds) > 0, out
    for owner, rtype, data, answer in every:
        assert answer.split() == [data], f"{owner} {rtype}: {answer!r}, not {data}\n{out}"


# --- serials: xenfab render into the same directory, as a site runs it -------------------------

ROOT = HERE.parents[1]
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))


def _render(fabric: Path, out: Path) -> subprocess.CompletedProcess[str]:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    proc = subprocess.run([str(XENFAB), "render", str(fabric), "-o", str(out)], capture_output=True,
                          encoding="utf-8", timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def _serial(zone: Path) -> int:
    m = re.search(r"SOA\s+\S+\s+\S+\s+\(\s*(\d+)", zone.read_text(encoding="utf-8"))
    assert m, zone.read_text(encoding="utf-8")
    return int(m[1])


def test_serials_move_only_with_the_records(tmp_path: Path) -> None:
    """Rendering the fabric again writes no zone; a new address raises the serials of the
    zones that hold it by one (and named-checkzone takes them); a serial set by hand stays."""
    _need("named-checkzone")
    text = (CASE / "fabric.toml").read_text(encoding="utf-8")
    domain = _fabric()["site"]["domain"]
    fabric = tmp_path / "fabric.toml"
    fabric.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    _render(fabric, out)
    zones = sorted((out / "dns").glob("*.zone"))
    assert zones and all(_serial(z) == 1 for z in zones)
    again = _render(fabric, out)
    assert "dns/" not in again.stdout, again.stdout  # nothing under dns/ created or changed

    # A hand-set serial is kept while the records stay.
    forward = out / "dns" / f"{domain}.zone"
    forward.write_text(re.sub(r"(?m)^(\s+)1(\t; serial)$", r"\g<1>2026112801\2", forward.read_text()), encoding="utf-8")
    _render(fabric, out)
    assert _serial(forward) == 2026112801

    # mimir moves to another address of its network: its A and PTR change.
    fabric.write_text(text.replace('"192.168.96.51"', '"192.168.96.61"', 1), encoding="utf-8")
    moved = _render(fabric, out)
    assert _serial(forward) == 2026112802, forward.read_text()
    reverse = out / "dns" / "96.168.192.in-addr.arpa.zone"
    assert _serial(reverse) == 2
    assert _serial(out / "dns" / "0.96.10.in-addr.arpa.zone") == 1  # the host-only network's
    assert f"dns/{domain}.zone" in moved.stdout
    for zone in (forward, reverse):
        subprocess.run(["sh", str(HERE / "check_zone.sh"), str(zone)], check=True, capture_output=True)


# tests/cases/multi-nic: guest ullr's two NICs, one on the public network, one on the
# VLAN-tagged storage network, each with its own name in the forward zone and its own PTR.
MULTI_NIC = HERE.parent / "cases" / "multi-nic" / "expected"
ULLR_ADDRESSES = [("ullr.multi.test", "192.0.2.45"), ("ullr-storage.multi.test", "10.20.0.45")]


def test_named_answers_for_each_address_of_a_guest_with_two_nics(tmp_path: Path) -> None:
    _need("named", "dig", "unshare", "ip")
    for f in (MULTI_NIC / "dns").iterdir():
        shutil.copy(f, tmp_path / f.name)
    conf = _named_conf(tmp_path, f'include "{tmp_path}/named.conf.xenfab";')
    out = _run_in_netns(_named(conf, "multi.test", _queries(ULLR_ADDRESSES)), tmp_path)
    _expect(out, ULLR_ADDRESSES)


def test_dnsmasq_answers_for_each_address_of_a_guest_with_two_nics(tmp_path: Path) -> None:
    _dnsmasq_answers(MULTI_NIC / "dhcp" / "dnsmasq.conf", ULLR_ADDRESSES, tmp_path)
