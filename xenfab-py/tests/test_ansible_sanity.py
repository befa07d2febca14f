"""`ansible-test sanity` on the collection: the checks Ansible's own collections pass before
they are published (validate-modules on every plugin's DOCUMENTATION against its argument spec,
the import test that loads each module without xenfab installed, pylint, pep8, yamllint, …).

ansible-test takes the sanity requirements of its own release, so it runs from a virtual
environment of its own, with ansible-core pinned to the release whose ignore file the collection
carries (``tests/sanity/ignore-2.19.txt``). The environment is kept in
``target/ansible-test-venv`` (made once, with pip from PyPI); ``--local --requirements`` then
installs what each check needs into it.

Some checks make virtual environments of their own and put pip into them with a bootstrap
script that ansible-test downloads from ci-files.testing.ansible.com, which a machine that
reaches only the package registries cannot fetch; ansible-test takes the script from its cache
instead when it is there, so the test puts a stand-in there that does the same with Python's
own ``ensurepip`` and pip from PyPI. ``XENFAB_ANSIBLE_SANITY=skip`` skips it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_ansible import COLLECTIONS

SOURCE = COLLECTIONS / "ansible_collections" / "xenfab" / "fabric"
REPO = Path(__file__).resolve().parents[2]
VENV = REPO / "target" / "ansible-test-venv"
# The release of ansible-core the sanity checks and tests/sanity/ignore-2.19.txt are of.
ANSIBLE_CORE = "ansible-core>=2.19,<2.20"

pytestmark = pytest.mark.skipif(
    os.environ.get("XENFAB_ANSIBLE_SANITY") == "skip", reason="XENFAB_ANSIBLE_SANITY=skip"
)


def _venv() -> Path:
    """The environment with ansible-test of the pinned release, made on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / "xenfab-ansible-core.txt"
    if not (python.exists() and marker.exists() and marker.read_text() == ANSIBLE_CORE):
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", ANSIBLE_CORE], check=True
        )
        marker.write_text(ANSIBLE_CORE)
    return VENV


# What get-pip.py does for ansible-test: pip into the environment, then the packages asked for.
GET_PIP = """\
import subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
"""


def _bootstrap_pip(venv: Path, home: Path) -> None:
    """Puts the stand-in for pip's bootstrap script where ansible-test looks for it in `home`."""
    [requirements] = venv.glob("lib/python*/site-packages/ansible_test/_internal/python_requirements.py")
    found = re.search(r"pip='([0-9.]+)'", requirements.read_text())
    assert found, f"no pip version in {requirements}"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True)
    (cache / f"get_pip_{found.group(1).replace('.', '_')}.py").write_text(GET_PIP)


def test_ansible_test_sanity_passes(tmp_path: Path) -> None:
    venv = _venv()
    _bootstrap_pip(venv, tmp_path)
    python = venv / "bin" / "python"
    version = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    # ansible-test runs in a collection's own directory, ansible_collections/NS/NAME
    root = tmp_path / "ansible_collections" / "xenfab" / "fabric"
    shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    r = subprocess.run(
        [str(venv / "bin" / "ansible-test"), "sanity", "--local", "--requirements",
         "--python", version, "--color", "no"],
        cwd=root, capture_output=True, text=True, check=False, env=env,
    )
    noise = re.compile(
        r"^(Collecting|Downloading|Installing|Successfully|Requirement already|Using cached|"
        r"Processing|Looking in|Attempting|Found existing|Uninstalling|\s+━)"
    )
    out = "\n".join(
        line for line in (r.stdout + r.stderr).splitlines() if not noise.match(line)
    )
    assert r.returncode == 0, out
    # every check ran: none was skipped for want of a tool
    assert "validate-modules" in out and "pylint" in out and "import" in out, out
    assert "ERROR" not in out, out
