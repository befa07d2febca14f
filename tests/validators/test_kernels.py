"""Kernels that exist, and an EL9 dom0 that really gets Xen (issue 11, defect 10).

- The hypervisor's boot entry (``menu.lst``) must load the files the install tree installs.
  An EL5 point release's tree holds one ``kernel-xen``: its GA kernel, listed for each release
  in Red Hat's "Red Hat Enterprise Linux Release Dates" (access.redhat.com/articles/3078). The
  seed pinned ``2.6.18-92.1.6.el5``, an update that no 5.2 tree has; anaconda 11.1 on a 5.2 tree
  writes ``xen.gz-2.6.18-92.el5`` (the CentOS 5.2 grub.conf in the kickstart renderer's
  testdata, written by that anaconda).
- An EL9 dom0 has Xen from a repository (no EL9 tree has it), fails its install when ``xen``
  is missing (``%packages`` without ``--ignoremissing``), enables Xen's systemd units (Xen's
  ``tools/hotplug/Linux/systemd/``: xenstored, xenconsoled, xen-init-dom0, xendomains; there is
  no ``xencommons`` unit) and writes the hypervisor's entry from the kernel it installed
  (GRUB2's ``20_linux_xen``, run by ``grub2-mkconfig``): its ``%post`` is run here with
  stand-ins for those commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

pykickstart = pytest.importorskip("pykickstart")
from pykickstart.constants import KS_MISSING_IGNORE, KS_SCRIPT_POST  # noqa: E402
from pykickstart.parser import KickstartParser  # noqa: E402
from pykickstart.version import makeVersion  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
ANACONDA_5_2_GRUB_CONF = ROOT / "xenfab-core" / "src" / "render" / "kickstart" / "testdata" / "centos-5.2-grub.conf"

# Each EL5 release's GA kernel-xen (Red Hat, access.redhat.com/articles/3078).
EL5_GA = {
    "5.0": "2.6.18-8.el5",
    "5.1": "2.6.18-53.el5",
    "5.2": "2.6.18-92.el5",
    "5.3": "2.6.18-128.el5",
    "5.4": "2.6.18-164.el5",
    "5.5": "2.6.18-194.el5",
    "5.6": "2.6.18-238.el5",
    "5.7": "2.6.18-274.el5",
    "5.8": "2.6.18-308.el5",
    "5.9": "2.6.18-348.el5",
    "5.10": "2.6.18-371.el5",
    "5.11": "2.6.18-398.el5",
}
XEN_UNITS = ["xenstored.service", "xenconsoled.service", "xen-init-dom0.service", "xendomains.service"]


def fabric(case: Path) -> dict:
    toml = case / "fabric.toml"
    if toml.exists():
        return tomllib.loads(toml.read_text(encoding="utf-8"))
    js = case / "fabric.json"
    return json.loads(js.read_text(encoding="utf-8")) if js.exists() else {}


def dom0s(family: str):
    """Each dom0 of a golden tree whose OS is of `family`: its case, FQDN, OS table, inventory."""
    for inv in sorted(CASES.glob("*/expected/inventory/hosts/*.json")):
        host = json.loads(inv.read_text(encoding="utf-8"))
        if host["role"] != "dom0":
            continue
        case = inv.parents[3]
        os_table = fabric(case).get("os", {}).get(host["dom0"]["os"])
        if os_table is None or os_table["family"] != family:
            continue
        fqdn = inv.name.removesuffix(".json")
        yield pytest.param(case, fqdn, os_table, host, id=f"{case.name}/{fqdn}")


def serial_console(case: Path, host: dict) -> tuple[str, int] | None:
    """A dom0's serial console from its case's fabric file: its own `serial_console`, else its
    hardware profile's; the string form is the port at 115200 (docs/fabric-file.md)."""
    doc = fabric(case)
    name = host["dom0"]["name"]
    dom0 = next((d for d in doc.get("dom0s", []) if d.get("name") == name), {})
    value = dom0.get("serial_console") or doc.get("hardware", {}).get(dom0.get("hardware", ""), {}).get("serial_console")
    if value is None:
        return None
    if isinstance(value, str):
        return value, 115200
    return value["port"], value.get("speed", 115200)


EL5_DOM0S = [d for d in dom0s("el5") if "release" in d.values[2]]
EL9_DOM0S = list(dom0s("el9"))


def test_the_corpus_has_both() -> None:
    assert EL5_DOM0S and EL9_DOM0S


def test_anaconda_5_2_installs_the_ga_kernel() -> None:
    """The table's 5.2 kernel is the one anaconda 11.1 wrote into grub.conf on a 5.2 tree."""
    conf = ANACONDA_5_2_GRUB_CONF.read_text(encoding="utf-8")
    assert f"kernel /xen.gz-{EL5_GA['5.2']}\n" in conf
    assert "92.1.6" not in conf


