"""Release-exact kickstarts: what each OS release's installer needs, checked on every golden tree.

pykickstart has one handler a family (``RHEL5`` is 5.x at its latest: its
``commands/bootloader.py`` adds ``--hvargs`` with ``version=RHEL5``), so ksvalidator cannot
tell a 5.2 file from a 5.5 one. These tests read each kickstart with pykickstart's versioned
handler and check it against what the release itself does, from its own sources:

- ``bootloader --hvargs`` exists from RHEL 5.5 (anaconda 11.1.2.197, rhbz#501438); RHEL 5.2's
  parser (pykickstart r0.43.1) aborts on it. Before 5.5 a ``%post`` must put the hypervisor's
  arguments on grub.conf's ``kernel /xen.gz`` line: it is run here on a CentOS 5.2 grub.conf.
- anaconda 9.1 (RHEL 3) and 10.1 (RHEL 4) stop at their language-support screen without
  ``langsupport``, anaconda 9.1 at its mouse screen without ``mouse`` (pykickstart's
  ``RHEL3_Mouse``; RHEL 4's is ``FC3_Mouse``, deprecated), and both on unresolved dependencies
  without ``%packages --resolvedeps``.
- anaconda 34 (RHEL 9) refuses a ``/boot`` below 512 MiB (its storage checker's
  ``min_partition_sizes``).
- glibc reads ``$1$`` only on RHEL 3, 4 and 5 before 5.2 (SHA-crypt came with glibc-2.5-24,
  RHEL 5.2).

Which release a host has comes from its case's fabric file (``os.<name>.release``; the
family's first, ``5.0``, when not given) and its inventory JSON (its ``os``).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
import warnings
from pathlib import Path

import pytest

pykickstart = pytest.importorskip("pykickstart")
from pykickstart.constants import KS_SCRIPT_POST  # noqa: E402
from pykickstart.errors import KickstartDeprecationWarning  # noqa: E402
from pykickstart.parser import KickstartParser  # noqa: E402
from pykickstart.version import makeVersion  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
GRUB_CONF = ROOT / "xenfab-core" / "src" / "render" / "kickstart" / "testdata" / "centos-5.2-grub.conf"
MAJOR = {"el3": 3, "el4": 4, "el5": 5, "el9": 9}


def fabric_os(case: Path) -> dict:
    """The `os` table of a case's fabric file (TOML or JSON)."""
    toml = case / "fabric.toml"
    if toml.exists():
        return tomllib.loads(toml.read_text(encoding="utf-8")).get("os", {})
    js = case / "fabric.json"
    if js.exists():
        return json.loads(js.read_text(encoding="utf-8")).get("os", {})
    return {}


def kickstarts():
    """Every kickstart of every golden tree with its handler, host, release and role."""
    for ks in sorted(CASES.glob("*/expected/kickstart/*.ks")):
        case = ks.parents[2]
        fqdn = ks.name.removesuffix(".ks").removesuffix(".reinstall")
        inv = case / "expected" / "inventory" / "hosts" / f"{fqdn}.json"
        if not inv.exists():
            continue
        host = json.loads(inv.read_text(encoding="utf-8"))
        role = host["role"]
        osname = host["dom0"]["os"] if role == "dom0" else host["os"]
        os_table = fabric_os(case).get(osname)
        if os_table is None:  # a Quattor case: its OS comes from profiles
            continue
        release = os_table.get("release", f"{MAJOR[os_table['family']]}.0")
        version = ks.read_text(encoding="utf-8").splitlines()[0].removeprefix("#version=")
        yield pytest.param(ks, version, tuple(int(p) for p in release.split(".")), host, id=f"{case.name}/{ks.name}")


KICKSTARTS = list(kickstarts())


def parse(path: Path, version: str):
    handler = makeVersion(version)
    with warnings.catch_warnings():
        # pykickstart marks `%packages --resolvedeps` deprecated for every handler (options.py
        # sets `action.deprecated` whatever the version), though it was deprecated from FC4 on:
        # RHEL 3 and 4 need it. check_kickstart.py is the syntax check; this reads meaning.
        warnings.simplefilter("ignore", KickstartDeprecationWarning)
        KickstartParser(handler, followIncludes=False).readKickstart(str(path))
    return handler


def only(version_prefix: str):
    return [k for k in KICKSTARTS if k.values[1].startswith(version_prefix)]


def test_the_corpus_has_every_family() -> None:
    versions = {k.values[1] for k in KICKSTARTS}
    assert {"RHEL3", "RHEL4", "RHEL5", "RHEL9"} <= versions, versions


