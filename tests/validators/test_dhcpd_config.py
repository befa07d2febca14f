"""``xenfab dhcpd-config`` never writes a dhcpd.conf that ISC dhcpd refuses.

Every fixture of ``tests/fixtures/dhcpd/`` (the user's dhcpd.conf, as found) is edited with a
fabric on its subnet, with and without ``--replace``, in place (``-i``):

* the files as they are (AII's example, compact, Debian's, one with managed regions): the
  result passes ``dhcpd -t``, holds the fabric's hosts, keeps every other byte, and a second run
  changes nothing;
* ``conflict-*.conf``: hand-kept declarations that share a name, MAC or address with the
  fabric's hosts, at the top level, in a ``group`` in a ``group``, across the subnets of a
  ``shared-network``, in another case, in the managed region of a subnet the fabric no longer
  has. Without ``--replace`` each error is reported with its line and the fabric host's path,
  exit 1, and the file keeps its bytes and its mtime; with it, the conflicting declarations (and
  only they) are cut out, each is reported, ``dhcpd -t`` accepts the result, and a run without
  ``--replace`` afterwards changes nothing. Warnings (what dhcpd takes, and gives no fabric host a
  wrong lease) never change the file;
* each fixture with CRLF line ends is edited as its LF twin, its line ends kept;
* hostile files (braces, quotes, markers out of place) are refused with their line, untouched;
* a mutation run: a few hundred mutants of the fixtures (braces, quotes, ``#``, newlines, lines
  doubled or dropped): whenever dhcpd accepts the mutant and xenfab edits it, dhcpd accepts the
  result.

Each input is first checked with ``dhcpd -t`` itself (the premise), after two changes the test
makes to every copy: AII's ``ddns-update-style ad-hoc;``, which dhcpd 4 refuses ("ad_hoc no
longer supported"; ``test_netboot.py`` checks that xenfab keeps it and warns), becomes ``none``;
Debian's ``include`` files under ``/etc/dhcp/dhcpd.d/`` become empty files in the temp dir.

The ``xenfab`` binary is ``target/debug/xenfab`` unless ``XENFAB`` names another. A missing
``dhcpd`` fails the tests ("run scripts/install-validators"); ``XENFAB_SKIP_VALIDATORS=1``
skips them instead.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "dhcpd"
EXAMPLE = ROOT / "tests" / "cases" / "example" / "fabric.toml"
AII_SITE = HERE / "samples" / "aii-site.toml"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
BEGIN = "# BEGIN xenfab managed hosts"
END = "# END xenfab managed hosts"


@dataclass(frozen=True)
class Case:
    """A fixture, the fabric edited into it, and what xenfab must report (by line)."""

    fabric: str = "example"
    errors: tuple[int, ...] = ()
    warnings: tuple[int, ...] = ()
    # The line ranges --replace cuts out (whole lines, in these fixtures).
    removed: tuple[tuple[int, int], ...] = ()
    # Each error message names these fabric paths.
    paths: tuple[str, ...] = ()


CASES = {
    "aii-example.conf": Case(fabric="aii"),
    "compact.conf": Case(fabric="compact"),
    "debian.conf": Case(),
    "managed.conf": Case(),
    "conflict-name.conf": Case(errors=(6,), removed=((6, 11),), paths=("dom0s[xen01].guests[ullr]",)),
    "conflict-mac.conf": Case(errors=(13,), removed=((13, 13),), paths=("dom0s[xen01].guests[vali]",)),
    "conflict-address.conf": Case(errors=(12, 16), removed=((12, 15), (16, 16)),
                                  paths=("dom0s[xen02].guests[bragi]", "dom0s[xen03]")),
    "conflict-case.conf": Case(warnings=(9, 10)),
    "conflict-shared-network.conf": Case(errors=(13, 24), warnings=(22, 23), removed=((13, 16), (24, 27)),
                                         paths=("dom0s[xen01].guests[ullr]", "dom0s[xen03].guests[idunn]")),
    "conflict-region.conf": Case(errors=(13,), removed=((13, 16),), paths=("dom0s[xen03]",)),
}


def test_every_fixture_has_a_case() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.conf")) == sorted(CASES)


def xenfab(*args: str) -> subprocess.CompletedProcess[str]:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    return subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)


def dhcpd_t(conf: Path) -> subprocess.CompletedProcess[str]:
    """`dhcpd -t` on CONF, through check_dhcpd.sh (exit 0 valid, 1 invalid)."""
    if not shutil.which("dhcpd", path=PATH):
        message = "dhcpd is missing: run scripts/install-validators"
        if os.environ.get("XENFAB_SKIP_VALIDATORS") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    return subprocess.run(["sh", str(HERE / "check_dhcpd.sh"), str(conf)], capture_output=True, text=True,
                          env=dict(os.environ, PATH=PATH), timeout=60, check=False)


@pytest.fixture(scope="module")
def fabrics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fabric of each kind of fixture: the example's network, AII's, compact's."""
    compact = tmp_path_factory.mktemp("fabric") / "compact.toml"
    compact.write_text(EXAMPLE.read_text(encoding="utf-8").replace("192.168.96.", "10.20.0."), encoding="utf-8")
    found = {"example": EXAMPLE, "aii": AII_SITE, "compact": compact}
    for path in found.values():
        r = xenfab("validate", str(path))
        assert r.returncode == 0, r.stderr
    return found


