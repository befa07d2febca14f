"""The commands that convert a user's own files, checked by the files' real consumers.

- ``xenfab ks reinstall``: the seed's two partitioning snippets, made into complete kickstart
  files (``tests/fixtures/kickstart/``), convert to files that pykickstart accepts for their
  version, with ``xenvg`` kept (``--noformat``) and no ``clearpart``.
- ``xenfab xend-config``: real ``xend-config.sxp`` files (``tests/fixtures/xend-config/``) are
  edited to files the xend checker accepts, with every original setting still there.

The ``xenfab`` binary is ``target/debug/xenfab`` (built by ``cargo test``) unless ``XENFAB``
names another.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))


def xenfab(*args: str) -> subprocess.CompletedProcess[str]:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`")
    return subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)


def check_kickstart(path: Path, version: str) -> None:
    r = subprocess.run(
        [sys.executable, str(HERE / "check_kickstart.py"), str(path), version],
        capture_output=True, text=True, check=False,
        env={k: v for k, v in os.environ.items() if k != "KS_ALLOW_DEPRECATED"},
    )
    assert r.returncode == 0, r.stdout + r.stderr


def settings(path: Path) -> dict[str, str]:
    r = subprocess.run([sys.executable, str(HERE / "check_xend_sxp.py"), str(path)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.splitlines()[0])


@pytest.mark.parametrize(
    ("fixture", "version"),
    [("seed-softraid1.ks", "RHEL5"), ("seed-hwraid10.ks", "RHEL5"), ("seed-softraid1-el9.ks", "RHEL9")],
)
def test_ks_reinstall_keeps_the_guests(fixture: str, version: str, tmp_path: Path) -> None:
    source = FIXTURES / "kickstart" / fixture
    check_kickstart(source, version)  # the input is valid to begin with
    out = tmp_path / "reinstall.ks"
    r = xenfab("ks", "reinstall", str(source), "-o", str(out))
    assert r.returncode == 0, r.stderr
    check_kickstart(out, version)
    text = out.read_text()
    assert re.search(r"^volgroup xenvg\b.*--noformat", text, re.M), text
    assert not re.search(r"^(clearpart|part raid\.|part pv\.)", text, re.M), text
    assert "removed `clearpart" in r.stderr  # the notes say what changed
    # Every line outside the layout is kept as it was.
    layout = re.compile(r"^(clearpart|zerombr|part|raid|volgroup|logvol)\b")
    kept = [l for l in source.read_text().splitlines() if not layout.match(l)]
    assert [l for l in text.splitlines() if not layout.match(l) and not l.startswith("# reinstall")] == kept


def test_ks_reinstall_refuses_what_it_cannot_make_safe(tmp_path: Path) -> None:
    source = tmp_path / "unsafe.ks"
    text = (FIXTURES / "kickstart" / "seed-hwraid10.ks").read_text()
    source.write_text(text.replace("volgroup xenvg pv.02", "volgroup xenvg pv.02\nlogvol /srv --vgname=xenvg --size=1024 --name=srv"))
    out = tmp_path / "out.ks"
    # No volume group looks like the guests' any more: it must be named.
    r = xenfab("ks", "reinstall", str(source), "-o", str(out))
    assert r.returncode == 1
    assert "--keep-vg" in r.stderr, r.stderr
    # Named, the group is kept; a volume in it is refused unless named as dom0's own.
    r = xenfab("ks", "reinstall", "--keep-vg", "xenvg", str(source), "-o", str(out))
    assert r.returncode == 1
    assert "--reformat-lv xenvg/srv" in r.stderr, r.stderr
    assert not out.exists()
    r = xenfab("ks", "reinstall", "--keep-vg", "xenvg", "--reformat-lv", "xenvg/srv", str(source), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "volgroup xenvg --noformat" in out.read_text()
    assert "logvol /srv --vgname=xenvg --size=1024 --name=srv --useexisting" in out.read_text()
    check_kickstart(out, "RHEL5")
    out.unlink()
    # A file whose layout it cannot see is refused by its line, and nothing is written.
    included = tmp_path / "included.ks"
    included.write_text(text.replace("clearpart --all --initlabel", "%include /tmp/part-include"))
    r = xenfab("ks", "reinstall", "--keep-vg", "xenvg", str(included), "-o", str(out))
    assert r.returncode == 1
    line = 1 + text.splitlines().index("clearpart --all --initlabel")
    assert f"line {line}" in r.stderr, r.stderr
    assert not out.exists()


@pytest.mark.parametrize("sep", ["\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_ks_reinstall_refuses_other_line_breaks(sep: str, tmp_path: Path) -> None:
    """pykickstart splits lines where Python's splitlines does; xenfab refuses rather than
    read a different file: `lang en_US<sep>clearpart --all` is two lines to anaconda."""
    text = (FIXTURES / "kickstart" / "seed-hwraid10.ks").read_text()
    source = tmp_path / "in.ks"
    source.write_bytes(text.replace("lang en_US.UTF-8\n", f"lang en_US.UTF-8{sep}clearpart --all\n").encode())
    line = 1 + text.splitlines().index("lang en_US.UTF-8")
    out = tmp_path / "out.ks"
    r = xenfab("ks", "reinstall", str(source), "-o", str(out))
    assert r.returncode == 1, r.stderr
    assert f"line {line}:" in r.stderr and "dos2unix" in r.stderr, r.stderr
    assert not out.exists()


def test_ks_reinstall_refuses_a_continuation_line(tmp_path: Path) -> None:
    text = (FIXTURES / "kickstart" / "seed-hwraid10.ks").read_text()
    source = tmp_path / "in.ks"
    source.write_text(text.replace("lang en_US.UTF-8\n", "lang en_US.UTF-8 \\\nclearpart --all\n"))
    r = xenfab("ks", "reinstall", str(source))
    assert r.returncode == 1, r.stderr
    assert "no continuation lines" in r.stderr, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("fixture", ["centos5-stock.sxp", "xen-3.4-default.sxp"])
def test_xend_config_edit_keeps_every_other_setting(fixture: str, tmp_path: Path) -> None:
    source = FIXTURES / "xend-config" / fixture
    before = settings(source)
    edited = tmp_path / "xend-config.sxp"
    edited.write_text(source.read_text())
    r = xenfab("xend-config", "--in-place", str(edited))
    assert r.returncode == 0, r.stderr
    after = settings(edited)
    assert after["dom0-min-mem"] == "0"
    assert after["enable-dom0-ballooning"] == "no"
    for key, value in before.items():
        if key not in ("dom0-min-mem", "enable-dom0-ballooning"):
            assert after.get(key) == value, key
    # and nothing else is added (a file without dom0-cpus gets none: its help says so)
    assert set(after) == set(before) | {"dom0-min-mem", "enable-dom0-ballooning"}
    # Comments survive: every comment line of the original is still there.
    comments = [l for l in source.read_text().splitlines() if l.lstrip().startswith("#")]
    assert all(c in edited.read_text().splitlines() for c in comments)
    # A second run changes nothing.
    again = xenfab("xend-config", str(edited))
    assert again.stdout == edited.read_text()


def test_xend_config_from_a_dom0_of_the_fabric(tmp_path: Path) -> None:
    fabric = tmp_path / "fabric.toml"
    fabric.write_text(xenfab("example").stdout.replace('hardware = "pe1950"', 'hardware = "pe1950"\nvcpus = 2\nballoon = true', 1))
    r = xenfab("xend-config", "--fabric", str(fabric), "--dom0", "xen01", str(FIXTURES / "xend-config" / "centos5-stock.sxp"))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out.sxp"
    out.write_text(r.stdout)
    after = settings(out)
    assert (after["dom0-min-mem"], after["enable-dom0-ballooning"], after["dom0-cpus"]) == ("512", "yes", "2")
