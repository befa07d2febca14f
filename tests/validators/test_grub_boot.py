"""Every GRUB entry of the golden corpus, booted by the real GRUB in QEMU.

For each ``tests/cases/*/expected/dom0s/*/grub/menu.lst`` (GRUB legacy 0.97, EL5 dom0s) and
``…/grub/grub.cfg`` (GRUB 2.06, EL9 dom0s), ``boot/grub_boot.py`` builds a disk holding the
file, a probe multiboot kernel at the path the entry loads as the hypervisor (its ``kernel`` or
``multiboot2`` line) and ``DUMMY:<path>`` files at its ``module``/``module2`` paths, and boots
it with the real GRUB under QEMU (TCG). The probe prints what GRUB handed over, that is what Xen
would see. A dom0 on GPT gets a GPT disk with its ``/boot`` on the partition its kickstart lays
out. A UEFI dom0 (its kickstart has ``part /boot/efi``, its preseed ``method{ efi }``) is booted
by ``boot/grub_efi_boot.py`` instead: GRUB 2.06 x86_64-efi from the ESP of a GPT disk, under
OVMF (Debian's ``ovmf``), whose ``multiboot2`` leaves boot services and enters the probe (about
5 s a boot). The test asserts:

* the multiboot command line holds the file's exact ``dom0_mem=…``, ``dom0_max_vcpus=…`` and
  ``dom0_vcpus_pin`` tokens (the file must have all three);
* there are exactly two modules, in order the dom0 kernel (whose command line holds the
  file's ``root=…``) and the initrd, each the file the entry names;
* GRUB reported no error, and the protocol is the one the entry asks for;
* a file with a serial console (``serial --unit=N --speed=S``, BIOS boots): Xen's command line has
  ``com<N+1>=S,8n1`` and ``console=com<N+1>,vga`` (xen-command-line(7)), the dom0 kernel a
  ``console=``, and GRUB's own text came out of that port of QEMU (which has COM1 and COM2,
  each logged): a wrong unit is a silent port, and fails.

The boots run QEMU (TCG, no KVM: under a second each here, 2.8 s for the failing one) and are
marked ``boot``: ``-m "not boot"`` leaves them out. Missing QEMU or GRUB fails them ("run
scripts/install-validators"); XENFAB_SKIP_BOOT=1 (or XENFAB_SKIP_VALIDATORS=1) skips them
instead. Run them serially.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from boot_env import missing, require

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"
GRUB_BOOT = HERE / "boot" / "grub_boot.py"
GRUB_EFI_BOOT = HERE / "boot" / "grub_efi_boot.py"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
# grub-legacy's `grub` shell lives in /usr/sbin, which a user's PATH may lack.
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
EFI_BOOT_TIMEOUT = 120  # OVMF's start under TCG takes most of it
BOOT_TIMEOUT = 30  # seconds for one boot; a good one takes under 1 s under TCG (the copy has no timeout)
HEAD = 48  # the probe prints the first 48 bytes of each module

pytestmark = pytest.mark.boot


@dataclass
class Entry:
    """The boot entry GRUB runs: what it loads as the hypervisor, and its modules."""

    loader: str  # the command: kernel (legacy), multiboot or multiboot2
    hypervisor: str  # path of xen.gz on the boot partition
    args: list[str]  # Xen's arguments as written
    modules: list[tuple[str, list[str]]]  # (path, arguments)


def _path(word: str) -> str:
    """A GRUB file name without its device, `(hd0,0)/xen.gz` -> `/xen.gz`."""
    return re.sub(r"^\([^)]*\)", "", word)


def _entry_lines(lines: list[list[str]], default: int) -> list[list[str]]:
    entries: list[list[list[str]]] = []
    for words in lines:
        if words[0] in ("title", "menuentry"):
            entries.append([])
        elif entries:
            entries[-1].append(words)
    assert entries, "no boot entry (title / menuentry) in the file"
    assert default < len(entries), f"default={default} but only {len(entries)} entries"
    return entries[default]


def parse_menu_lst(text: str) -> Entry:
    """GRUB legacy: the entry `default` selects (0 when unset)."""
    lines, default = [], 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        # `default=0` and `default 0` are the same to GRUB 0.97
        cmd, rest = re.fullmatch(r"([^\s=]+)(?:\s*=\s*|\s+|$)(.*)", line).groups()
        if cmd == "default" and rest.strip().isdigit():
            default = int(rest)
        lines.append([cmd, *rest.split()])
    kernel, modules = None, []
    for words in _entry_lines(lines, default):
        args = [w for w in words[1:] if not w.startswith("--type=")]
        if words[0] == "kernel":
            kernel = (_path(args[0]), args[1:])
        elif words[0] in ("module", "modulenounzip"):
            modules.append((_path(args[0]), args[1:]))
    assert kernel, "the entry has no `kernel` line"
    return Entry("kernel", kernel[0], kernel[1], modules)


def parse_grub_cfg(text: str) -> Entry:
    """GRUB 2: the first menuentry (xenfab's grub.cfg is a snippet holding one)."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line == "}":
            continue
        lines.append(shlex.split(line))
    loader, modules = None, []
    for words in _entry_lines(lines, 0):
        args = [w for w in words[1:] if not w.startswith("--")]  # --nounzip, --quirk-…
        if words[0] in ("multiboot", "multiboot2"):
            loader = (words[0], _path(args[0]), args[1:])
        elif words[0] in ("module", "module2"):
            modules.append((_path(args[0]), args[1:]))
    assert loader, "the first menuentry has no `multiboot2` (or `multiboot`) line"
    return Entry(loader[0], loader[1], loader[2], modules)


def bootable_copy(kind: str, text: str) -> str:
    """What GRUB boots: the artefact, changed only so that it boots at once.

    The artefact itself is never changed. GRUB legacy: xenfab's menu.lst has `timeout=5`,
    which is 5 s of waiting under TCG, so the copy says `timeout=0`. GRUB 2: xenfab's grub.cfg
    is a menuentry snippet (grub2-mkconfig's files set these), so the copy opens with
    `set default=0` and `set timeout=0`; without them GRUB shows its menu and waits.
    """
    if kind == "grub2":
        return "set default=0\nset timeout=0\n" + text
    copy, n = re.subn(r"(?m)^(\s*timeout)(\s*=\s*|\s+)\d+", r"\g<1>\g<2>0", text)
    return copy if n else "timeout=0\n" + text


def _missing(kind: str) -> list[str]:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    commands = ["qemu-system-x86_64", "mke2fs", "gcc", "grub-mkimage" if kind == "grub2" else "grub"]
    files = ["/usr/share/seabios/bios-256k.bin"]
    files.append("/usr/lib/grub/i386-pc/lnxboot.img" if kind == "grub2" else "/usr/lib/grub/x86_64-pc/stage2")
    return [c for c in commands if not shutil.which(c, path=path)] + [f for f in files if not os.path.exists(f)]


def _require_boot_tools(kind: str) -> None:
    require(_missing(kind), "the GRUB boots")


def boot_disk(path: Path) -> tuple[str, int]:
    """The label of a dom0's boot disk and the number of the partition that holds /boot (or
    /), read in its kickstart file as anaconda lays it out: `clearpart --disklabel=gpt`, and
    `part` lines numbered in the order listed on their disk (the holder of /boot is its `part`
    line, or its array's first member's). Without a GPT label: msdos and partition 1, the seed's
    /boot (grub_boot.py's default disk). Independent of xenfab's own numbering, so that a GRUB
    entry naming another partition than the kickstart makes fails to boot."""
    fqdn = path.parent.parent.name
    ks = path.parents[3] / "kickstart" / f"{fqdn}.ks"
    if not ks.exists():
        return "msdos", 1
    lines = [shlex.split(l) for l in ks.read_text(encoding="utf-8").splitlines()
             if l.startswith(("clearpart ", "part ", "raid "))]
    if not any(l[0] == "clearpart" and "--disklabel=gpt" in l for l in lines):
        return "msdos", 1
    parts = [l for l in lines if l[0] == "part"]
    ondisk = lambda l: next(w.split("=", 1)[1] for w in l if w.startswith("--ondisk="))
    for mount in ("/boot", "/"):
        part = next((l for l in parts if l[1] == mount), None)
        if part is None:
            raid = next((l for l in lines if l[0] == "raid" and l[1] == mount), None)
            if raid is None:
                continue
            first = next(w for w in raid[2:] if not w.startswith("-"))
            part = next(l for l in parts if l[1] == first)
        disk = ondisk(part)
        same = [l for l in parts if ondisk(l) == disk]
        return "gpt", same.index(part) + 1
    raise AssertionError(f"{ks}: no /boot or / on a partition or an array")


def _run_boot(argv: list[str], entry: Entry, out: Path, timeout: int) -> tuple[dict, str]:
    """Run a boot script (ARGV, then ENTRY's modules as --file and the common options); return
    its JSON result (written to OUT) and its output."""
    for module, _ in entry.modules:
        argv += ["--file", module]
    argv += ["--expect-modules", "2", "--timeout", str(timeout), "--json", str(out)]
    env = dict(os.environ, PATH=os.pathsep.join([os.environ.get("PATH", ""), *SBIN]))
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                          encoding="utf-8", errors="replace", timeout=timeout + 60, check=False)
    log = f"$ {shlex.join(argv)}\nexit {proc.returncode}\n{proc.stdout}"
    if proc.returncode == 2 or not out.exists():
        pytest.fail(f"{Path(argv[1]).name} could not set up the boot:\n{log}", pytrace=False)
    return json.loads(out.read_text(encoding="utf-8")), log