def prepare(text: str, tmp_path: Path) -> Path:
    """TEXT as tmp_path/dhcpd.conf, with the two changes of the module docs; dhcpd must take it."""
    text = text.replace("ddns-update-style ad-hoc;", "ddns-update-style none;")
    includes = tmp_path / "dhcpd.d"
    includes.mkdir(exist_ok=True)
    for name in re.findall(r'include "/etc/dhcp/dhcpd\.d/([^"]+)"', text):
        (includes / name).write_text("", encoding="utf-8")
    text = text.replace('include "/etc/dhcp/dhcpd.d/', f'include "{includes}/')
    conf = tmp_path / "dhcpd.conf"
    conf.write_text(text, encoding="utf-8", newline="")
    return conf


def reports(stderr: str, conf: Path) -> dict[str, list[int]]:
    """The lines of CONF that xenfab reported, by kind (error, warning, replaced)."""
    found: dict[str, list[int]] = {"error": [], "warning": [], "replaced": []}
    for m in re.finditer(rf"^{re.escape(str(conf))}:(\d+): (error|warning|replaced): ", stderr, re.M):
        found[m.group(2)].append(int(m.group(1)))
    return found


def without_regions(text: str) -> str:
    """TEXT without its managed regions (from a BEGIN line to its END line)."""
    return re.sub(r"(?ms)^[ \t]*" + re.escape(BEGIN) + r".*?^[ \t]*" + re.escape(END) + r"[^\n]*\n", "", text)


def hosts(text: str) -> set[tuple[str, str, str]]:
    """(name, MAC, fixed address) of every host declaration of TEXT, comments left out."""
    found = re.findall(r"\bhost\s+(\S+)\s*\{([^}]*)\}", re.sub(r"#[^\n]*", "", text))

    def value(pattern: str, body: str) -> str:
        m = re.search(pattern, body)
        return m.group(1).lower() if m else ""

    return {(name, value(r"hardware ethernet\s+([0-9a-fA-F:]+);", body), value(r"fixed-address\s+([^;]+);", body))
            for name, body in found}


