"""Every artefact of the golden corpus, checked by its real consumer.

The trees in ``tests/cases/*/expected/`` are what xenfab renders for each case (a Rust test
keeps them current). Each file whose path matches a row of ``CHECKS`` is one test, named
``<case>/<path>``, that runs the checker of that row on it; other files are not checked yet.
The checkers themselves are tested too: each accepts a good sample and rejects a bad one, so a
green run means something.

Run with the venv that scripts/install-validators filled (pykickstart is imported from it):

    scripts/install-validators .venv/bin/python
    .venv/bin/python -m pytest tests/validators

A missing validator program fails its tests ("run scripts/install-validators"), unless
XENFAB_SKIP_VALIDATORS=1, which skips them instead. No dependence on the xenfab package.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import pytest

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"
GOOD = HERE / "samples" / "good"
BAD = HERE / "samples" / "bad"
XEND_CHECKER = HERE / "check_xend_sxp.py"
# dhcpd, kea-dhcp4 and dnsmasq live in /usr/sbin, which a user's PATH may lack.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PATH = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])

# Switches that make a checker lenient: the suite is strict whatever the caller's environment.
RELAXING_ENV = ("KS_ALLOW_DEPRECATED", "XEND_ALLOW_UNKNOWN", "XL_ALLOW_WARNINGS")
# xenfab's kickstarts open with anaconda's own marker, e.g. `#version=RHEL5`.
KS_VERSION_LINE = re.compile(r"#version=(RHEL[0-9]+)")


class Rejected(Exception):
    """A validator, or an assertion on what it printed, refused the file."""

    def __init__(self, message: str, rc: Optional[int] = None) -> None:
        super().__init__(message)
        self.rc = rc


def _require(present: bool, what: str) -> None:
    """Fail (or skip, with XENFAB_SKIP_VALIDATORS=1) when a validator program is missing."""
    if present:
        return
    message = f"{what} is missing: run scripts/install-validators"
    if os.environ.get("XENFAB_SKIP_VALIDATORS") == "1":
        pytest.skip(f"{message} (XENFAB_SKIP_VALIDATORS=1)")
    pytest.fail(message, pytrace=False)


def _validate(argv: list[str]) -> str:
    """Run a checker; return its output, or raise Rejected with that output."""
    env = {k: v for k, v in os.environ.items() if k not in RELAXING_ENV}
    env["PATH"] = PATH
    proc = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise Rejected(f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}", proc.returncode)
    return proc.stdout


# --- the checkers, one per artefact kind ------------------------------------------------------


def check_kickstart(path: Path, version: str) -> None:
    """pykickstart's parser for VERSION (as ksvalidator -v), plus cross references."""
    _require(importlib.util.find_spec("pykickstart") is not None, f"pykickstart (in {sys.executable})")
    _validate([sys.executable, str(HERE / "check_kickstart.py"), str(path), version])


def check_kickstart_artefact(path: Path) -> None:
    """A kickstart xenfab wrote: the version comes from its first line, which must be there."""
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n")
    match = KS_VERSION_LINE.fullmatch(first)
    if not match:
        raise Rejected(f"{path}: the first line must be `#version=RHELn` (RHEL3, RHEL4, RHEL5 or RHEL9), not {first!r}")
    check_kickstart(path, match.group(1))


