"""The real Debian installer reads the preseed file xenfab renders for a Debian dom0.

``tests/cases/debian-install/fabric.toml`` is rendered with its install server moved to this
machine as QEMU's user network sees it (``http://10.0.2.2:<free port>/ks``) and the installer's
syslog sent here (its boot image's ``append``: ``log_host=10.0.2.2 log_port=<free port>``,
installation guide 5.3.2). ``boot/di_boot.py`` then PXE-boots the Debian installer
(debian-installer-12-netboot-amd64: its pxelinux.0, ``linux`` and ``initrd.gz``) in QEMU (TCG,
nice) with dom0 ``dinst``'s MAC, from the rendered ``tftpboot/``: pxelinux finds the host's
entry by its MAC (``pxelinux.cfg/01-<mac>``, the link ``xenfab render`` made for its state
``install``), and the entry's ``auto=true priority=critical url=…`` does the rest.

What is asserted, from the HTTP log and the installer's own syslog:

* the installer fetched ``/ks/preseed/dinst.inst.test.cfg`` (200), the URL only dinst's entry
  names, and logged ``successfully loaded preseed file from <that URL>``: its
  ``debconf-set-selections`` (the shell one of the initrd) took every line, no "Failed to
  process the preconfiguration file";
* a preseed file with a line the installer's reader refuses is reported at once (``Error
  parsing preconfiguration file``), not waited for: the test can fail;
* it asked nothing before (a question at priority critical would stop it: the test would time
  out with the installer's screen in the report);
* localechooser took the preseeded locale (``debian-installer/locale preseeded to
  'en_US.UTF-8'``) and choose-mirror the preseeded mirror and suite: it
  fetched ``http://deb.debian.org/debian/dists/bookworm/Release`` and set the suite to
  bookworm.
* the rescue entry (dinst in state ``rescue``) boots the same installer and preseed file with
  ``rescue/enable=true``, and the installer is in rescue mode (its screens' title).
* the reinstall entry of ``keep`` (its guests' group on a disk of its own, state
  ``reinstall``) makes the installer fetch and load ``preseed/keep.inst.test.reinstall.cfg``
  and ask nothing up to the mirror.

It stops there: the next step downloads the installer's components from the mirror, which
this machine's Debian mirror (a partial proxy) cannot give (a 404 on apt-mirror-setup's udeb),
so partman is not reached here (docs/debian.md lists what the mirror lacks); check_preseed.py
runs partman-auto's recipe parser, partman-auto-lvm's group map and partman-auto-raid's
auto-raidcfg on every rendered preseed file instead. About 2 minutes a boot under TCG on 2
cores. Marked ``boot``;
XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips it, a missing installer image or QEMU
fails it ("run scripts/install-validators").
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASE = ROOT / "tests" / "cases" / "debian-install" / "fabric.toml"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
DI_BOOT = HERE / "boot" / "di_boot.py"
DI = Path(os.environ.get("XENFAB_DI_IMAGES", "/usr/lib/debian-installer/images/12/amd64/text"))
MAC, FQDN = "52:54:00:d1:00:15", "dinst.inst.test"
# dom0 `keep` of the case: its guests' group on a disk of its own, in state `reinstall`.
KEEP_MAC, KEEP_FQDN = "52:54:00:d1:00:24", "keep.inst.test"


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _skip_or_fail(missing: list[str]) -> None:
    for var in ("XENFAB_SKIP_BOOT", "XENFAB_SKIP_VALIDATORS"):
        if os.environ.get(var) == "1":
            pytest.skip(f"{var}=1")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/install-validators", pytrace=False)


def _boot(tmp_path_factory: pytest.TempPathFactory, spoil: bool, state: str = "install",
          mac: str = MAC, fqdn: str = FQDN) -> dict:
    missing = [str(p) for p in (DI / "pxelinux.0", DI / "debian-installer/amd64/initrd.gz") if not p.exists()]
    if not XENFAB.exists():
        missing.append(f"{XENFAB} (cargo build -p xenfab-cli)")
    _skip_or_fail(missing)
    tmp = tmp_path_factory.mktemp("di")
    http_port, syslog_port = _free_port(socket.SOCK_STREAM), _free_port(socket.SOCK_DGRAM)
    text = CASE.read_text(encoding="utf-8")
    moved = text.replace("10.0.2.2:58180", f"10.0.2.2:{http_port}").replace("10.0.2.2:58181", f"10.0.2.2:{http_port}")
    moved = moved.replace(
        'initrd = "debian-installer/amd64/initrd.gz"',
        f'initrd = "debian-installer/amd64/initrd.gz"\nappend = ["log_host=10.0.2.2", "log_port={syslog_port}"]',
        1,
    )
    assert moved.count(str(http_port)) == 2 and "log_port" in moved, "the case's install server moved"
    if state != "install" and fqdn == FQDN:
        head, sep, rest = moved.partition('[[dom0s]]\nname = "dinst"\n')
        assert sep and rest.count('state = "install"\n') >= 1, "dinst's state"
        moved = head + sep + rest.replace('state = "install"\n', f'state = "{state}"\n', 1)
    fabric = tmp / "fabric.toml"
    fabric.write_text(moved, encoding="utf-8")
    out = tmp / "out"
    r = subprocess.run([str(XENFAB), "render", str(fabric), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if spoil:
        # A line the installer's reader cannot parse (owner, no question): it must say so
        # and the test must see it.
        preseed = out / "preseed" / f"{fqdn}.cfg"
        preseed.write_text(preseed.read_text(encoding="utf-8") + "d-i\n", encoding="utf-8")
    link = out / "tftpboot" / "pxelinux.cfg" / ("01-" + mac.replace(":", "-"))
    entry = f"{fqdn}.cfg" if state == "install" else f"{fqdn}.{state}.cfg"
    assert os.readlink(link) == entry, f"{fqdn}'s MAC leads to its {state} entry"
    # The reinstall entry names the reinstall preseed file; install and rescue the install's.
    preseed_name = f"{fqdn}.reinstall.cfg" if state == "reinstall" else f"{fqdn}.cfg"
    result = tmp / "result.json"
    proc = subprocess.run(
        [sys.executable, str(DI_BOOT), str(out), "--mac", mac, "--fqdn", fqdn, "--preseed", preseed_name,
         "--http-port", str(http_port),
         "--syslog-port", str(syslog_port), "--timeout", "600", "--json", str(result)],
        capture_output=True, text=True, timeout=700,
    )
    if proc.returncode == 2:
        pytest.fail(proc.stdout + proc.stderr, pytrace=False)
    data = json.loads(result.read_text()) if result.exists() else {}
    data["_output"] = proc.stdout + proc.stderr
    data["_url"] = f"http://10.0.2.2:{http_port}/ks/preseed/{preseed_name}"
    return data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _boot(tmp_path_factory, spoil=False)


@pytest.mark.boot
def test_installer_fetches_and_loads_the_hosts_preseed_file(report: dict) -> None:
    assert report.get("preseed_fetched"), report["_output"]
    loaded = [l for l in report["syslog"] if "successfully loaded preseed file from" in l]
    assert loaded and loaded[0].endswith(report["_url"]), report["_output"]
    bad = [l for l in report["syslog"] if "Failed to process" in l or "Error parsing preconfiguration" in l]
    assert not bad, bad


@pytest.mark.boot
def test_installer_takes_the_preseeded_answers(report: dict) -> None:
    assert not report["failures"], report["_output"]
    log = "\n".join(report["syslog"])
    assert "debian-installer/locale preseeded to 'en_US.UTF-8'" in log, report["_output"]
    assert "http://deb.debian.org/debian/dists/bookworm/Release" in log, report["_output"]
    assert "suite/codename set to" in log and "bookworm" in log.split("suite/codename set to", 1)[1].splitlines()[0]


@pytest.mark.boot
def test_a_preseed_file_the_installer_cannot_parse_fails_fast(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same boot with a line the installer's reader refuses: di_boot.py stops at the
    installer's error, long before its timeout, and reports the preseed file as not loaded."""
    spoiled = _boot(tmp_path_factory, spoil=True)
    assert spoiled.get("preseed_fetched"), spoiled["_output"]
    assert spoiled["preseed_loaded_at"] is None, spoiled["_output"]
    assert spoiled["stopped"].startswith("installer error"), spoiled["_output"]
    assert spoiled["failures"], spoiled["_output"]