@pytest.mark.parametrize(("case", "fqdn", "os_table", "host"), EL5_DOM0S)
def test_el5_entry_names_the_installed_kernel(case: Path, fqdn: str, os_table: dict, host: dict) -> None:
    entry = (case / "expected" / "dom0s" / fqdn / "grub" / "menu.lst").read_text(encoding="utf-8")
    ga = EL5_GA[os_table["release"]]
    words = [line.split() for line in entry.splitlines()]
    kernel = [w[1] for w in words if w[:1] == ["kernel"]]
    modules = [w[1] for w in words if w[:1] == ["module"]]
    assert kernel and kernel[0].endswith(f"/xen.gz-{ga}"), entry
    assert modules[0].endswith(f"/vmlinuz-{ga}xen") and modules[1].endswith(f"/initrd-{ga}xen.img"), entry


@pytest.mark.parametrize(("case", "fqdn", "os_table", "host"), EL9_DOM0S)
def test_el9_dom0_gets_xen(case: Path, fqdn: str, os_table: dict, host: dict) -> None:
    for name in (f"{fqdn}.ks", f"{fqdn}.reinstall.ks"):
        ks = case / "expected" / "kickstart" / name
        if not ks.exists():
            continue
        handler = makeVersion("RHEL9")
        KickstartParser(handler, followIncludes=False).readKickstart(str(ks))
        assert os_table["xen_repo"] in [r.baseurl for r in handler.repo.repoList], name
        assert "xen" in handler.packages.packageList, name
        assert handler.packages.handleMissing != KS_MISSING_IGNORE, f"{name}: a missing xen would be ignored"
        posts = [s.script for s in handler.scripts if s.type == KS_SCRIPT_POST]
        enabling = [p for p in posts if "systemctl enable" in p]
        assert len(enabling) == 1, posts
        assert all(u in enabling[0].split() for u in XEN_UNITS), enabling[0]


# What GRUB2's 20_linux_xen writes (grub2-tools of EL9: a first entry "<OS>, with Xen
# hypervisor", then a submenu of each Xen and kernel), after the BLS entries' `blscfg`.
GRUB_CFG = """\
### BEGIN /etc/grub.d/10_linux ###
blscfg
### END /etc/grub.d/10_linux ###
### BEGIN /etc/grub.d/20_linux_xen ###
menuentry 'Rocky Linux, with Xen hypervisor' --class rocky --class gnu-linux --class gnu --class os --class xen $menuentry_id_option 'xen-gnulinux-simple-1' {
\tmultiboot2 /xen-4.17.3.gz placeholder $xen_rm_opts ${xen_rm_opts}
}
submenu 'Advanced options for Rocky Linux (with Xen hypervisor)' $menuentry_id_option 'gnulinux-advanced-1' {
\tmenuentry 'Rocky Linux, with Xen 4.17.3 and Linux 5.14.0-427.13.1.el9_4.x86_64' --class xen {
\t}
}
### END /etc/grub.d/20_linux_xen ###
"""


@pytest.mark.parametrize(("case", "fqdn", "os_table", "host"), EL9_DOM0S)
def test_el9_post_writes_the_xen_entry(case: Path, fqdn: str, os_table: dict, host: dict, tmp_path: Path) -> None:
    handler = makeVersion("RHEL9")
    KickstartParser(handler, followIncludes=False).readKickstart(str(case / "expected" / "kickstart" / f"{fqdn}.ks"))
    script = next(s.script for s in handler.scripts if s.type == KS_SCRIPT_POST and "grub2-mkconfig" in s.script)
    default = tmp_path / "default-grub"
    default.write_text('GRUB_TIMEOUT=5\nGRUB_CMDLINE_XEN_DEFAULT="dom0_mem=1024M"\nGRUB_ENABLE_BLSCFG=true\n')
    cfg = tmp_path / "grub.cfg"
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_ins = {
        "systemctl": f'echo "systemctl $*" >>{log}',
        "grub2-set-default": f'echo "grub2-set-default $*" >>{log}',
        # grub2-mkconfig -o FILE, as 20_linux_xen would write it
        "grub2-mkconfig": f'[ "$1" = -o ] && cat >"$2" <<"EOF"\n{GRUB_CFG}EOF',
    }
    for name, body in stand_ins.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    script = script.replace("/etc/default/grub", str(default)).replace("/boot/grub2/grub.cfg", str(cfg))
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    run = subprocess.run(["sh", "-e", "-c", script], capture_output=True, text=True, env=env, check=True)
    assert run.stderr == ""
    calls = log.read_text().splitlines()
    assert calls[-1] == "grub2-set-default Rocky Linux, with Xen hypervisor", calls
    assert calls[0].startswith("systemctl enable ")
    d = host["dom0"]
    lines = default.read_text().splitlines()
    xen = [line for line in lines if line.startswith("GRUB_CMDLINE_XEN_DEFAULT=")]
    serial = serial_console(case, host)
    words = f" {serial[0]}={serial[1]},8n1 console={serial[0]},vga" if serial else ""
    assert xen == [
        f'GRUB_CMDLINE_XEN_DEFAULT="dom0_mem={d["memory"]}M,max:{d["memory"]}M '
        f'dom0_max_vcpus={d["vcpus"]} dom0_vcpus_pin{words}"'
    ], lines
    # dom0's console on Xen's, on the Xen entries only (20_linux_xen's XEN_REPLACE)
    replace = [line for line in lines if line.startswith("GRUB_CMDLINE_LINUX_XEN_REPLACE=")]
    assert replace == (['GRUB_CMDLINE_LINUX_XEN_REPLACE="$GRUB_CMDLINE_LINUX console=hvc0"'] if serial else []), lines
    assert "GRUB_TIMEOUT=5" in lines and "GRUB_ENABLE_BLSCFG=true" in lines