@pytest.mark.parametrize(("ks", "version", "release", "host"), [k for k in only("RHEL5") if k.values[3]["role"] == "dom0"])
def test_hvargs_only_from_rhel_5_5(ks: Path, version: str, release: tuple, host: dict, tmp_path: Path) -> None:
    handler = parse(ks, version)
    dom0_mem = f"dom0_mem={host['dom0']['memory']}M"
    posts = [s.script for s in handler.scripts if s.type == KS_SCRIPT_POST]
    if release >= (5, 5):
        assert dom0_mem in handler.bootloader.hvArgs
        assert not any("xen\\.gz" in p for p in posts), "a %post edits grub.conf although --hvargs does it"
        return
    # RHEL 5.0 to 5.4: anaconda has no --hvargs; the %post must do what it would have done.
    assert not handler.bootloader.hvArgs, f"--hvargs in a {release} kickstart: that anaconda aborts on it"
    conf = tmp_path / "grub.conf"
    original = GRUB_CONF.read_text(encoding="utf-8")
    conf.write_text(original, encoding="utf-8")
    edits = [p for p in posts if "/boot/grub/grub.conf" in p]
    assert len(edits) == 1, posts
    script = edits[0].replace("/boot/grub/grub.conf", str(conf))
    run = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert run.stderr == ""
    edited = conf.read_text(encoding="utf-8").splitlines()
    hypervisor = [line for line in edited if line.strip().startswith("kernel /xen.gz")]
    assert len(hypervisor) == 1 and hypervisor[0].split()[2:] == [
        dom0_mem,
        f"dom0_max_vcpus={host['dom0']['vcpus']}",
        "dom0_vcpus_pin",
    ], hypervisor
    # nothing else changed
    assert [line for line in edited if "xen.gz" not in line] == [
        line for line in original.splitlines() if "xen.gz" not in line
    ]


@pytest.mark.parametrize(("ks", "version", "release", "host"), only("RHEL3") + only("RHEL4"))
def test_el3_el4_answer_every_screen(ks: Path, version: str, release: tuple, host: dict) -> None:
    handler = parse(ks, version)
    assert handler.langsupport.deflang, "no langsupport: anaconda stops at its language-support screen"
    if version == "RHEL3":
        assert handler.mouse.mouse == "none", "no mouse: anaconda 9.1 stops at its mouse screen"
    # pykickstart drops a deprecated option instead of storing it (see parse()), so the section
    # header is read as anaconda 9.1/10.1 read it: its words.
    header = next(line.split() for line in ks.read_text(encoding="utf-8").splitlines() if line.startswith("%packages"))
    assert "--resolvedeps" in header, "no --resolvedeps: anaconda stops on unresolved dependencies"


@pytest.mark.parametrize(("ks", "version", "release", "host"), only("RHEL9"))
def test_el9_boot_at_least_anacondas_minimum(ks: Path, version: str, release: tuple, host: dict) -> None:
    handler = parse(ks, version)
    boots = [p.size for p in handler.partition.partitions if p.mountpoint == "/boot"]
    boots += [lv.size for lv in handler.logvol.lvList if lv.mountpoint == "/boot"]
    members = {p.mountpoint: p.size for p in handler.partition.partitions}
    # a reinstall's `raid /boot --useexisting` names no members: the array was made by the install
    boots += [
        min(members[m] for m in r.members) for r in handler.raid.raidList if r.mountpoint == "/boot" and r.members
    ]
    # `part /boot --onpart=…` (a reinstall) keeps the partition the install made: no size
    assert all(size >= 512 for size in boots if size is not None), boots


@pytest.mark.parametrize(("ks", "version", "release", "host"), KICKSTARTS)
def test_root_hash_readable_by_the_release(ks: Path, version: str, release: tuple, host: dict) -> None:
    handler = parse(ks, version)
    md5_only = release[0] in (3, 4) or (release[0] == 5 and release < (5, 2))
    allowed = ("$1$",) if md5_only else ("$1$", "$5$", "$6$") if release[0] == 5 else ("$",)
    assert handler.rootpw.isCrypted and handler.rootpw.password.startswith(allowed)


def _rescue_entries() -> list:
    """(entry, inventory of its host) for every pxelinux rescue entry of an EL3 to EL5 host."""
    out = []
    for cfg in sorted(ROOT.glob("tests/cases/*/expected/tftpboot/pxelinux.cfg/*.rescue.cfg")):
        inv = cfg.parents[2] / "inventory" / "hosts" / cfg.name.replace(".rescue.cfg", ".json")
        append = next(line.strip() for line in cfg.read_text(encoding="utf-8").splitlines() if line.strip().startswith("append "))
        if " rescue method=" in f" {append}":
            out.append(pytest.param(append, json.loads(inv.read_text(encoding="utf-8")), id=f"{cfg.parents[3].name}:{cfg.name}"))
    return out


@pytest.mark.parametrize(("append", "host"), _rescue_entries())
def test_el3_el5_rescue_entries_answer_the_loaders_screens(append: str, host: dict) -> None:
    """In rescue mode no kickstart answers the loader of RHEL 3 to 5: it stops at its language,
    keyboard and TCP/IP screens unless the command line has `lang=`, `keymap=` and `ip=`
    (loader2/loader.c, `parseCmdLineFlags` sets `lang_set`, `kbd_set` and `ipinfo_set`, and
    `doLoaderMain` skips `STEP_LANG`, `STEP_KBD` and the network screen when they are set)."""
    words = dict(w.split("=", 1) for w in append.split()[1:] if "=" in w)
    for key in ("lang", "keymap", "ksdevice", "netmask", "gateway"):
        assert words.get(key), f"no {key}=: the loader asks: {append}"
    ip = host["ip"] if host["role"] == "guest" else host["dom0"]["ip"]
    assert words.get("ip") == ip, append