def grub_boot(kind: str, cfg: Path, entry: Entry, tmp: Path,
              disk: tuple[str, int] = ("msdos", 1)) -> tuple[dict, str]:
    """Run boot/grub_boot.py; return its JSON result and its output."""
    argv = [sys.executable, str(GRUB_BOOT), kind, str(cfg), "--probe", entry.hypervisor]
    if disk != ("msdos", 1):
        argv += ["--label", disk[0], "--part", str(disk[1])]
    return _run_boot(argv, entry, tmp / "boot.json", BOOT_TIMEOUT)


def firmware_of(path: Path) -> str:
    """`uefi` when the dom0's installer lays out an EFI System Partition (its kickstart has a
    `part /boot/efi`, its preseed a `method{ efi }` recipe line), else `bios`: read in what the
    installer gets, not in the fabric, as boot_disk reads the partition."""
    fqdn = path.parent.parent.name
    ks = path.parents[3] / "kickstart" / f"{fqdn}.ks"
    if ks.exists():
        return "uefi" if re.search(r"(?m)^part /boot/efi ", ks.read_text(encoding="utf-8")) else "bios"
    preseed = path.parents[3] / "preseed" / f"{fqdn}.cfg"
    if preseed.exists() and any("method{ efi }" in l for l in preseed.read_text(encoding="utf-8").splitlines()
                                if not l.lstrip().startswith("#")):
        return "uefi"
    return "bios"


