"""The collection as `ansible-galaxy collection build` packs it: what a user installs from
the tarball carries its licence and changelog, and its README links nothing outside it."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import tarfile

from test_ansible import COLLECTIONS

SOURCE = COLLECTIONS / "ansible_collections" / "xenfab" / "fabric"


def test_the_built_collection_is_whole(tmp_path: pathlib.Path) -> None:
    galaxy = pathlib.Path(sys.executable).parent / "ansible-galaxy"
    r = subprocess.run(
        [str(galaxy), "collection", "build", str(SOURCE), "--output-path", str(tmp_path)],
        capture_output=True, text=True, check=False, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    [tarball] = tmp_path.glob("xenfab-fabric-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        readme = tar.extractfile("README.md")
        assert readme is not None
        text = readme.read().decode()
    assert {
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "plugins/modules/render.py",
        "plugins/modules/boot.py",
        "plugins/module_utils/fabric.py",
        "plugins/inventory/fabric.py",
        "plugins/doc_fragments/fabric.py",
    } <= names
    assert "Apache License" in (SOURCE / "LICENSE").read_text()
    # every relative link of the README names a file in the tarball
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not re.match(r"[a-z]+:", target):
            assert target in names, target


def test_ansible_doc_reads_every_plugin(tmp_path: pathlib.Path) -> None:
    """Each plugin's DOCUMENTATION is YAML that ansible-doc takes, with its EXAMPLES and RETURN."""
    doc = pathlib.Path(sys.executable).parent / "ansible-doc"
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
    }
    for kind, name in [("module", "render"), ("module", "boot"), ("inventory", "fabric")]:
        r = subprocess.run(
            [str(doc), "-t", kind, f"xenfab.fabric.{name}", "--json"],
            capture_output=True, text=True, check=False, env=env,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        [entry] = json.loads(r.stdout).values()
        assert entry["doc"]["description"] and entry["examples"], entry
        if kind == "module":
            assert entry["return"], entry