@pytest.mark.boot
def test_rescue_entry_starts_the_installer_in_rescue_mode(tmp_path_factory: pytest.TempPathFactory) -> None:
    """dinst in state `rescue`: its MAC leads to the rescue entry, which boots the same
    installer with `rescue/enable=true` and the same preseed file (its locale, keyboard and
    mirror), and the installer takes rescue mode."""
    rescue = _boot(tmp_path_factory, spoil=False, state="rescue")
    assert not rescue["failures"], rescue["_output"]
    # rescue-check, in the netboot initrd, reads rescue/enable: its startup script queues
    # rescue-mode (which takes partitioning's place) for download, and its main-menu.d/10rescue
    # titles every screen with rescue/info, "Rescue mode". The install boot's screens have no
    # such title (asserted below).
    assert "Rescue mode" in rescue["serial_tail"], rescue["serial_tail"]
    loaded = [l for l in rescue["syslog"] if "successfully loaded preseed file from" in l]
    assert loaded and loaded[0].endswith(rescue["_url"]), rescue["_output"]


@pytest.mark.boot
def test_install_entry_is_not_rescue_mode(report: dict) -> None:
    assert report["serial_tail"].strip() and "Rescue mode" not in report["serial_tail"], report["serial_tail"]


@pytest.mark.boot
def test_reinstall_entry_loads_the_reinstall_preseed_file(tmp_path_factory: pytest.TempPathFactory) -> None:
    """keep in state `reinstall`: its MAC leads to its reinstall entry, whose installer fetches
    and loads preseed/keep.inst.test.reinstall.cfg (partman given sda only, the guests' sdb
    not), takes its answers and asks nothing up to the mirror."""
    again = _boot(tmp_path_factory, spoil=False, state="reinstall", mac=KEEP_MAC, fqdn=KEEP_FQDN)
    assert not again["failures"], again["_output"]
    loaded = [l for l in again["syslog"] if "successfully loaded preseed file from" in l]
    assert loaded and loaded[0].endswith(again["_url"]), again["_output"]
    assert "Rescue mode" not in again["serial_tail"], again["serial_tail"]