def grub_efi_boot(cfg: Path, entry: Entry, tmp: Path, part: int) -> tuple[dict, str]:
    """Run boot/grub_efi_boot.py (GRUB 2.06 x86_64-efi under OVMF, /boot on GPT partition
    PART); return its JSON result and its output."""
    require(missing(["sfdisk", "mkfs.vfat", "mcopy"], [OVMF_CODE, "/usr/lib/grub/x86_64-efi/multiboot2.mod"]),
            "the GRUB EFI boots")
    argv = [sys.executable, str(GRUB_EFI_BOOT), str(cfg), "--probe", entry.hypervisor, "--boot-part", str(part)]
    return _run_boot(argv, entry, tmp / "boot.json", EFI_BOOT_TIMEOUT)


SERIAL_LINE = re.compile(r"(?m)^\s*serial\s+--unit=(\d+)\s+--speed=(\d+)\s*$")
# What each GRUB prints on its terminal while it boots the entry: GRUB 0.97 its "Booting
# '<title>'" line (stage2/cmdline.c, run_script), GRUB 2 the entry's own `echo`.
GRUB_SAYS = {"legacy": "Booting '", "grub2": "Loading the Xen hypervisor"}


def serial_of(text: str) -> tuple[int, int] | None:
    """The file's serial console: GRUB's `serial --unit=N --speed=S`, if it has one."""
    m = SERIAL_LINE.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def serial_problems(kind: str, serial: tuple[int, int], entry: Entry, got: dict) -> list[str]:
    """What is wrong with the serial console of a boot: Xen's words for the port GRUB uses,
    dom0's console, and GRUB's text on that port of QEMU (got["ports"]: COM1, COM2)."""
    unit, speed = serial
    port = f"com{unit + 1}"
    problems = []
    want = [f"{port}={speed},8n1", f"console={port},vga"]
    have = (got["cmdline"] or "").split()
    problems += [f"Xen's command line lacks {w!r} (GRUB's serial is unit {unit})" for w in want if w not in have]
    if not any(a.startswith("console=") for a in entry.modules[0][1]):
        problems.append(f"the dom0 kernel's line has no console=: {entry.modules[0][1]}")
    ports = got.get("ports") or []
    if unit >= len(ports) or GRUB_SAYS[kind] not in ports[unit]:
        problems.append(f"GRUB said nothing ({GRUB_SAYS[kind]!r}) on {port.upper()}, the port its `serial --unit={unit}` names")
    return problems


