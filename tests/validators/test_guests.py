"""Each dom0's provisioning script (`dom0s/<fqdn>/provision.sh`) is safe to run twice.

Every golden `provision.sh` runs twice in a sandbox: `lvs`, `lvcreate`, `xm`, `xl`, `install`, `ln`
and `mkdir` are stubs first on PATH that log their arguments and keep their state in a temp dir
(a volume exists once `lvcreate` made it; `xm list NAME` succeeds once `xm create` started a
config whose `name` is NAME), and `XEN_DIR` points into that temp dir. `install`, `ln` and
`mkdir` do their work there (with the real programs) and refuse any path outside it.

The first run must create each volume of the dom0's guests once, with `lvcreate -L <size>m -n
<lv> <vg>` as the inventory (`inventory/hosts/<guest>.json`: disks[].size in MiB, vg, lv) says,
install every guest's config, link it into `$XEN_DIR/auto`, and start every guest with the dom0's
toolstack (`inventory/hosts/<dom0>.json`: toolstack). The second run must create nothing, start
nothing, leave the same state, and exit 0. Needs only bash and coreutils.
"""

from __future__ import annotations

import json
import os
import subprocess
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
    # lvcreate -L SIZE -n LV VG
    "lvcreate": """[ $# -eq 5 ] && [ "$1" = -L ] && [ "$3" = -n ] || { echo "lvcreate stub: -L SIZE -n LV VG, got: $*" >&2; exit 98; }
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
        guests.append(found[0])
    return dom0["toolstack"], guests


def _run(script: Path, sandbox: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{sandbox / 'bin'}:/usr/bin:/bin",
        "STATE": str(sandbox),
        "XEN_DIR": str(sandbox / "etc" / "xen"),
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

    first = _run(script, tmp_path)
    assert first.returncode == 0, f"first run: exit {first.returncode}\n{first.stdout}"
    calls = log.read_text(encoding="utf-8").splitlines()
    want_volumes = sorted(f"lvcreate -L {d['size']}m -n {d['lv']} {d['vg']}" for g in guests for d in g["disks"])
    assert sorted(c for c in calls if c.startswith("lvcreate ")) == want_volumes, first.stdout
    configs = {g["name"]: g["name"] + (".cfg" if toolstack == "xl" else "") for g in guests}
    for name, config in configs.items():
        source = golden.parent / "xen" / config
        installed, link = xen_dir / config, xen_dir / "auto" / config
        assert installed.read_bytes() == source.read_bytes(), f"{installed} is not {source}"
        assert installed.stat().st_mode & 0o777 == 0o644, f"{installed}: mode {installed.stat().st_mode:o}"
        assert link.is_symlink() and os.readlink(link) == f"../{config}", f"{link} does not link to ../{config}"
        assert link.resolve() == installed.resolve()
    creates = sorted(c for c in calls if c.startswith(("xm create", "xl create")))
    assert creates == sorted(f"{toolstack} create {xen_dir / c}" for c in configs.values()), first.stdout
    assert sorted(p.name for p in (tmp_path / "running").iterdir()) == sorted(configs), first.stdout
    state = _state(tmp_path)

    log.write_text("", encoding="utf-8")
    second = _run(script, tmp_path)
    assert second.returncode == 0, f"second run: exit {second.returncode}\n{second.stdout}"
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [c for c in calls if c.startswith(("lvcreate ", "xm create", "xl create"))] == [], second.stdout
    assert _state(tmp_path) == state, "the second run changed the sandbox"
    for g in guests:
        assert f"guest {g['name']} runs: left alone" in second.stdout, second.stdout
        for d in g["disks"]:
            assert f"volume {d['vg']}/{d['lv']} exists: kept" in second.stdout, second.stdout
