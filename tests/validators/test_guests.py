"""Each dom0's provisioning script (`dom0s/<fqdn>/provision.sh`) is safe to run twice.

Every golden `provision.sh` runs twice in a sandbox: `lvs`, `lvcreate`, `xm`, `xl`, `install`, `ln`
and `mkdir` are stubs first on PATH that log their arguments and keep their state in a temp dir
(a volume exists once `lvcreate` made it; `xm list NAME` succeeds once `xm create` started a
config whose `name` is NAME), and `XEN_DIR` points into that temp dir. `install`, `ln` and
`mkdir` do their work there (with the real programs) and refuse any path outside it.

The first run must create each volume of the dom0's guests once, with `lvcreate -L <size>m -n
<lv> <vg>` as the inventory (`inventory/hosts/<guest>.json`: disks[].size in MiB, vg, lv) says,
install every guest's config and start it with the dom0's toolstack
(`inventory/hosts/<dom0>.json`: toolstack), linked into `$XEN_DIR/auto` unless it is being
installed. A guest that boots its own disk (pygrub, PVH) is special both ways: in state
`install` or `rescue` its config boots the installer's kernel (so does a pypxeboot guest's in
`rescue`), which the script fetches first (`curl` is a stub that writes the URL into the
file), and it is not linked for autostart; in state `localboot` it is not started while its
volume is blank (`dd` is a stub that reads zeros until
the test marks the volume installed). The second run must create nothing, start nothing, leave
the same state, and exit 0. Needs only bash and coreutils.

The other tests read the guests' configs with the real consumers: xl's parser (`xl -N create`
through check_xl_cfg.sh's shim), libvirt's (`virsh define` on the test driver, then `dumpxml`),
pygrub's GrubConf of Xen 4.17, and the Linux and libxl facts each one names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"

# The stubs: one bash script each, $STATE the temp dir. Each logs `NAME ARGS…` to $STATE/log.
STUB_HEAD = """#!/bin/bash
set -eu
printf '%s\\n' "$(basename "$0") $*" >>"$STATE/log"
inside() {  # every path must be in the sandbox
    local p
    for p in "$@"; do
        case $(realpath -m -- "$p") in "$STATE"|"$STATE"/*) ;; *) echo "stub: $p is outside the sandbox" >&2; exit 99;; esac
    done
}
"""
STUBS = {
    # lvs VG/LV: like lvm's, exit 5 when the volume does not exist
    "lvs": """[ $# -eq 1 ] || { echo "lvs stub: one VG/LV, got: $*" >&2; exit 98; }
[ -e "$STATE/lv/$1" ] || { echo "  Failed to find logical volume \\"$1\\"" >&2; exit 5; }
echo "  $1"
""",
    # vgs VG: the volume group exists unless $STATE/no-vg/VG does
    "vgs": """[ $# -eq 1 ] || { echo "vgs stub: one VG, got: $*" >&2; exit 98; }
[ ! -e "$STATE/no-vg/$1" ] || { echo "  Volume group \"$1\" not found" >&2; exit 5; }
echo "  $1"
""",
    # ip link show dev BRIDGE: the bridge exists once $STATE/up/BRIDGE does
    "ip": """[ $# -eq 4 ] && [ "$1 $2 $3" = "link show dev" ] || { echo "ip stub: link show dev BRIDGE, got: $*" >&2; exit 98; }
[ -e "$STATE/up/$4" ] || { echo "Device \"$4\" does not exist." >&2; exit 1; }
""",
    # ifup BRIDGE (Debian dom0s): brings the bridge up
    "ifup": """[ $# -eq 1 ] || { echo "ifup stub: one interface, got: $*" >&2; exit 98; }
[ ! -e "$STATE/up/$1" ] || { echo "ifup: interface $1 already configured" >&2; exit 1; }
/bin/mkdir -p "$STATE/up" && : >"$STATE/up/$1"
""",
    # lvcreate [--yes] -L SIZE -n LV VG
    "lvcreate": """[ "${1:-}" != --yes ] || shift
[ $# -eq 5 ] && [ "$1" = -L ] && [ "$3" = -n ] || { echo "lvcreate stub: [--yes] -L SIZE -n LV VG, got: $*" >&2; exit 98; }
[ ! -e "$STATE/lv/$5/$4" ] || { echo "  Logical Volume \\"$4\\" already exists in volume group \\"$5\\"" >&2; exit 5; }
/bin/mkdir -p "$STATE/lv/$5" && echo "$2" >"$STATE/lv/$5/$4"
echo "  Logical volume \\"$4\\" created."
""",
    # xm/xl create CONFIG | list NAME: a guest runs once a config naming it was created
    "xm": """case "${1:-} $#" in
"create 2") inside "$2"
    [ -r "$2" ] || { echo "$(basename "$0") stub: cannot read $2" >&2; exit 1; }
    name=$(sed -n "s/^name *= *[\\"']\\([^\\"']*\\)[\\"'].*/\\1/p" "$2")
    [ -n "$name" ] || { echo "$(basename "$0") stub: no name in $2" >&2; exit 1; }
    [ ! -e "$STATE/running/$name" ] || { echo "Domain '$name' already exists" >&2; exit 1; }
    /bin/mkdir -p "$STATE/running" && echo "$2" >"$STATE/running/$name";;
"list 2") [ -e "$STATE/running/$2" ] || { echo "Error: Domain '$2' does not exist." >&2; exit 1; }
    echo "$2";;
*) echo "$(basename "$0") stub: create CONFIG or list NAME, got: $*" >&2; exit 98;;
esac
""",
    "install": """inside "${@: -1}"; exec /usr/bin/install "$@"
""",
    "ln": """inside "${@: -1}"; exec /bin/ln "$@"
""",
    "mkdir": """for a in "$@"; do case $a in -*) ;; *) inside "$a";; esac; done; exec /bin/mkdir "$@"