def _xen_tokens(args: list[str]) -> list[str]:
    return [a for a in args if a.startswith(("dom0_mem=", "dom0_max_vcpus=")) or a == "dom0_vcpus_pin"]


def _cases() -> list:
    params = []
    for kind, name in (("legacy", "menu.lst"), ("grub2", "grub.cfg")):
        for path in sorted(CASES.glob(f"*/expected/dom0s/*/grub/{name}")):
            rel = path.relative_to(CASES).as_posix().replace("/expected/", "/")
            params.append(pytest.param(kind, path, id=rel))
    return params or [pytest.param(None, None, id="none", marks=pytest.mark.skip(reason="no GRUB artefact in the corpus"))]


def test_corpus_has_grub_entries() -> None:
    assert {k for k, _ in (p.values for p in _cases())} >= {"legacy", "grub2"}, "expected menu.lst and grub.cfg files"


@pytest.mark.parametrize(("kind", "path"), _cases())
def test_grub_boots_xen_with_dom0_settings(kind: str, path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    entry = parse_menu_lst(text) if kind == "legacy" else parse_grub_cfg(text)
    # What the file asks for, before anything boots: the premise of the test.
    wanted = _xen_tokens(entry.args)
    for key in ("dom0_mem=", "dom0_max_vcpus=", "dom0_vcpus_pin"):
        assert any(t.startswith(key) for t in wanted), f"{path}: the hypervisor line has no {key}: {entry.args}"
    assert len(entry.modules) == 2, f"{path}: the entry loads {len(entry.modules)} modules, not 2 (kernel, initrd)"
    root = [a for a in entry.modules[0][1] if a.startswith("root=")]
    assert root, f"{path}: the dom0 kernel's module line has no root=: {entry.modules[0]}"

    _require_boot_tools(kind)
    cfg = tmp_path / path.name
    cfg.write_text(bootable_copy(kind, text), encoding="utf-8")
    started = time.monotonic()
    disk = boot_disk(path)
    efi = kind == "grub2" and firmware_of(path) == "uefi"
    if efi:
        # A UEFI dom0's entry, booted by GRUB EFI under OVMF from its GPT disk: /boot where the
        # kickstart puts it, or (Debian, whose entry searches for the hypervisor's file) the
        # partition after the ESP, where the preseed's recipe puts it.
        got, log = grub_efi_boot(cfg, entry, tmp_path, disk[1] if disk[0] == "gpt" else 2)
    else:
        got, log = grub_boot(kind, cfg, entry, tmp_path, disk)
    print(f"{kind}{' (EFI)' if efi else ''} boot of {path.relative_to(CASES)}: {time.monotonic() - started:.1f} s")

    problems = []
    if got["grub_errors"]:
        problems.append(f"GRUB reported: {got['grub_errors']}")
    if got["cmdline"] is None:
        problems.append(f"the probe kernel did not run ({got['stopped']})")
    else:
        have = got["cmdline"].split()
        problems += [f"Xen's command line lacks {t!r}" for t in wanted if t not in have]
        proto = "2" if entry.loader == "multiboot2" else "1"
        if got["proto"] != proto:
            problems.append(f"multiboot protocol {got['proto']}, not {proto} ({entry.loader})")
        mods = got["modules"]
        if len(mods) != 2:
            problems.append(f"{len(mods)} modules, not 2 (dom0 kernel, initrd)")
        for (want_path, _), mod, what in zip(entry.modules, mods, ("dom0 kernel", "initrd")):
            if mod["head"] != f"DUMMY:{want_path}"[:HEAD]:
                problems.append(f"the {what} module is {mod['head']!r}, not the file {want_path}")
        if mods and not all(r in mods[0]["cmdline"].split() for r in root):
            problems.append(f"the dom0 kernel's command line {mods[0]['cmdline']!r} lacks {root}")
        serial = serial_of(text)
        if serial and not efi:  # grub_efi_boot.py logs COM1 only
            problems += serial_problems(kind, serial, entry, got)
    if problems:
        pytest.fail("\n".join([f"{path}:", *problems, log]), pytrace=False)


# --- the boot test can fail ---------------------------------------------------------------------


def test_grub_boot_reports_missing_initrd(tmp_path: Path) -> None:
    """An entry naming an initrd that is not on the disk: GRUB's own error, no second module."""
    _require_boot_tools("legacy")
    menu = next((p for k, p in (p.values for p in _cases()) if k == "legacy"), None)
    if menu is None:
        pytest.skip("no menu.lst in the corpus")
    text = menu.read_text(encoding="utf-8")
    entry = parse_menu_lst(text)
    cfg = tmp_path / "menu.lst"
    cfg.write_text(bootable_copy("legacy", text), encoding="utf-8")
    entry.modules = entry.modules[:1]  # the initrd is not put on the disk
    got, log = grub_boot("legacy", cfg, entry, tmp_path)
    assert any("Error 15: File not found" in e for e in got["grub_errors"]), log
    assert len(got["modules"]) != 2, log


def _serial_menu() -> Path | None:
    return next((p for k, p in (p.values for p in _cases()) if k == "legacy" and serial_of(p.read_text(encoding="utf-8"))), None)


def test_corpus_has_a_serial_console_on_com2() -> None:
    """The serial checks mean something only if a menu.lst in the corpus uses COM2."""
    menu = _serial_menu()
    assert menu is not None and serial_of(menu.read_text(encoding="utf-8"))[0] == 1


def test_grub_serial_on_the_wrong_port_is_silent(tmp_path: Path) -> None:
    """A menu.lst whose GRUB talks on COM1 while Xen is told COM2: the boot shows it."""
    _require_boot_tools("legacy")
    menu = _serial_menu()
    if menu is None:
        pytest.skip("no menu.lst with a serial console in the corpus")
    text = SERIAL_LINE.sub(lambda m: f"serial --unit=0 --speed={m.group(2)}", menu.read_text(encoding="utf-8"))
    entry = parse_menu_lst(text)
    cfg = tmp_path / "menu.lst"
    cfg.write_text(bootable_copy("legacy", text), encoding="utf-8")
    got, log = grub_boot("legacy", cfg, entry, tmp_path)
    assert got["cmdline"] is not None, log  # it booted: only the port is wrong
    problems = serial_problems("legacy", serial_of(text), entry, got)
    assert any("lacks 'com1=" in p for p in problems), (problems, log)
    # and the right file passes the same check on the same boot machinery
    good = menu.read_text(encoding="utf-8")
    cfg.write_text(bootable_copy("legacy", good), encoding="utf-8")
    got, log = grub_boot("legacy", cfg, parse_menu_lst(good), tmp_path)
    assert serial_problems("legacy", serial_of(good), parse_menu_lst(good), got) == [], log


def test_grub_entry_naming_another_gpt_partition_fails(tmp_path: Path) -> None:
    """A GPT layout's entry (the uefi case: an ESP, then /boot's RAID member, `hd0,gpt2`) with
    the partition number one off: the disk is laid out as the kickstart says, so GRUB finds no
    such partition and loads nothing."""
    _require_boot_tools("grub2")
    path = CASES / "uefi" / "expected" / "dom0s" / "uefi9.uefi.test" / "grub" / "grub.cfg"
    disk = boot_disk(path)
    assert disk == ("gpt", 2), disk
    good = path.read_text(encoding="utf-8")
    assert "set root='hd0,gpt2'" in good
    bad = good.replace("set root='hd0,gpt2'", "set root='hd0,gpt3'")
    entry = parse_grub_cfg(bad)
    cfg = tmp_path / "grub.cfg"
    cfg.write_text(bootable_copy("grub2", bad), encoding="utf-8")
    got, log = grub_boot("grub2", cfg, entry, tmp_path, disk)
    assert got["cmdline"] is None, log  # the probe kernel never ran
    assert got["grub_errors"], log