def rendered_hosts(fabric: Path, tmp_path: Path) -> set[tuple[str, str, str]]:
    out = tmp_path / "rendered"
    r = xenfab("render", str(fabric), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return hosts((out / "dhcp" / "dhcpd-hosts.conf").read_text(encoding="utf-8"))


@pytest.mark.parametrize("replace", [False, True], ids=["refuse", "replace"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_dhcpd_takes_the_result(name: str, replace: bool, fabrics: dict[str, Path], tmp_path: Path) -> None:
    case = CASES[name]
    fabric = fabrics[case.fabric]
    conf = prepare((FIXTURES / name).read_text(encoding="utf-8"), tmp_path)
    premise = dhcpd_t(conf)
    assert premise.returncode == 0, f"dhcpd refuses the input itself:\n{premise.stdout}"
    source = conf.read_bytes()
    mtime = conf.stat().st_mtime_ns

    r = xenfab("dhcpd-config", "--fabric", str(fabric), "-i", *(["--replace"] if replace else []), str(conf))
    got = reports(r.stderr, conf)
    assert got["warning"] == list(case.warnings), r.stderr

    if case.errors and not replace:
        # Refused: every conflict at once, with its line and the fabric host; nothing written.
        assert r.returncode == 1, r.stderr
        assert got["error"] == list(case.errors), r.stderr
        assert got["replaced"] == []
        assert "nothing written" in r.stderr
        errors = [line for line in r.stderr.splitlines() if ": error: " in line]
        assert all(line.endswith("remove it, or let xenfab replace it (--replace)") for line in errors), errors
        for path in case.paths:
            assert any(f" of {path} (host " in line for line in errors), (path, errors)
        assert conf.read_bytes() == source
        assert conf.stat().st_mtime_ns == mtime
        # Printing instead of writing refuses the same way, and prints nothing.
        p = xenfab("dhcpd-config", "--fabric", str(fabric), str(conf))
        assert p.returncode == 1 and p.stdout == "", p.stderr
        return

    assert r.returncode == 0, r.stderr
    assert got["error"] == []
    assert got["replaced"] == (list(case.errors) if replace else []), r.stderr
    result = conf.read_text(encoding="utf-8")
    after = dhcpd_t(conf)
    assert after.returncode == 0, f"dhcpd -t refuses the result:\n{after.stdout}\n{result}"

    # The fabric's hosts are in; of the rest, exactly the replaced declarations are gone.
    lines = source.decode("utf-8").splitlines(keepends=True)
    cut = {n for first, last in (case.removed if replace else ()) for n in range(first, last + 1)}
    kept = "".join(line for n, line in enumerate(lines, 1) if n not in cut)
    want = rendered_hosts(fabric, tmp_path)
    if name == "managed.conf":  # its region of the fabric's subnet held other hosts before
        assert want <= hosts(result) and "loki" not in result
    else:
        assert hosts(result) == hosts(kept) | want
        if name == "compact.conf":  # its one-line subnet is broken before its `}`
            assert without_regions(result).replace("\n}", " }") == without_regions(kept)
        else:
            assert without_regions(result) == without_regions(kept)

    # A second run, without --replace, changes nothing.
    again = xenfab("dhcpd-config", "--fabric", str(fabric), "-i", str(conf))
    assert again.returncode == 0, again.stderr
    assert len(reports(again.stderr, conf)["warning"]) == len(case.warnings)  # lines moved
    assert conf.read_text(encoding="utf-8") == result


@pytest.mark.parametrize("name", sorted(CASES))
def test_crlf_files_stay_crlf(name: str, fabrics: dict[str, Path], tmp_path: Path) -> None:
    """A CRLF file is edited as its LF twin (--replace), line endings kept; dhcpd takes it."""
    fabric = fabrics[CASES[name].fabric]
    text = (FIXTURES / name).read_text(encoding="utf-8")
    out = {}
    for eol in ("\n", "\r\n"):
        work = tmp_path / ("crlf" if eol == "\r\n" else "lf")
        work.mkdir()
        conf = prepare(text.replace("\n", eol), work)
        r = xenfab("dhcpd-config", "--fabric", str(fabric), "--replace", "-i", str(conf))
        assert r.returncode == 0, r.stderr
        out[eol] = conf.read_bytes().replace(str(work).encode(), b"WORK")
    assert out["\r\n"] == out["\n"].replace(b"\n", b"\r\n")
    assert dhcpd_t(tmp_path / "crlf" / "dhcpd.conf").returncode == 0


HOSTILE = {
    # name: (text, the line the error names, what it says)
    "unclosed-host": ("subnet 192.168.96.0 netmask 255.255.255.0 {\n}\nhost a {\n  hardware ethernet 00:11:22:33:44:55;\n",
                      3, "`{` is never closed"),
    "stray-close": ("subnet 192.168.96.0 netmask 255.255.255.0 {\n}\n}\nhost a { }\n", 3, "`}` closes nothing"),
    "open-quote": ('subnet 192.168.96.0 netmask 255.255.255.0 {\n  host ullr.example.org {\n    filename "pxe}.0;\n  }\n}\n',
                   3, "string is not terminated"),
    "marker-in-host": ("subnet 192.168.96.0 netmask 255.255.255.0 {\n  host a {\n  # BEGIN xenfab managed hosts\n  }\n}\n",
                       3, "a xenfab marker must stand on a line of its own"),
    "end-marker-alone": ("subnet 192.168.96.0 netmask 255.255.255.0 {\n  # END xenfab managed hosts\n}\n",
                         2, "without a `BEGIN xenfab managed hosts` before it"),
    "brace-in-comment": ("subnet 192.168.96.0 netmask 255.255.255.0 { # }\n}\n}\n", 3, "`}` closes nothing"),
    "no-semicolon": ("subnet 192.168.96.0 netmask 255.255.255.0 {\n  option domain-name-servers 192.168.96.#1;\n}\n",
                     2, "statement without its `;` before the `}` of the subnet of line 1"),
    "subnet-in-host": ("host a {\n  subnet 192.168.96.0 netmask 255.255.255.0 {\n  }\n", 1, "`{` is never closed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_with_their_line(name: str, tmp_path: Path) -> None:
    text, line, message = HOSTILE[name]
    conf = tmp_path / "dhcpd.conf"
    conf.write_text(text, encoding="utf-8")
    mtime = conf.stat().st_mtime_ns
    for replace in ([], ["--replace"]):
        r = xenfab("dhcpd-config", "--fabric", str(EXAMPLE), "-i", *replace, str(conf))
        assert r.returncode == 1, r.stderr
        assert f"{conf}: line {line}: " in r.stderr and message in r.stderr, r.stderr
        assert conf.read_text(encoding="utf-8") == text
        assert conf.stat().st_mtime_ns == mtime


MUTANTS = 400


def mutate(text: str, rng: random.Random) -> str:
    """TEXT with one to three small changes of the kinds that break structure."""
    for _ in range(rng.randint(1, 3)):
        lines = text.splitlines(keepends=True)
        kind = rng.randrange(4)
        if kind == 0 and lines:  # a line doubled (a host declared twice, a second `}`)
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif kind == 1 and lines:  # a line dropped
            del lines[rng.randrange(len(lines))]
        else:  # a structural character inserted or removed
            text = "".join(lines)
            at = rng.randrange(len(text) + 1)
            if kind == 2:
                text = text[:at] + rng.choice(['{', '}', '"', '#', ';', '\n', '\r\n', ' host x {']) + text[at:]
            else:
                text = text[:at] + text[at + 1:]
            continue
        text = "".join(lines)
    return text


def test_mutants_dhcpd_takes_stay_taken(fabrics: dict[str, Path], tmp_path: Path) -> None:
    """Whenever dhcpd takes a mutant of a fixture and xenfab edits it (with or without
    --replace), dhcpd takes the result; whenever xenfab refuses it, it names a line."""
    rng = random.Random(20261127)
    counts = {"dhcpd refuses": 0, "edited": 0, "refused": 0}
    names = sorted(CASES)
    for i in range(MUTANTS):
        name = names[i % len(names)]
        case = CASES[name]
        work = tmp_path / f"m{i}"
        work.mkdir()
        conf = prepare(mutate((FIXTURES / name).read_text(encoding="utf-8"), rng), work)
        if dhcpd_t(conf).returncode != 0:
            counts["dhcpd refuses"] += 1
            continue
        replace = ["--replace"] if i % 2 else []
        r = xenfab("dhcpd-config", "--fabric", str(fabrics[case.fabric]), *replace, str(conf))
        if r.returncode != 0:
            assert r.returncode == 1, r.stderr
            assert re.search(rf"{re.escape(str(conf))}(: line |:)\d+", r.stderr) or "declares no `subnet" in r.stderr, r.stderr
            counts["refused"] += 1
            continue
        out = work / "out.conf"
        out.write_text(r.stdout, encoding="utf-8", newline="")
        after = dhcpd_t(out)
        assert after.returncode == 0, f"{name} mutant {i}: dhcpd takes the input, not the result:\n{after.stdout}\n" \
                                      f"--- input\n{conf.read_text(encoding='utf-8')}"
        counts["edited"] += 1
    print(f"mutants: {counts}")  # shown with -s
    # The run means something: many mutants reach the editor, and some are refused.
    assert counts["edited"] >= MUTANTS // 4 and counts["refused"] > 0, counts


@pytest.mark.boot
def test_a_second_declaration_of_a_mac_gives_the_wrong_lease(fabrics: dict[str, Path], tmp_path: Path) -> None:
    """Why a MAC in the host's shared network is an error: a running dhcpd answers the MAC from
    the first declaration it read. conflict-mac.conf's old-vali, put before the subnet of
    `--replace`'s result, gives vali's MAC 192.168.96.144; the result itself gives it
    192.168.96.44. Root and `ip netns` only (boot/dhcp_probe.sh); skipped with the reason
    otherwise; about 2 s."""
    if not shutil.which("busybox", path=PATH) or not shutil.which("ip", path=PATH):
        pytest.skip("the DHCP probe needs busybox and ip: run scripts/install-validators")
    if os.geteuid() != 0:
        pytest.skip("the DHCP probe needs root (ip netns, veth)")
    conf = prepare((FIXTURES / "conflict-mac.conf").read_text(encoding="utf-8"), tmp_path)
    r = xenfab("dhcpd-config", "--fabric", str(fabrics["example"]), "--replace", "-i", str(conf))
    assert r.returncode == 0, r.stderr
    old = "host old-vali { hardware ethernet 00:16:3E:A8:60:2C; fixed-address 192.168.96.144; }\n"
    result = conf.read_text(encoding="utf-8")
    assert old.strip() not in result
    shadowed = tmp_path / "shadowed.conf"
    shadowed.write_text(result.replace("subnet 192.168.96.0", old + "subnet 192.168.96.0", 1), encoding="utf-8")
    assert dhcpd_t(shadowed).returncode == 0  # dhcpd -t takes both declarations of the MAC

    def lease(path: Path) -> str:
        argv = ["sh", str(HERE / "boot" / "dhcp_probe.sh"), "isc", str(path), "00:16:3e:a8:60:2c", "192.168.96.1/24"]
        p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, PATH=PATH), timeout=60,
                           check=False)
        if p.returncode == 2:
            pytest.skip(f"the DHCP probe cannot set up here: {p.stderr.strip()}")
        return next((line[3:] for line in p.stdout.splitlines() if line.startswith("ip=")), f"none:\n{p.stdout}")

    assert lease(shadowed) == "192.168.96.144"
    assert lease(conf) == "192.168.96.44"
