"""The debootstrap install of a Debian guest (`dom0s/<fqdn>/install/<guest>.sh`), run for real.

The rendered script of `examples/debian-site.toml`'s `saga` (pv-pygrub, from the mirror:
linux-image-amd64 and the guest's own packages) runs as root against a loop device standing in
for its volume (only its DEVICE line is changed): real mkfs.ext4, real debootstrap from the
mirror, chroot, chpasswd and linux-base. Then pygrub of Xen 4.17 reads the volume as it would
at `xl create` and must boot the installed kernel with the grub.cfg's `root=/dev/xvda`; the
volume holds the fabric's name, address, fstab, root hash and packages. A second run refuses the
volume (it is not blank), and a run for a suite that does not exist fails and leaves the volume
blank again (the script's trap), so that the next provision.sh run installs it again.

The end-to-end test (tests/e2e) boots the other mode, a guest on dom0's kernel installed from a
tarball, under real Xen. Needs root, debootstrap, e2fsprogs, losetup, pygrub (xen-utils-4.17)
and the mirror (deb.debian.org, or XENFAB_DEBIAN_MIRROR); skipped otherwise, or when
XENFAB_DEBOOTSTRAP=skip. About a minute and a half.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLE = ROOT / "examples" / "debian-site.toml"
XENFAB = ROOT / "target" / "debug" / "xenfab"
PYGRUB = sorted(Path("/usr/lib").glob("xen-4.*/bin/pygrub"))
DOM0 = "deb01.example.org"


def _need(ok: bool, what: str) -> None:
    if not ok:
        pytest.skip(f"needs {what}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    _need(os.environ.get("XENFAB_DEBOOTSTRAP") != "skip", "XENFAB_DEBOOTSTRAP unset")
    _need(os.geteuid() == 0, "root (losetup, mount, debootstrap)")
    for tool in ("debootstrap", "mkfs.ext4", "losetup", "mount", "chroot"):
        _need(shutil.which(tool) is not None, tool)
    _need(bool(PYGRUB), "pygrub (xen-utils-4.17)")
    _need(XENFAB.exists(), "target/debug/xenfab (cargo build -p xenfab-cli)")
    tmp = tmp_path_factory.mktemp("debootstrap")
    tree = tmp / "tree"
    subprocess.run([str(XENFAB), "render", str(EXAMPLE), "-o", str(tree)], check=True, capture_output=True)
    image = tmp / "saga.img"
    with image.open("wb") as f:
        f.truncate(2 << 30)
    loop = subprocess.run(["losetup", "-f", "--show", str(image)], check=True, capture_output=True,
                          text=True).stdout.strip()
    script = (tree / "dom0s" / DOM0 / "install" / "saga.sh").read_text(encoding="utf-8")

    def variant(name: str, **values: str) -> Path:
        text = script.replace("DEVICE='/dev/xenvg/saga'", f"DEVICE='{loop}'", 1)
        assert text != script, "no DEVICE line"
        for key, value in values.items():
            text, n = re.subn(rf"^{key}='[^']*'$", f"{key}='{value}'", text, count=1, flags=re.M)
            assert n == 1, key
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return path

    mirror = os.environ.get("XENFAB_DEBIAN_MIRROR")
    run = subprocess.run(["bash", str(variant("saga.sh", **({"MIRROR": mirror} if mirror else {})))],
                         capture_output=True, text=True, check=False)
    try:
        yield tree, image, loop, run, variant
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)


def _mounted(image: Path, tmp: Path, fn):
    mnt = tmp / "mnt"
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "ro,loop", str(image), str(mnt)], check=True)
    try:
        return fn(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_the_install_script_installs_what_pygrub_boots(installed, tmp_path: Path) -> None:
    tree, image, _, run, _ = installed
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "installed Debian 12 (bookworm)" in run.stdout, run.stdout[-2000:]
    out = tmp_path / "pygrub"
    out.mkdir()
    (out / "chosen").touch()  # pygrub opens its --output for writing, without creating it
    boot = subprocess.run([str(PYGRUB[-1]), "--quiet", "--output-format=simple", f"--output-directory={out}",
                           f"--output={out / 'chosen'}", str(image)], capture_output=True, text=True, check=False)
    assert boot.returncode == 0, boot.stdout + boot.stderr
    chosen = dict(line.split(" ", 1) for line in (out / "chosen").read_text(encoding="utf-8").splitlines() if " " in line)
    assert chosen.get("args", "").split() == ["root=/dev/xvda", "ro", "console=hvc0", "net.ifnames=0"], chosen
    kernel = Path(chosen["kernel"]).read_bytes()
    assert kernel[0x202:0x206] == b"HdrS", "pygrub's kernel is no Linux bzImage"
    assert Path(chosen["ramdisk"]).stat().st_size > 1 << 20, chosen

    fabric = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    saga = next(g for d in fabric["dom0s"] for g in d["guests"] if g["name"] == "saga")

    def look(mnt: Path) -> None:
        assert (mnt / "etc/hostname").read_text() == "saga\n"
        assert f"{saga['ip']}\tsaga.example.org\tsaga" in (mnt / "etc/hosts").read_text()
        assert (mnt / "etc/fstab").read_text().split() == ["/dev/xvda", "/", "ext4", "errors=remount-ro", "0", "1"]
        interfaces = (mnt / "etc/network/interfaces").read_text()
        assert f"\taddress {saga['ip']}/24\n\tgateway 192.168.96.254\n" in interfaces, interfaces
        assert "nameserver 192.168.96.1" in (mnt / "etc/resolv.conf").read_text()
        shadow = dict(line.split(":", 2)[:2] for line in (mnt / "etc/shadow").read_text().splitlines())
        assert shadow["root"] == fabric["kickstart"]["root_password"]
        assert os.readlink(mnt / "boot/vmlinuz").startswith("vmlinuz-"), "linux-base's /boot link"
        assert not (mnt / "vmlinuz").is_symlink(), "the default link in / is left"
        status = (mnt / "var/lib/dpkg/status").read_text()
        for pkg in ("linux-image-amd64", "systemd-sysv", "udev", "ifupdown", "openssh-server", "less", "vim-tiny"):
            assert re.search(rf"^Package: {re.escape(pkg)}\nStatus: install ok installed$", status, re.M), pkg

    _mounted(image, tmp_path, look)


def test_a_second_run_refuses_the_installed_volume(installed) -> None:
    _, _, _, first, variant = installed
    assert first.returncode == 0
    again = subprocess.run(["bash", str(variant("again.sh"))], capture_output=True, text=True, check=False)
    assert again.returncode == 1 and "is not blank: refusing" in again.stderr, again.stderr


def test_a_failed_install_leaves_the_volume_blank(installed) -> None:
    _, _, loop, first, variant = installed
    assert first.returncode == 0
    # Make the volume blank as lvcreate leaves it, then install a suite the mirror lacks.
    subprocess.run(["dd", "if=/dev/zero", f"of={loop}", "bs=4096", "count=1", "conv=fsync", "status=none"], check=True)
    bad = subprocess.run(["bash", str(variant("bad.sh", SUITE="bookwrm"))], capture_output=True, text=True,
                         check=False, timeout=300)
    assert bad.returncode != 0, bad.stdout
    assert "the install failed" in bad.stderr, bad.stderr
    with open(loop, "rb") as f:
        assert f.read(4096) == bytes(4096), "the volume is not blank after a failed install"