def check_grub_legacy(path: Path) -> dict:
    """pygrub's GrubConf (xen-utils-4.17); returns the entries it parsed."""
    _require(bool(glob.glob("/usr/lib/xen-4.*/lib/python/grub/GrubConf.py")), "pygrub's GrubConf.py (xen-utils-4.17)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "menu.json"
        _validate([sys.executable, str(HERE / "check_grub_legacy.py"), str(path), str(out)])
        return json.loads(out.read_text(encoding="utf-8"))


def check_dom0_menu_lst(path: Path) -> None:
    """A dom0's menu.lst: valid for pygrub, and its first entry boots Xen with a dom0."""
    parsed = check_grub_legacy(path)
    first = parsed["entries"][0]  # the checker rejects a menu.lst without entries
    problems = []
    if "dom0_mem=" not in (first["args"] or ""):
        problems.append("the first entry's kernel (Xen) arguments have no dom0_mem=")
    if len(first["modules"]) < 2:
        problems.append("the first entry needs at least two modules (the dom0 kernel and its initrd)")
    if problems:
        raise Rejected("\n".join([f"{path}:", *problems, json.dumps(first, indent=1)]))


def check_grub2_cfg(path: Path) -> None:
    """grub-script-check (grub-common): syntax only."""
    _require(shutil.which("grub-script-check") is not None, "grub-script-check (grub-common)")
    _validate(["sh", str(HERE / "check_grub2_cfg.sh"), str(path)])


def check_xend_sxp(path: Path) -> None:
    """Our own reading of xend's sxp grammar and XendOptions' value rules."""
    if not XEND_CHECKER.exists():
        pytest.skip("tests/validators/check_xend_sxp.py is not written yet")
    _validate([sys.executable, str(XEND_CHECKER), str(path)])


def _daemon(command: str, package: str) -> None:
    _require(shutil.which(command, path=PATH) is not None, f"{command} ({package})")


def check_dhcpd(path: Path) -> None:
    """ISC dhcpd's own parser: `dhcpd -t` (isc-dhcp-server 4.4)."""
    _daemon("dhcpd", "isc-dhcp-server")
    _validate(["sh", str(HERE / "check_dhcpd.sh"), str(path)])


def check_kea4(path: Path) -> None:
    """Kea's: `kea-dhcp4 -t` (2.2), syntax and semantics; its syntax warnings fail too."""
    _daemon("kea-dhcp4", "kea-dhcp4-server")
    _validate(["sh", str(HERE / "check_kea4.sh"), str(path)])


def check_dnsmasq(path: Path) -> None:
    """dnsmasq's: `dnsmasq --test -C FILE` (2.90)."""
    _daemon("dnsmasq", "dnsmasq-base")
    _validate(["sh", str(HERE / "check_dnsmasq.sh"), str(path)])


def check_pxelinux(path: Path) -> None:
    """The pxelinux syntax xenfab relies on (our own check; test_netboot.py boots pxelinux)."""
    _validate([sys.executable, str(HERE / "check_pxelinux.py"), str(path)])


# Which checker reads which artefact: a glob on the path inside an expected/ tree (`*` stays
# within one path segment), first matching row wins. A new artefact kind adds a row here.
CHECKS: list[tuple[str, Callable[[Path], None]]] = [
    ("kickstart/*.ks", check_kickstart_artefact),  # <fqdn>.ks and <fqdn>.reinstall.ks
    ("dom0s/*/grub/menu.lst", check_dom0_menu_lst),
    ("dom0s/*/grub/grub.cfg", check_grub2_cfg),
    ("dom0s/*/xen/xend-config.sxp", check_xend_sxp),
    ("dhcp/dhcpd.conf", check_dhcpd),  # complete config, hosts in each subnet's managed region
    ("dhcp/dhcpd-hosts.conf", check_dhcpd),  # host declarations only, for an include
    ("dhcp/kea-dhcp4.json", check_kea4),
    ("dhcp/dnsmasq.conf", check_dnsmasq),
    ("tftpboot/pxelinux.cfg/*.cfg", check_pxelinux),  # <fqdn>.cfg and localboot.cfg (not the links)
    ("tftpboot/pxelinux.cfg/netinstall-*", check_pxelinux),  # pypxeboot's menus
]


def _matches(rel: str, pattern: str) -> bool:
    names, globs = rel.split("/"), pattern.split("/")
    return len(names) == len(globs) and all(fnmatchcase(n, g) for n, g in zip(names, globs))


def _artefacts() -> list:
    params = []
    for expected in sorted(CASES.glob("*/expected")):
        for path in sorted(p for p in expected.rglob("*") if p.is_file()):
            rel = path.relative_to(expected).as_posix()
            check = next((c for pattern, c in CHECKS if _matches(rel, pattern)), None)
            if check is not None:
                params.append(pytest.param(path, check, id=f"{expected.parent.name}/{rel}"))
    if not params:
        reason = "no artefact in tests/cases/*/expected/ has a checker yet"
        params.append(pytest.param(None, None, id="none", marks=pytest.mark.skip(reason=reason)))
    return params


def _expect_valid(check: Callable[[Path], None], path: Path) -> None:
    try:
        check(path)
    except Rejected as e:
        message = str(e)
    else:
        return
    pytest.fail(message, pytrace=False)  # outside `except`: the output is shown once


# --- the golden corpus --------------------------------------------------------------------------


def test_corpus_is_there() -> None:
    assert list(CASES.glob("*/expected")), f"no golden trees under {CASES}/*/expected"


@pytest.mark.parametrize(("path", "check"), _artefacts())
def test_artefact(path: Path, check: Callable[[Path], None]) -> None:
    _expect_valid(check, path)


# --- the checkers can fail ----------------------------------------------------------------------

# (id, checker, good sample, bad sample, what the rejection must mention)
SELF_TESTS = [
    ("kickstart-RHEL5", partial(check_kickstart, version="RHEL5"), "rhel5.ks", "rhel5-resolvedeps.ks", "resolvedeps"),
    ("kickstart-RHEL9", partial(check_kickstart, version="RHEL9"), "rhel9.ks", "rhel9-typo.ks", "--sise"),
    ("grub2-cfg", check_grub2_cfg, "grub.cfg", "grub-quote.cfg", "syntax error"),
    ("grub-legacy", check_dom0_menu_lst, "menu.lst", "menu-typo.lst", "timout"),
    ("xend-sxp", check_xend_sxp, "xend-config.sxp", "xend-config-values.sxp", "maybe"),
    ("dhcpd", check_dhcpd, "dhcpd.conf", "dhcpd-nosemi.conf", "semicolon expected"),
    ("kea4-dup-ip", check_kea4, "kea-dhcp4.json", "kea-dupip.json", "already a reservation"),
    ("kea4-trailing-comma", check_kea4, "kea-dhcp4.json", "kea-trailing-comma.json", "extraneous comma"),
    ("dnsmasq", check_dnsmasq, "dnsmasq.conf", "dnsmasq-semihost.conf", "bad dhcp host name"),
    ("pxelinux-append", check_pxelinux, "pxelinux-install.cfg", "pxelinux-injected-append.cfg", "xen01;reboot"),
    ("pxelinux-default", check_pxelinux, "pxelinux-install.cfg", "pxelinux-default-undefined.cfg", "`instal` is not defined"),
]


@pytest.mark.parametrize(("check", "good"), [pytest.param(c, g, id=i) for i, c, g, _, _ in SELF_TESTS])
def test_checker_accepts_good_sample(check: Callable[[Path], None], good: str) -> None:
    _expect_valid(check, GOOD / good)


@pytest.mark.parametrize(("check", "bad", "reason"), [pytest.param(c, b, r, id=i) for i, c, _, b, r in SELF_TESTS])
def test_checker_rejects_bad_sample(check: Callable[[Path], None], bad: str, reason: str) -> None:
    with pytest.raises(Rejected) as rejected:
        check(BAD / bad)
    assert rejected.value.rc == 1, f"exit {rejected.value.rc}, not a verdict (1):\n{rejected.value}"
    assert reason in str(rejected.value).lower(), f"rejected, but not for {reason!r}:\n{rejected.value}"


def test_kickstart_version_comes_from_first_line(tmp_path: Path) -> None:
    body = (GOOD / "rhel5.ks").read_text(encoding="utf-8")
    ks = tmp_path / "xen01.example.org.ks"
    ks.write_text("#version=RHEL5\n" + body, encoding="utf-8")
    _expect_valid(check_kickstart_artefact, ks)
    ks.write_text("#version=RHEL9\n" + body, encoding="utf-8")  # `install` was removed since
    with pytest.raises(Rejected, match="install has been removed"):
        check_kickstart_artefact(ks)


def test_kickstart_without_version_line_is_rejected(tmp_path: Path) -> None:
    ks = tmp_path / "xen01.example.org.ks"
    ks.write_text((GOOD / "rhel5.ks").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(Rejected, match="#version=RHELn"):
        check_kickstart_artefact(ks)


def test_menu_lst_must_boot_xen_first(tmp_path: Path) -> None:
    menu = tmp_path / "menu.lst"
    menu.write_text("default=0\ntitle Linux\n\troot (hd0,0)\n\tkernel /vmlinuz ro\n\tinitrd /initrd.img\n", encoding="utf-8")
    with pytest.raises(Rejected, match="dom0_mem="):
        check_dom0_menu_lst(menu)