""",
}
STUBS["xl"] = STUBS["xm"]
STUBS.update({
    # curl -fsS -o FILE URL: the file holds the URL it came from
    "curl": """[ $# -eq 4 ] && [ "$1" = -fsS ] && [ "$2" = -o ] || { echo "curl stub: -fsS -o FILE URL, got: $*" >&2; exit 98; }
inside "$3"; printf '%s\\n' "$4" >"$3"
""",
    # dd if=/dev/VG/LV bs=4096 count=1: zeros, or a boot sector once $STATE/installed/VG/LV exists
    "dd": """case "$1" in if=/dev/*) lv=${1#if=/dev/};; *) echo "dd stub: if=/dev/VG/LV, got: $*" >&2; exit 98;; esac
[ -e "$STATE/lv/$lv" ] || { echo "dd: failed to open '/dev/$lv': No such file or directory" >&2; exit 1; }
if [ -e "$STATE/installed/$lv" ]; then printf 'MBR\\0\\0'; else head -c 4096 /dev/zero; fi
""",
    # bash install/NAME.sh: provision.sh running a Debian guest's debootstrap install (render/
    # debootstrap): the volume of its DEVICE line is installed (not blank from now on). Any
    # other bash is bash.
    "bash": """case ${1:-} in
install/*.sh)
    lv=$(/bin/sed -n "s|^DEVICE='/dev/\\(.*\\)'$|\\1|p" "$1")
    [ -e "$STATE/lv/$lv" ] || { echo "bash stub: $1 installs $lv, which does not exist" >&2; exit 97; }
    /bin/mkdir -p "$STATE/installed/$(dirname "$lv")"; : > "$STATE/installed/$lv"
    exit 0;;
esac
exec /bin/bash "$@"
""",
    "mv": """inside "${@: -1}"; exec /bin/mv "$@"
""",
    "rm": """for a in "$@"; do case $a in -*) ;; *) inside "$a";; esac; done; exec /bin/rm "$@"
""",
})

# What the configs of guests being installed name as the installers' folder on dom0
# (xenfab-core/src/model/guest_boot.rs, INSTALLER_DIR).
INSTALLER_DIR = "/var/lib/xen/boot"
OWN_DISK = ("pv-pygrub", "pvh")


def _direct(g: dict) -> bool:
    """True for a guest whose config boots its installer directly (model/guest_boot.rs):
    pygrub or PVH in state install or rescue, pypxeboot in state rescue; never a Debian guest,
    which debootstrap installs from dom0 (its install/<name>.sh)."""
    if g.get("_debootstrap"):
        return False
    return (g["mode"] in OWN_DISK and g["state"] in ("install", "rescue")) or (
        g["mode"] == "pv-pypxeboot" and g["state"] == "rescue")


def _dom0s() -> list:
    params = []
    for script in sorted(CASES.glob("*/expected/dom0s/*/provision.sh")):
        params.append(pytest.param(script, id=f"{script.parents[3].name}/{script.parent.name}"))
    return params or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="no golden provision.sh"))]


def _inventory(script: Path) -> tuple[str, list[dict]]:
    """The dom0's toolstack and its guests, from the golden inventory beside it."""
    hosts = script.parents[2] / "inventory" / "hosts"
    fqdn = script.parent.name
    dom0 = json.loads((hosts / f"{fqdn}.json").read_text(encoding="utf-8"))["dom0"]
    guests = []
    for name in dom0["guests"]:
        found = [g for g in map(lambda p: json.loads(p.read_text(encoding="utf-8")), hosts.glob(f"{name}.*.json"))
                 if g.get("role") == "guest" and g.get("dom0") == fqdn and g.get("name") == name]
        assert len(found) == 1, f"{hosts}: no single inventory file for guest {name} of {fqdn}"
        found[0]["_debootstrap"] = (script.parent / "install" / f"{name}.sh").exists()
        guests.append(found[0])
    return dom0["toolstack"], guests


def _bridges(script: Path, sandbox: Path, has_guests: bool = True) -> tuple[list[str], bool]:
    """The bridges SCRIPT needs, and whether it brings them up itself (a Debian dom0's, with
    ifup); the others' dom0s made them already: up in SANDBOX (the `ip` stub's $STATE/up).
    A dom0 with guests needs one at least; one without needs none."""
    text = script.read_text(encoding="utf-8")
    bridges = re.findall(r"^need_bridge '([^']+)'$", text, re.M)
    if has_guests:
        assert bridges, f"{script}: no need_bridge line"
    else:
        assert not bridges, f"{script}: a dom0 without guests needs no bridge: {bridges}"
    debian = "\n    ifup \"$1\"\n" in text
    if not debian:
        (sandbox / "up").mkdir(exist_ok=True)
        for b in bridges:
            (sandbox / "up" / b).touch()
    return bridges, debian


def _run(script: Path, sandbox: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{sandbox / 'bin'}:/usr/bin:/bin",
        "STATE": str(sandbox),
        "XEN_DIR": str(sandbox / "etc" / "xen"),
        "INSTALLER_DIR": str(sandbox / INSTALLER_DIR.lstrip("/")),
        "LANG": "C",
        "HOME": str(sandbox),
    }
    return subprocess.run(["bash", str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          encoding="utf-8", errors="replace", timeout=60, check=False)


def _state(sandbox: Path) -> dict:
    return {
        p.relative_to(sandbox).as_posix(): (os.readlink(p) if p.is_symlink() else p.read_bytes())
        for p in sorted(sandbox.rglob("*"))
        if (p.is_file() or p.is_symlink()) and p.parent.name != "bin" and p.name != "log"
    }


@pytest.mark.parametrize("script", _dom0s())
def test_provision_sh_is_safe_to_run_twice(script: Path, tmp_path: Path) -> None:
    _provision_twice(script, script, tmp_path)


def test_a_script_that_starts_a_running_guest_fails(tmp_path: Path) -> None:
    """The check can go red: a copy whose `start` does not ask `xm list` first."""
    golden = CASES / "example" / "expected" / "dom0s" / "xen01.example.org" / "provision.sh"
    copy = tmp_path / "dom0" / "provision.sh"
    copy.parent.mkdir()
    (copy.parent / "xen").symlink_to(golden.parent / "xen")
    copy.write_text(golden.read_text(encoding="utf-8").replace('if xm list "$1"', "if false"), encoding="utf-8")
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    with pytest.raises(AssertionError, match="second run: exit 1"):
        _provision_twice(copy, golden, sandbox)


def _provision_twice(script: Path, golden: Path, tmp_path: Path) -> None:
    """Run SCRIPT twice in the sandbox TMP_PATH; GOLDEN's tree holds the inventory and configs."""
    toolstack, guests = _inventory(golden)
    (tmp_path / "bin").mkdir()
    for name, body in STUBS.items():
        stub = tmp_path / "bin" / name
        stub.write_text(STUB_HEAD + body, encoding="utf-8")
        stub.chmod(0o755)
    xen_dir = tmp_path / "etc" / "xen"
    xen_dir.mkdir(parents=True)
    log = tmp_path / "log"
    bridges, debian = _bridges(script, tmp_path, bool(guests))

    first = _run(script, tmp_path)
    assert first.returncode == 0, f"first run: exit {first.returncode}\n{first.stdout}"
    calls = log.read_text(encoding="utf-8").splitlines()
    yes = "--yes " if toolstack == "xl" else ""
    want_volumes = sorted(f"lvcreate {yes}-L {d['size']}m -n {d['lv']} {d['vg']}" for g in guests for d in g["disks"])
    ifups = sorted(c for c in calls if c.startswith("ifup "))
    assert ifups == (sorted(f"ifup {b}" for b in bridges) if debian else []), first.stdout
    assert sorted(c for c in calls if c.startswith("lvcreate ")) == want_volumes, first.stdout
    configs = {g["name"]: g["name"] + (".cfg" if toolstack == "xl" else "") for g in guests}
    installing = {g["name"] for g in guests if _direct(g)}
    debootstrapped = {g["name"] for g in guests if g["_debootstrap"]}
    blank = {g["name"] for g in guests if g["mode"] in OWN_DISK and not _direct(g)} - debootstrapped
    assert sorted(c for c in calls if c.startswith("bash install/")) == sorted(
        f"bash install/{n}.sh" for n in debootstrapped), first.stdout
    for name, config in configs.items():
        source = golden.parent / "xen" / config
        installed, link = xen_dir / config, xen_dir / "auto" / config
        assert installed.read_bytes() == source.read_bytes(), f"{installed} is not {source}"
        assert installed.stat().st_mode & 0o777 == 0o644, f"{installed}: mode {installed.stat().st_mode:o}"
        if name in installing:
            assert not link.exists() and not link.is_symlink(), f"{link}: a guest being installed or rescued is linked for autostart"
        else:
            assert link.is_symlink() and os.readlink(link) == f"../{config}", f"{link} does not link to ../{config}"
            assert link.resolve() == installed.resolve()
    started = {n: c for n, c in configs.items() if n not in blank}
    creates = sorted(c for c in calls if c.startswith(("xm create", "xl create")))
    assert creates == sorted(f"{toolstack} create {xen_dir / c}" for c in started.values()), first.stdout
    running = tmp_path / "running"
    assert (sorted(p.name for p in running.iterdir()) if running.exists() else []) == sorted(started), first.stdout
    for name in blank:
        assert f"guest {name} not started: volume" in first.stdout, first.stdout
    fetched = [c for c in calls if c.startswith("curl ")]
    assert bool(fetched) == bool(installing), first.stdout
    state = _state(tmp_path)

    log.write_text("", encoding="utf-8")
    second = _run(script, tmp_path)
    assert second.returncode == 0, f"second run: exit {second.returncode}\n{second.stdout}"
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [c for c in calls if c.startswith(("lvcreate ", "xm create", "xl create", "ifup ", "bash install/"))] == [], second.stdout
    assert _state(tmp_path) == state, "the second run changed the sandbox"
    for g in guests:
        if g["name"] in blank:
            assert f"guest {g['name']} not started: volume" in second.stdout, second.stdout
        else:
            assert f"guest {g['name']} runs: left alone" in second.stdout, second.stdout
        for d in g["disks"]:
            assert f"volume {d['vg']}/{d['lv']} exists: kept" in second.stdout, second.stdout


# --- the guests' configs, read by the real consumers -------------------------------------------

XL = sorted(Path("/usr/lib").glob("xen-4.*/bin/xl"))
PYGRUB_LIB = sorted(Path("/usr/lib").glob("xen-4.*/lib/python/grub/GrubConf.py"))
LIBXENLIGHT = sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libxenlight.so.4.*"))
BUILD = HERE / "boot" / "build"


def _need(present: bool, what: str) -> None:
    if not present:
        if os.environ.get("XENFAB_REQUIRE_VALIDATORS"):
            pytest.fail(f"{what} is missing (XENFAB_REQUIRE_VALIDATORS is set): run scripts/install-validators")
        pytest.skip(f"{what} is missing: run scripts/install-validators")


def _fabric(case: Path) -> dict:
    """The case's fabric file (TOML), or {} for a case of Quattor profiles."""
    path = case / "fabric.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _guests() -> list:
    """Every golden guest: (case dir, its inventory entry, the dom0's toolstack, its config)."""
    found = []
    for inv in sorted(CASES.glob("*/expected/inventory/hosts/*.json")):
        g = json.loads(inv.read_text(encoding="utf-8"))
        if g.get("role") != "guest":
            continue
        expected = inv.parents[2]
        dom0 = json.loads((inv.parent / f"{g['dom0']}.json").read_text(encoding="utf-8"))["dom0"]
        config = expected / "dom0s" / g["dom0"] / "xen" / (g["name"] + (".cfg" if dom0["toolstack"] == "xl" else ""))
        g["_debootstrap"] = (expected / "dom0s" / g["dom0"] / "install" / f"{g['name']}.sh").exists()
        found.append((expected.parent, g, dom0["toolstack"], config))
    return found


def _family(case: Path, g: dict) -> str | None:
    return _fabric(case).get("os", {}).get(g["os"], {}).get("family")


def _xl_json(config: Path) -> dict:
    """xl's own parser on CONFIG (`xl -N create`): the libxl_domain_config it builds."""
    _need(bool(XL), "xl (xen-utils-4.17)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "domain.json"
        run = subprocess.run(["sh", str(HERE / "check_xl_cfg.sh"), str(config), str(out)],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, f"xl refuses {config}:\n{run.stdout}{run.stderr}"
        return json.loads(out.read_text(encoding="utf-8"))


def _own_disk_guests() -> list:
    params = [pytest.param(case, g, ts, cfg, id=f"{case.name}/{g['name']}")
              for case, g, ts, cfg in _guests() if g["mode"] in OWN_DISK]
    return params or [pytest.param(None, None, None, None, id="none", marks=pytest.mark.skip(reason="no such guest"))]


@pytest.mark.parametrize("case,g,toolstack,config", _own_disk_guests())
def test_a_guest_booting_its_own_disk_boots_the_installer_while_installed(case, g, toolstack, config) -> None:
    """Defect 4: a pygrub or PVH guest in state install must not run pygrub on its blank volume.

    xl's parser reads its config (xm configs too: they are plain assignments): in state install,
    no bootloader, the installer's kernel and initrd that provision.sh puts on dom0, a command
    line with the guest's kickstart URL and address, and `on_reboot` destroy (anaconda reboots
    when done; libxl's JSON leaves `destroy` out); in state localboot, and in state install for
    a Debian guest (debootstrap fills its volume from dom0 before provision.sh starts it),
    pygrub and the guest's own `on_reboot`."""
    dom = _xl_json(config)
    b_info = dom["b_info"]
    assert dom["c_info"]["type"] == ("pvh" if g["mode"] == "pvh" else "pv")
    fqdn = g["fqdn"]
    if g["state"] == "rescue":
        _assert_rescue_variant(case, g, dom)
    elif g["state"] == "install" and not g["_debootstrap"]:
        assert "bootloader" not in b_info, b_info
        assert b_info.get("kernel") == f"{INSTALLER_DIR}/{g['boot_image']}/vmlinuz", b_info
        assert b_info.get("ramdisk") == f"{INSTALLER_DIR}/{g['boot_image']}/initrd.img", b_info
        words = b_info.get("cmdline", "").split()
        family = _family(case, g)
        ks_key = {"el9": "inst.ks", None: r"(?:inst\.)?ks"}.get(family, "ks")
        base = _fabric(case).get("install", {}).get("kickstart_url", "").rstrip("/")
        ks = [w for w in words if re.fullmatch(rf"{ks_key}=\S*/{re.escape(fqdn)}\.ks", w)]
        assert len(ks) == 1, words
        assert not base or ks[0].split("=", 1)[1] == f"{base}/{fqdn}.ks", words
        assert f"ip={g['ip']}" in words or any(w.startswith(f"ip={g['ip']}::") for w in words), words
        assert dom.get("on_reboot", "destroy") == "destroy", dom.get("on_reboot")
    else:
        assert b_info.get("bootloader") == ("pygrub" if toolstack == "xl" else "/usr/bin/pygrub"), b_info
        assert "kernel" not in b_info, b_info
        assert dom.get("on_reboot", "destroy") == g["on_reboot"]


@pytest.mark.parametrize("case,g,toolstack,config", _own_disk_guests())
def test_libvirt_boots_the_installer_or_the_disk_as_xl_does(case, g, toolstack, config) -> None:
    """The libvirt domain of the same guests, as libvirt's parser reads it (`virsh define` on the
    test driver, then `dumpxml`): the installer's kernel while installing, pygrub after."""
    _need(shutil.which("virsh") is not None, "virsh (libvirt-clients)")
    xml = config.parents[1] / "libvirt" / f"{g['name']}.xml"
    run = subprocess.run(["virsh", "-q", "-c", "test:///default", f"define {xml}; dumpxml {g['name']}"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    if g["state"] == "rescue":
        assert f"<kernel>{INSTALLER_DIR}/{g['boot_image']}/vmlinuz</kernel>" in out, out
        assert "<bootloader>" not in out and "<on_reboot>destroy</on_reboot>" in out, out
        assert re.search(r"<cmdline>(?:[^<]* )?(?:inst\.)?rescue ", out) and "ks=" not in out, out
    elif g["state"] == "install" and not g["_debootstrap"]:
        assert f"<kernel>{INSTALLER_DIR}/{g['boot_image']}/vmlinuz</kernel>" in out, out
        assert f"<initrd>{INSTALLER_DIR}/{g['boot_image']}/initrd.img</initrd>" in out, out
        assert re.search(rf"<cmdline>[^<]*ks=\S*/{re.escape(g['fqdn'])}\.ks[ <]", out), out
        assert "<bootloader>" not in out and "<on_reboot>destroy</on_reboot>" in out, out
    else:
        assert re.search(r"<bootloader>(/usr/bin/)?pygrub</bootloader>", out) and "<kernel>" not in out, out


def test_memory_has_no_unit_and_means_the_same() -> None:
    """Defect 11: `unit="MiB"` needs libvirt 0.9.11 (formatdomain.html: the unit attribute is
    "since 0.9.11"); RHEL 5's libvirt 0.8.2 reads `<memory>` as a bare number of KiB. Every
    golden domain has no `unit`, and today's libvirt reads the number as the guest's memory in
    KiB (`dumpxml` prints `unit='KiB'`)."""
    _need(shutil.which("virsh") is not None, "virsh (libvirt-clients)")
    seen = 0
    for case, g, _, config in _guests():
        xml = config.parents[1] / "libvirt" / f"{g['name']}.xml"
        text = xml.read_text(encoding="utf-8")
        assert "unit=" not in text, f"{xml}: a unit attribute, which libvirt before 0.9.11 refuses"
        run = subprocess.run(["virsh", "-q", "-c", "test:///default", f"define {xml}; dumpxml {g['name']}"],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"<memory unit='KiB'>{g['memory'] * 1024}</memory>" in run.stdout, run.stdout
        seen += 1
    assert seen


def test_xl_dom0s_name_pygrub_as_libxl_wants() -> None:
    """Defect 11: libxl 4.17 warns "bootloader='/usr/bin/pygrub' is deprecated; use
    bootloader='pygrub' instead" (libxl_bootloader.c; the string is in libxenlight.so) and finds
    a bare `pygrub` in its own folder. No config or domain of a guest of an xl dom0 names the old
    path; xm dom0s (Xen 3, EL5's xen package) keep `/usr/bin/pygrub`, which xend runs as given."""
    _need(bool(LIBXENLIGHT), "libxenlight.so (libxenlight / xen-utils-4.17)")
    assert b"bootloader='/usr/bin/pygrub' is deprecated" in LIBXENLIGHT[-1].read_bytes()
    seen = 0
    for _, g, toolstack, config in _guests():
        if toolstack != "xl":
            continue
        xml = config.parents[1] / "libvirt" / f"{g['name']}.xml"
        for path in (config, xml):
            assert "/usr/bin/pygrub" not in path.read_text(encoding="utf-8"), path
        seen += 1
    assert seen


# EL9's /boot/grub2/grub.cfg as grub2-mkconfig writes it with BLS on (the default): 10_linux
# emits `blscfg`, the entries are files in /boot/loader/entries.
EL9_BLS_GRUB_CFG = """\
set default="${saved_entry}"
insmod part_msdos
insmod xfs
set root='hd0,msdos1'
insmod blscfg
blscfg
"""
# The same with GRUB_ENABLE_BLSCFG=false: 10_linux writes a menuentry a kernel.
EL9_MENUENTRY_GRUB_CFG = """\
set default="${saved_entry}"
menuentry 'Rocky Linux (5.14.0-427.13.1.el9_4.x86_64) 9.4 (Blue Onyx)' --class rocky --class gnu-linux --class gnu --class os --unrestricted $menuentry_id_option 'gnulinux-5.14.0-427.13.1.el9_4.x86_64-advanced-0e4c' {
\tload_video
\tset gfxpayload=keep
\tinsmod gzio
\tinsmod part_msdos
\tinsmod xfs
\tset root='hd0,msdos1'
\tlinux /vmlinuz-5.14.0-427.13.1.el9_4.x86_64 root=/dev/xvda1 ro console=hvc0
\tinitrd /initramfs-5.14.0-427.13.1.el9_4.x86_64.img
}
"""


def _pygrub_images(cfg: str) -> list:
    """The boot entries pygrub (GrubConf.Grub2ConfigFile of Xen 4.17) finds in a grub.cfg."""
    _need(bool(PYGRUB_LIB), "pygrub (xen-utils-4.17)")
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import logging; logging.disable(logging.WARNING)\n"
            "from grub import GrubConf\n"
            "g = GrubConf.Grub2ConfigFile(); g.parse(sys.stdin.read())\n"
            "print(json.dumps([[i.kernel[1], i.initrd[1] if i.initrd else None] for i in g.images]))")
    run = subprocess.run([sys.executable, "-c", code, str(PYGRUB_LIB[-1].parents[1])], input=cfg,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_el9_guests_on_pygrub_turn_bls_off() -> None:
    """Defect 5: pygrub finds nothing to boot in EL9's BLS grub.cfg, and the menuentry one that
    grub2-mkconfig writes with GRUB_ENABLE_BLSCFG=false boots. So the kickstart of every EL9
    guest booted by pygrub (PV or PVH) turns BLS off and rewrites grub.cfg in its %post; the
    %post's edit of /etc/default/grub, run on a copy, leaves exactly one
    GRUB_ENABLE_BLSCFG=false."""
    assert _pygrub_images(EL9_BLS_GRUB_CFG) == []
    assert _pygrub_images(EL9_MENUENTRY_GRUB_CFG) == [
        ["/vmlinuz-5.14.0-427.13.1.el9_4.x86_64", "/initramfs-5.14.0-427.13.1.el9_4.x86_64.img"]]
    seen = 0
    for case, g, _, config in _guests():
        if g["mode"] not in OWN_DISK or _family(case, g) != "el9":
            continue
        ks = (config.parents[3] / "kickstart" / f"{g['fqdn']}.ks").read_text(encoding="utf-8")
        posts = re.findall(r"^%post\n(.*?)^%end\n", ks, re.M | re.S)
        bls = [p for p in posts if "GRUB_ENABLE_BLSCFG" in p]
        assert len(bls) == 1, f"{g['fqdn']}: no %post that turns BLS off:\n{ks}"
        assert re.search(r"^grub2-mkconfig -o /boot/grub2/grub\.cfg$", bls[0], re.M), bls[0]
        with tempfile.TemporaryDirectory() as tmp:
            default = Path(tmp) / "grub"
            default.write_text('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="console=hvc0"\nGRUB_ENABLE_BLSCFG=true\n',
                               encoding="utf-8")
            edit = "\n".join(line.replace("/etc/default/grub", str(default)) for line in bls[0].splitlines()
                             if "/etc/default/grub" in line)
            subprocess.run(["sh", "-euc", edit], check=True)
            lines = default.read_text(encoding="utf-8").splitlines()
            assert [x for x in lines if x.startswith("GRUB_ENABLE_BLSCFG=")] == ["GRUB_ENABLE_BLSCFG=false"], lines
        seen += 1
    assert seen, "no golden EL9 guest booted by pygrub"


XENFSIMAGE = sorted(Path("/usr/lib").glob("xen-4.*/lib/python/xenfsimage*.so"))


def _xenfsimage_reads(image: Path) -> str:
    """What Xen's libxenfsimage (pygrub reads the guest's files with it) says of IMAGE: `ok` when
    it opens the filesystem and finds /grub2/grub.cfg, else its error."""
    lib = XENFSIMAGE[-1].parent
    code = ("import sys, xenfsimage\n"
            "try:\n    fs = xenfsimage.open(sys.argv[1], 0)\nexcept OSError as e:\n    print(e); sys.exit()\n"
            "print('ok' if fs.file_exists('/grub2/grub.cfg') else 'no grub.cfg')")
    env = {**os.environ, "PYTHONPATH": str(lib), "LD_LIBRARY_PATH": str(lib.parent / "x86_64-linux-gnu")}
    run = subprocess.run([sys.executable, "-c", code, str(image)], capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_el9_guests_on_pygrub_put_boot_on_a_filesystem_pygrub_reads(tmp_path: Path) -> None:
    """Defect 5, the filesystem: pygrub reads the guest's /boot through Xen's libxenfsimage,
    which cannot open XFS version 5 (EL9's mkfs.xfs default, crc=1) and reads ext4. The root
    filesystem (which holds /boot) of every golden EL9 guest booted by pygrub is made with its
    kickstart's --fstype and the files of /boot/grub2, and libxenfsimage must find grub.cfg."""
    _need(bool(XENFSIMAGE), "xenfsimage (xen-utils-4.17)")
    for tool in ("mkfs.xfs", "mkfs.ext4"):
        _need(shutil.which(tool) is not None, f"{tool} (xfsprogs, e2fsprogs)")
    root = tmp_path / "root"
    (root / "grub2").mkdir(parents=True)
    (root / "grub2" / "grub.cfg").write_text(EL9_MENUENTRY_GRUB_CFG, encoding="utf-8")

    def image(fstype: str) -> Path:
        img = tmp_path / f"{fstype}.img"
        img.unlink(missing_ok=True)
        with img.open("wb") as f:
            f.truncate(320 << 20)
        if fstype == "xfs":  # what EL9's anaconda makes: version 5 (crc=1)
            subprocess.run(["mkfs.xfs", "-q", "-f", "-m", "crc=1", str(img)], check=True)
        else:
            subprocess.run([f"mkfs.{fstype}", "-q", "-F", "-d", str(root), str(img)], check=True,
                           capture_output=True)
        return img

    assert _xenfsimage_reads(image("xfs")) != "ok"
    seen = 0
    for case, g, _, config in _guests():
        if g["mode"] not in OWN_DISK or _family(case, g) != "el9":
            continue
        ks = (config.parents[3] / "kickstart" / f"{g['fqdn']}.ks").read_text(encoding="utf-8")
        fstype = re.search(r"^part / --fstype=(\S+)", ks, re.M).group(1)
        assert _xenfsimage_reads(image(fstype)) == "ok", f"{g['fqdn']}: pygrub cannot read its / ({fstype})"
        seen += 1
    assert seen


_DISK_WORD = re.compile(r"--(?:ondisk|drives|driveorder)=(\S+)")


def test_hvm_kickstarts_name_the_disk_their_installer_sees() -> None:
    """Defect 9: the kickstart of an HVM guest names the disk as its installer's kernel does.
    The xl/xm config attaches it as `hda` (libxl emulates only hd*/sd* disks, and hvmloader's
    BIOS boots only those). EL3 to EL5 kernels drive the emulated IDE disk as `hda`; an EL9
    kernel unplugs emulated disks (xen_platform_pci=1 is xl's default) and xen-blkfront names
    `hda` `xvda` (drivers/block/xen-blkfront.c, xen_translate_vdev), so anaconda sees no `hda`."""
    seen = set()
    for case, g, _, config in _guests():
        family = _family(case, g)
        if g["mode"] != "hvm" or family is None:
            continue
        vdev = g["disks"][0]["vdev"]
        assert re.search(rf"[,' ]vdev={vdev}[,' ]|,{vdev},", config.read_text(encoding="utf-8")), config
        ks = (config.parents[3] / "kickstart" / f"{g['fqdn']}.ks").read_text(encoding="utf-8")
        names = set(_DISK_WORD.findall(ks))
        want = ("xvd" + vdev[2:]) if family == "el9" and vdev.startswith("hd") else vdev
        assert names == {want}, f"{g['fqdn']} ({family}): kickstart names {names}, its installer sees {want}"
        seen.add(family)
    assert {"el9"} <= seen and seen - {"el9"}, seen


def test_provision_sh_installs_with_the_installer_and_boots_the_disk_after(tmp_path: Path) -> None:
    """provision.sh of guests being installed or rescued (guest-install/xen09): the config it puts
    in $XEN_DIR is the install or rescue variant, and the kernel and initrd it names (libxlutil reads the
    installed file) are the boot image's files fetched from the install server's TFTP root;
    BOOT_URL replaces that server. A pygrub/PVH guest in state localboot is not started on its
    blank volume, and is once the volume holds a boot sector."""
    _need(BUILD.joinpath("xlu-cfg-get").exists(), "boot/build/xlu-cfg-get (libxen-dev, gcc)")
    case = CASES / "guest-install"
    fabric = _fabric(case)
    script = case / "expected" / "dom0s" / "xen09.example.org" / "provision.sh"
    (tmp_path / "bin").mkdir()
    for name, body in STUBS.items():
        stub = tmp_path / "bin" / name
        stub.write_text(STUB_HEAD + body, encoding="utf-8")
        stub.chmod(0o755)
    (tmp_path / "etc" / "xen").mkdir(parents=True)
    _bridges(script, tmp_path)
    run = _run(script, tmp_path)
    assert run.returncode == 0, run.stdout
    installing = [g for _, g, _, _ in _guests() if g["dom0"] == "xen09.example.org" and _direct(g)]
    # tyr is installed; vili (PVH, EL9), forseti (pygrub, EL5) and ran (pygrub, EL9) are rescued.
    assert {g["name"] for g in installing} == {"tyr", "vili", "forseti", "ran"}
    for g in installing:
        cfg = tmp_path / "etc" / "xen" / f"{g['name']}.cfg"
        got = json.loads(subprocess.run([str(BUILD / "xlu-cfg-get"), str(cfg), "kernel", "ramdisk", "bootloader"],
                                        capture_output=True, text=True, check=True).stdout)
        assert "bootloader" not in got, got
        image = fabric["boot_images"][g["boot_image"]]
        server = fabric["install"]["next_server"]
        for key, path in (("kernel", image["kernel"]), ("ramdisk", image["initrd"])):
            fetched = tmp_path / got[key].lstrip("/")
            assert fetched.read_text(encoding="utf-8") == f"tftp://{server}/{path}\n", key
    assert "guest baldr not started: volume xenvg/baldr is blank" in run.stdout, run.stdout
    assert not (tmp_path / "running" / "baldr").exists()

    # The install wrote a boot sector on baldr's volume: the next run starts it.
    (tmp_path / "installed" / "xenvg").mkdir(parents=True)
    (tmp_path / "installed" / "xenvg" / "baldr").touch()
    again = _run(script, tmp_path)
    assert again.returncode == 0, again.stdout
    assert (tmp_path / "running" / "baldr").read_text(encoding="utf-8").strip().endswith("/etc/xen/baldr.cfg")

    # BOOT_URL: another URL of the same tree.
    env_script = tmp_path / "with-boot-url.sh"
    env_script.write_text(f"BOOT_URL=http://192.168.96.1/tftpboot exec bash {script}\n", encoding="utf-8")
    third = _run(env_script, tmp_path)
    assert third.returncode == 0, third.stdout
    kernel = tmp_path / INSTALLER_DIR.lstrip("/") / "r9" / "vmlinuz"
    assert kernel.read_text(encoding="utf-8") == "http://192.168.96.1/tftpboot/rocky-9/x86_64/vmlinuz\n"


def test_provision_sh_stops_before_anything_without_its_volume_group_or_bridge(tmp_path: Path) -> None:
    """The checks before the first lvcreate: a missing volume group, a missing bridge on an EL
    dom0 (its kickstart makes it), each stop the run with a message and nothing created."""
    script = CASES / "example" / "expected" / "dom0s" / "xen03.example.org" / "provision.sh"
    for what, setup, message in (
        ("vg", lambda box: (box / "no-vg").mkdir() or (box / "no-vg" / "xenvg").touch(),
         "volume group xenvg does not exist on this dom0"),
        ("bridge", lambda box: None, "bridge xenbr0 does not exist on this dom0"),
    ):
        box = tmp_path / what
        (box / "bin").mkdir(parents=True)
        for name, body in STUBS.items():
            stub = box / "bin" / name
            stub.write_text(STUB_HEAD + body, encoding="utf-8")
            stub.chmod(0o755)
        (box / "etc" / "xen").mkdir(parents=True)
        if what == "vg":
            _bridges(script, box)
        setup(box)
        run = _run(script, box)
        assert run.returncode == 1 and message in run.stdout, run.stdout
        calls = (box / "log").read_text(encoding="utf-8").splitlines()
        assert not [c for c in calls if c.startswith(("lvcreate", "xl ", "install ", "ln "))], calls


def test_provision_sh_of_a_debian_dom0_brings_a_bridge_up(tmp_path: Path) -> None:
    """A Debian dom0's bridges are in its /etc/network/interfaces: a bridge the boot did not
    bring up is brought up with ifup, once."""
    script = CASES / "debian-e2e" / "expected" / "dom0s" / "dom0.e2e.test" / "provision.sh"
    bridges, debian = _bridges(script, tmp_path)
    assert debian and bridges == ["xenbr0", "xenbr1"], bridges
    _provision_twice(script, script, tmp_path)


# --- rescue: guests without a network rescue entry boot the installer directly --------------------

def _rescue_guests() -> list:
    params = [pytest.param(case, g, ts, cfg, id=f"{case.name}/{g['name']}")
              for case, g, ts, cfg in _guests() if g["state"] == "rescue" and _direct(g)]
    return params or [pytest.param(None, None, None, None, id="none", marks=pytest.mark.skip(reason="no such guest"))]


def _assert_rescue_variant(case: Path, g: dict, dom: dict) -> None:
    """What the installer's own parsers need to start rescue mode without stopping at a screen
    (xenfab-core/src/model/guest_boot.rs, `installer_boot` and `rescue_args`):

    - EL3 to EL5, anaconda's loader (loader2/loader.c): the bare word `rescue`; `method=` the
      install tree (skips the "Rescue Method" menu); `lang=` and `keymap=` (skip `STEP_LANG` and
      `STEP_KBD`: with no kickstart nothing else answers them); `ip=`, `netmask=`, `gateway=`
      (`ipinfo_set`: no TCP/IP screen); no `ks=`.
    - EL9, anaconda with dracut (docs/boot-options.rst): `inst.rescue`, `inst.repo=` the tree,
      dracut's `ip=<ip>::<gw>:<mask>:<host>::none` and `nameserver=`; no `inst.ks=`.
    """
    b_info = dom["b_info"]
    assert "bootloader" not in b_info, b_info
    assert b_info.get("kernel") == f"{INSTALLER_DIR}/{g['boot_image']}/vmlinuz", b_info
    assert b_info.get("ramdisk") == f"{INSTALLER_DIR}/{g['boot_image']}/initrd.img", b_info
    assert dom.get("on_reboot", "destroy") == "destroy", dom.get("on_reboot")
    words = b_info.get("cmdline", "").split()
    fabric = _fabric(case)
    os_table = fabric["os"][g["os"]]
    tree = os_table["install_url"]
    assert not [w for w in words if re.match(r"(inst\.)?ks(=|$)", w)], words
    if os_table["family"] == "el9":
        assert "inst.rescue" in words and f"inst.repo={tree}" in words, words
        assert "rescue" not in words, words
        ip = [w for w in words if w.startswith("ip=")]
        assert ip and re.fullmatch(rf"ip={re.escape(g['ip'])}::[\d.]+:[\d.]+:{re.escape(g['fqdn'])}::none", ip[0]), words
        assert any(w.startswith("nameserver=") for w in words), words
    else:
        assert "rescue" in words and f"method={tree}" in words, words
        for key in ("lang=", "keymap=", "netmask=", "gateway=", "ksdevice="):
            assert any(w.startswith(key) and len(w) > len(key) for w in words), (key, words)
        assert f"ip={g['ip']}" in words, words


@pytest.mark.parametrize("case,g,toolstack,config", _rescue_guests())
def test_a_guest_without_a_network_rescue_entry_boots_the_installer_in_rescue_mode(case, g, toolstack, config) -> None:
    """pygrub, PVH (EL5 and EL9) and pypxeboot guests in state rescue: xl's parser (`xl -N
    create`) reads the config; for xm dom0s so does the xm checker (Python literals, the syntax
    xend exec'd). No bootloader (pypxeboot cannot pass the bare word `rescue`), the installer
    provision.sh fetches, the rescue words and no kickstart."""
    dom = _xl_json(config)
    assert dom["c_info"]["type"] == ("pvh" if g["mode"] == "pvh" else "pv")
    _assert_rescue_variant(case, g, dom)
    text = config.read_text(encoding="utf-8")
    assert "bootargs" not in text and "bootloader" not in text, text
    assert "The rescue variant" in text, text
    if toolstack == "xm":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "xm.json"
            run = subprocess.run([sys.executable, str(HERE / "check_xm_cfg.py"), str(config), str(out)],
                                 capture_output=True, text=True, check=False)
            assert run.returncode == 0, run.stdout + run.stderr
            xm = json.loads(out.read_text(encoding="utf-8"))
        assert "rescue" in xm["extra"].split() and "bootloader" not in xm, xm
        assert xm["on_reboot"] == "destroy", xm


def test_the_rescue_corpus_has_every_kind() -> None:
    """The rescue tests above see an EL5 and an EL9 guest of each kind that needs them."""
    seen = set()
    for param in _rescue_guests():
        case, g = param.values[0], param.values[1]
        if g is not None:
            seen.add((g["mode"], _family(case, g)))
    assert {("pv-pygrub", "el5"), ("pv-pygrub", "el9"), ("pvh", "el9"), ("pv-pypxeboot", "el5")} <= seen, seen


def test_the_rescue_check_can_fail() -> None:
    """A config that boots the install kickstart, or pygrub, is not a rescue variant."""
    case = CASES / "guest-install"
    g = next(g for c, g, _, _ in _guests() if c == case and g["name"] == "vili")
    base = {"c_info": {"type": "pvh"}, "on_reboot": "destroy", "b_info": {
        "kernel": f"{INSTALLER_DIR}/r9/vmlinuz", "ramdisk": f"{INSTALLER_DIR}/r9/initrd.img",
        "cmdline": "inst.rescue inst.repo=http://192.168.96.1/rocky/9/BaseOS/x86_64/os "
                   "ip=192.168.96.70::192.168.96.254:255.255.255.0:vili.example.org::none nameserver=192.168.96.1"}}
    _assert_rescue_variant(case, g, base)
    for bad in ({"cmdline": base["b_info"]["cmdline"] + " inst.ks=http://192.168.96.1/ks/vili.example.org.ks"},
                {"cmdline": base["b_info"]["cmdline"].replace("inst.rescue ", "")},
                {"bootloader": "pygrub"},
                {"kernel": "/boot/vmlinuz"}):
        with pytest.raises(AssertionError):
            _assert_rescue_variant(case, g, {**base, "b_info": {**base["b_info"], **bad}})


XENFAB = HERE.parents[1] / "target" / "debug" / "xenfab"


def _xenfab(*args: str) -> subprocess.CompletedProcess:
    _need(XENFAB.exists(), "target/debug/xenfab (cargo build -p xenfab-cli)")
    return subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)


def test_rescue_then_localboot_boots_the_disk_again(tmp_path: Path) -> None:
    """The lifecycle with the command: `xenfab boot GUEST rescue` records the state of a guest
    that has no network rescue entry (a pygrub guest in localboot), the next render gives it
    the rescue variant, provision.sh fetches the installer its config names and does not link
    it for autostart; `xenfab boot GUEST localboot` and a render give it (and the guests the
    fabric has in rescue: PVH, pypxeboot) their disk config again."""
    _need(BUILD.joinpath("xlu-cfg-get").exists(), "boot/build/xlu-cfg-get (libxen-dev, gcc)")
    fabric_file = CASES / "guest-install" / "fabric.toml"
    fabric = _fabric(CASES / "guest-install")
    out = tmp_path / "out"
    run = _xenfab("render", str(fabric_file), "-o", str(out))
    assert run.returncode == 0, run.stderr
    # freyja: pygrub, EL5, installed (localboot in the fabric file).
    run = _xenfab("boot", "freyja", "rescue", "--fabric", str(fabric_file), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "", run.stdout  # no link: its config says what it boots
    assert "freyja.example.org: rescue" in run.stderr and "rescue mode" in run.stderr, run.stderr
    assert _xenfab("render", str(fabric_file), "-o", str(out)).returncode == 0
    dom0 = out / "dom0s" / "xen05.example.org"
    freyja = dom0 / "xen" / "freyja"
    dom = _xl_json(freyja)
    g = {"name": "freyja", "os": "c5", "boot_image": "c5-xen", "ip": "192.168.96.62", "fqdn": "freyja.example.org"}
    _assert_rescue_variant(CASES / "guest-install", g, dom)

    # provision.sh: the installer the config names is the one it fetched; no autostart link.
    sandbox = tmp_path / "sandbox"
    (sandbox / "bin").mkdir(parents=True)
    for name, body in STUBS.items():
        stub = sandbox / "bin" / name
        stub.write_text(STUB_HEAD + body, encoding="utf-8")
        stub.chmod(0o755)
    (sandbox / "etc" / "xen").mkdir(parents=True)
    _bridges(dom0 / "provision.sh", sandbox)
    ran = _run(dom0 / "provision.sh", sandbox)
    assert ran.returncode == 0, ran.stdout
    for name in ("freyja", "bor", "vidar"):
        cfg = sandbox / "etc" / "xen" / name
        got = json.loads(subprocess.run([str(BUILD / "xlu-cfg-get"), str(cfg), "kernel", "ramdisk", "bootloader", "extra"],
                                        capture_output=True, text=True, check=True).stdout)
        assert "bootloader" not in got and "rescue" in got["extra"].split(), got
        image = fabric["boot_images"]["c5-xen"]
        for key, path in (("kernel", image["kernel"]), ("ramdisk", image["initrd"])):
            fetched = sandbox / got[key].lstrip("/")
            assert fetched.read_text(encoding="utf-8") == f"tftp://{fabric['install']['next_server']}/{path}\n", key
        assert not (sandbox / "etc" / "xen" / "auto" / name).is_symlink(), f"{name}: rescue variant linked for autostart"
        assert (sandbox / "running" / name).read_text(encoding="utf-8").strip() == str(cfg), name
    # A guest that runs is left alone, with how to boot it on the installer.
    again = _run(dom0 / "provision.sh", sandbox)
    assert again.returncode == 0, again.stdout
    assert "guest freyja runs: left alone; if it runs its own disk, stop it (xm shutdown freyja)" in again.stdout

    # Back to the disk.
    for name in ("freyja", "bor", "vidar", "vili"):
        run = _xenfab("boot", name, "localboot", "--fabric", str(fabric_file), "-o", str(out))
        assert run.returncode == 0, (name, run.stderr)
    assert _xenfab("render", str(fabric_file), "-o", str(out)).returncode == 0
    for name in ("freyja", "bor"):
        dom = _xl_json(dom0 / "xen" / name)
        assert dom["b_info"].get("bootloader") == "/usr/bin/pygrub" and "kernel" not in dom["b_info"], dom["b_info"]
        assert dom.get("on_reboot", "destroy") == "restart", dom
    vidar = (dom0 / "xen" / "vidar").read_text(encoding="utf-8")
    assert 'bootloader = "/usr/bin/pypxeboot"' in vidar and "kernel =" not in vidar, vidar
    vili = _xl_json(out / "dom0s" / "xen09.example.org" / "xen" / "vili.cfg")
    assert vili["b_info"].get("bootloader") == "pygrub" and "kernel" not in vili["b_info"], vili["b_info"]
    provision = (dom0 / "provision.sh").read_text(encoding="utf-8")
    assert "start_installed 'freyja' 'freyja' 'xenvg' 'freyja'" in provision, provision
    assert "autostart 'freyja'\n" in provision and "no_autostart 'freyja'" not in provision
