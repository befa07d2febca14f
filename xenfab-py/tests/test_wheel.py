"""The wheel for install servers with an old glibc: manylinux2014 (glibc 2.17, EL7 and later,
so EL8's 2.28 too), abi3 (one wheel for CPython 3.9 and later), built, audited and installed.

A wheel built on this machine links against its glibc (2.36 on Debian 12) and asks for
``GLIBC_2.34`` symbols, which EL8 lacks. ``maturin build --zig --compatibility manylinux2014``
links with zig's glibc 2.17 stubs instead (maturin's documented route without a manylinux
container: https://www.maturin.rs/distribution#use-zig). The test

1. builds that wheel (a debug build: the symbols it needs are those of a release build);
2. has PyPA's ``auditwheel show`` (what PyPI's manylinux policy is checked with) say the
   wheel is consistent with ``manylinux_2_17_x86_64``, and reads the highest ``GLIBC_``
   version it names;
3. installs it with pip into a fresh venv, imports it and renders the example site there,
   byte for byte as the module under test does.

It needs ``ziglang`` and ``auditwheel`` (scripts/test installs both into .venv) and takes about
two minutes of CPU the first time (``target/manylinux2014/`` keeps the build).
``XENFAB_WHEEL=skip`` skips it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import xenfab

ROOT = Path(__file__).resolve().parents[2]
TAG = "manylinux_2_17_x86_64"

pytestmark = [
    pytest.mark.skipif(os.environ.get("XENFAB_WHEEL") == "skip", reason="XENFAB_WHEEL=skip"),
    pytest.mark.skipif(platform.machine() != "x86_64", reason="the manylinux2014 wheel is built for x86_64"),
]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        pytest.fail(f"{exe} is missing: `pip install maturin ziglang auditwheel` into this venv")
    return str(exe)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    try:
        import ziglang  # noqa: F401  (maturin --zig runs `python -m ziglang`)
    except ImportError:
        pytest.fail("ziglang is missing: `pip install ziglang` into this venv")
    env = {
        **os.environ,
        "CARGO_TARGET_DIR": str(ROOT / "target" / "manylinux2014"),
        # maturin finds zig through the interpreter's ziglang package
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    r = subprocess.run(
        [_tool("maturin"), "build", "--zig", "--compatibility", "manylinux2014", "--locked",
         "-i", sys.executable, "--out", str(out), "--manifest-path", str(ROOT / "xenfab-py" / "Cargo.toml")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    wheels = list(out.glob("xenfab-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_is_manylinux2014_and_abi3(wheel: Path) -> None:
    assert "-cp39-abi3-" in wheel.name, wheel.name
    assert "manylinux2014_x86_64" in wheel.name, wheel.name
    r = subprocess.run([_tool("auditwheel"), "show", str(wheel)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert f'is consistent with the following platform tag: "{TAG}"' in text, r.stdout
    versions = [tuple(int(n) for n in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", text)]
    assert versions, r.stdout
    assert max(versions) <= (2, 17), r.stdout


def test_the_wheel_installs_and_renders_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    r = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", str(wheel)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    probe = (
        "import json, sys, xenfab\n"
        "tree = xenfab.Fabric.from_toml(xenfab.example(), 'site.toml').render()\n"
        "flat = {p: v if isinstance(v, str) else ['link', v.target] for p, v in tree.items()}\n"
        "json.dump({'file': xenfab.__file__, 'tree': flat}, sys.stdout)\n"
    )
    r = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert Path(got["file"]).is_relative_to(env_dir), got["file"]
    want = xenfab.Fabric.from_toml(xenfab.example(), "site.toml").render()
    assert len(want) > 50
    assert got["tree"] == {p: v if isinstance(v, str) else ["link", v.target] for p, v in want.items()}