def test_el9_post_says_when_there_is_no_xen_entry(tmp_path: Path) -> None:
    """Without a Xen entry (no /boot/xen*.gz), the %post says so instead of a wrong default."""
    ks = CASES / "example" / "expected" / "kickstart" / "xen03.example.org.ks"
    handler = makeVersion("RHEL9")
    KickstartParser(handler, followIncludes=False).readKickstart(str(ks))
    script = next(s.script for s in handler.scripts if s.type == KS_SCRIPT_POST and "grub2-mkconfig" in s.script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"systemctl": "true", "grub2-set-default": "exit 9", "grub2-mkconfig": 'echo blscfg >"$2"'}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "default-grub").write_text("")
    script = script.replace("/etc/default/grub", str(tmp_path / "default-grub")).replace(
        "/boot/grub2/grub.cfg", str(tmp_path / "grub.cfg")
    )
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    run = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert run.returncode == 0
    assert run.stderr == f"xenfab: no Xen hypervisor entry in {tmp_path / 'grub.cfg'}\n"


# Each EL9 minor release's GA kernel (xenfab-core/src/model/release.rs, `installed_kernel`, which
# cites where each comes from: Rocky Linux's release guide for 9.0 to 9.4, AlmaLinux 9.5 and 9.6
# installs, the Nutanix NKP supported-OS table for 9.6 and Rocky 9.7).
EL9_GA = {
    "9.0": "5.14.0-70.13.1.el9_0",
    "9.1": "5.14.0-162.6.1.el9_1",
    "9.2": "5.14.0-284.11.1.el9_2",
    "9.3": "5.14.0-362.8.1.el9_3",
    "9.4": "5.14.0-427.13.1.el9_4",
    "9.5": "5.14.0-503.11.1.el9_5",
    "9.6": "5.14.0-570.12.1.el9_6",
    "9.7": "5.14.0-611.5.1.el9_7",
}
XENFAB = ROOT / "target" / "debug" / "xenfab"


def _el9_fabric(release: str, kernel: str | None) -> str:
    case = (CASES / "guest-install" / "fabric.toml").read_text(encoding="utf-8")
    line = 'kernel_version = "5.14.0-427.13.1.el9_4.x86_64"\n'
    assert line in case and 'release = "9.4"\n' in case
    case = case.replace('release = "9.4"\n', f'release = "{release}"\n')
    return case.replace(line, f'kernel_version = "{kernel}"\n' if kernel else "")


@pytest.mark.parametrize("release", sorted(EL9_GA))
def test_each_el9_release_names_its_ga_kernel(release: str, tmp_path: Path) -> None:
    """`xenfab validate` takes each release's GA kernel, and refuses the one before it with
    `kernel-not-installed`, naming the right one (the 9.6 and 9.7 rows were `None` before)."""
    if not XENFAB.exists():
        pytest.skip("target/debug/xenfab is not built")
    ga = EL9_GA[release] + ".x86_64"
    good = tmp_path / "good.toml"
    good.write_text(_el9_fabric(release, ga), encoding="utf-8")
    run = subprocess.run([str(XENFAB), "validate", str(good)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    others = [k for r, k in EL9_GA.items() if r != release]
    bad = tmp_path / "bad.toml"
    bad.write_text(_el9_fabric(release, others[-1] + ".x86_64"), encoding="utf-8")
    run = subprocess.run([str(XENFAB), "validate", str(bad)], capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "kernel-not-installed" in run.stderr and f"installs kernel {ga}, not" in run.stderr, run.stderr
