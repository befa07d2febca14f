"""The Ansible collection (xenfab-py/ansible), run by ansible-playbook against localhost.

Each test writes a playbook into a temporary directory and runs `ansible-playbook` (from
ansible-core, next to this interpreter) with the collection on ANSIBLE_COLLECTIONS_PATH, no
configuration of the user (HOME, ANSIBLE_HOME and ANSIBLE_CONFIG in the temporary directory)
and a JSON stdout callback (below), whose output the test reads. The module runs with this interpreter
(`ansible_python_interpreter`), so it imports the xenfab under test.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

import xenfab

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "xenfab-py" / "ansible"

PLUGINS = COLLECTIONS / "ansible_collections" / "xenfab" / "fabric" / "plugins"


def doc_strings(plugin: pathlib.Path) -> dict[str, str]:
    """The DOCUMENTATION, EXAMPLES and RETURN strings of a plugin's file, read without running
    it (as ansible-doc does: its imports are those of a collection on Ansible's path)."""
    found: dict[str, str] = {}
    for node in ast.parse(plugin.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN") and isinstance(node.value, ast.Constant):
                found[node.targets[0].id] = str(node.value.value)
    return found


needs_fabric = pytest.mark.skipif(
    not hasattr(xenfab, "Fabric"),
    reason="the installed xenfab has no Fabric API yet (rebuild it: maturin develop)",
)


def ansible_playbook() -> str:
    beside = pathlib.Path(sys.executable).parent / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if found is None:
        pytest.fail("ansible-playbook not found: pip install ansible-core into this interpreter's environment")
    return found


# ansible-core has no JSON stdout callback (`json` is in the ansible.posix collection): this
# one prints every task's result on every host, in order, as one JSON document.
CALLBACK = """
import json

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "xenfab_test_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.results = []

    def _record(self, result, status):
        self.results.append(
            {"task": result._task.get_name(), "host": result._host.get_name(), "status": status,
             "result": result._result}
        )

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = {h: stats.summarize(h) for h in sorted(stats.processed)}
        self._display.display(json.dumps({"results": self.results, "stats": hosts}, cls=AnsibleJSONEncoder))
"""


class Ansible:
    """Runs plays on localhost in one temporary directory."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        self.runs = 0
        (tmp / "ansible.cfg").write_text("[defaults]\n")
        (tmp / "callback_plugins").mkdir()
        (tmp / "callback_plugins" / "xenfab_test_json.py").write_text(CALLBACK)
        self.inventory = tmp / "inventory.ini"
        self.inventory.write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(
            HOME=str(self.tmp),
            LANG="C.UTF-8",
            LC_ALL="C.UTF-8",
            ANSIBLE_CONFIG=str(self.tmp / "ansible.cfg"),
            ANSIBLE_HOME=str(self.tmp / "ansible-home"),
            ANSIBLE_LOCAL_TEMP=str(self.tmp / "ansible-tmp"),
            ANSIBLE_REMOTE_TEMP=str(self.tmp / "ansible-remote-tmp"),
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_CALLBACK_PLUGINS=str(self.tmp / "callback_plugins"),
            ANSIBLE_STDOUT_CALLBACK="xenfab_test_json",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        return env

    def play(
        self, tasks: list[dict[str, Any]], *args: str, vars: dict[str, Any] | None = None, rc: int = 0
    ) -> list[dict[str, Any]]:
        """Run one play; return each task's result on localhost, with its `status`."""
        self.runs += 1
        playbook = self.tmp / f"playbook-{self.runs}.yml"
        play = {
            "name": "xenfab",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": vars or {},
            "tasks": tasks,
        }
        playbook.write_text(json.dumps([play], indent=1))  # JSON is YAML
        proc = subprocess.run(
            [ansible_playbook(), "-i", str(self.inventory), str(playbook), *args],
            env=self.env(),
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == rc, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        out = json.loads(proc.stdout)
        assert len(out["results"]) == len(tasks), out
        # `status`: ok, failed, skipped or unreachable (ansible-core 2.19 keeps no `failed` key).
        return [dict(r["result"], status=r["status"]) for r in out["results"]]


@pytest.fixture
def ansible(tmp_path: pathlib.Path) -> Ansible:
    return Ansible(tmp_path)


@pytest.fixture
def example() -> dict[str, Any]:
    return tomllib.loads(xenfab.example())


def render(dest: pathlib.Path, **options: Any) -> dict[str, Any]:
    return {"name": "render", "xenfab.fabric.render": {"dest": str(dest), **options}}


def files(directory: pathlib.Path) -> dict[str, bytes | str]:
    """Every file (contents) and link (target) below `directory`; the manifest without its
    files' stamps (their inodes and times are those of this tree's files) and its `id` (made
    afresh each time it is written whole)."""
    tree: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        rel = str(path.relative_to(directory))
        if path.is_symlink():
            tree[rel] = os.readlink(path)
        elif rel == ".xenfab-manifest.json":
            manifest = json.loads(path.read_bytes())
            manifest.pop("id", None)
            for entry in manifest["entries"].values():
                entry.pop("stamp", None)
            tree[rel] = json.dumps(manifest, sort_keys=True).encode()
        elif path.is_file():
            tree[rel] = path.read_bytes()
    return tree


@needs_fabric
def test_the_first_run_changes_the_second_does_not(ansible: Ansible, example: dict[str, Any]) -> None:
    dest = ansible.tmp / "out"
    task = render(dest, fabric="{{ fabric }}")

    [first] = ansible.play([task], "--diff", vars={"fabric": example})
    assert first["changed"] is True, first
    assert "+++ b/dhcp/dhcpd.conf" in first["diff"]["prepared"]
    assert first["created"] and not first["changed_files"] and not first["removed"]
    assert first["diagnostics"] == []
    assert (dest / "dhcp" / "dhcpd.conf").is_file()
    assert (dest / ".xenfab-manifest.json").is_file()
    # The same tree as the package writes itself (the manifest records the origin, which the
    # module names `<fabric>`).
    direct = ansible.tmp / "direct"
    xenfab.Fabric.from_dict(example, origin="<fabric>").write(str(direct))
    assert files(dest) == files(direct)
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*") if not p.is_symlink()}

    [second] = ansible.play([task], vars={"fabric": example})
    assert second["changed"] is False, second
    assert "diff" not in second  # not asked for
    assert second["created"] == second["changed_files"] == second["removed"] == []
    assert second["unchanged"] == first["unchanged"] + len(first["created"])
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*") if not p.is_symlink()} == before

    # A guest less: its files go, the files that list it change.
    smaller = copy.deepcopy(example)
    guest = smaller["dom0s"][0]["guests"].pop()
    [third] = ansible.play([task], vars={"fabric": smaller})
    assert third["changed"] is True
    assert third["removed"] and third["changed_files"]
    assert any(guest["name"] in path for path in third["removed"]), third["removed"]
    assert "dhcp/dhcpd.conf" in third["changed_files"]


@needs_fabric
def test_no_dhcp_and_no_tftp_leave_those_directories(ansible: Ansible, example: dict[str, Any]) -> None:
    dest = ansible.tmp / "out"
    [first] = ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": example})
    assert first["changed"] is True
    kept = {p: b for p, b in files(dest).items() if p.startswith(("dhcp/", "tftpboot/"))}
    # A guest less: its files go, but not from dhcp/ nor tftpboot/, which list it still.
    smaller = copy.deepcopy(example)
    smaller["dom0s"][0]["guests"].pop()
    [second] = ansible.play([render(dest, fabric="{{ fabric }}", no_dhcp=True, no_tftp=True)],
                            vars={"fabric": smaller})
    assert second["changed"] is True and second["removed"], second
    assert not any(p.startswith(("dhcp/", "tftpboot/")) for p in second["removed"] + second["changed_files"])
    assert {p: b for p, b in files(dest).items() if p.startswith(("dhcp/", "tftpboot/"))} == kept
    [third] = ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": smaller})
    assert "dhcp/dhcpd.conf" in third["changed_files"], third


@needs_fabric
def test_hosts_writes_those_hosts_files_alone(ansible: Ansible, example: dict[str, Any]) -> None:
    dest = ansible.tmp / "out"
    ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": example})
    before = files(dest)
    bigger = copy.deepcopy(example)
    bigger["dom0s"][0]["guests"][0]["memory"] = "1536M"  # ullr, on xen01
    ullrs = xenfab.Fabric.from_dict(bigger).show("ullr")
    [one] = ansible.play([render(dest, fabric="{{ fabric }}", hosts=["ullr"])], vars={"fabric": bigger})
    assert one["changed"] is True and not one["created"] and not one["removed"], one
    assert one["changed_files"] and all(p in ullrs for p in one["changed_files"]), one["changed_files"]
    # the site's files (the capacity table) and xen01's provision.sh, which holds ullr's config
    assert one["left_behind"] == [None, "xen01"], one
    after = files(dest)
    assert {p for p in after if after[p] != before[p]} == {*one["changed_files"], ".xenfab-manifest.json"}
    [whole] = ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": bigger})
    assert "dom0s/xen01.example.org/provision.sh" in whole["changed_files"] and whole["left_behind"] == [], whole
    # An unknown name fails the task, and nothing is written (ullr's files stay as `bigger` has them).
    written = files(dest)
    [unknown] = ansible.play([render(dest, fabric="{{ fabric }}", hosts=["ullr", "nope"])], vars={"fabric": example},
                             rc=2)
    assert unknown["status"] == "failed"
    assert unknown["msg"].startswith(f"cannot render into {dest}: no host `nope`; the fabric's hosts:"), unknown
    assert files(dest) == written


@needs_fabric
def test_src_renders_a_fabric_file_the_same(ansible: Ansible, example: dict[str, Any]) -> None:
    src = ansible.tmp / "fabric.toml"
    src.write_text(xenfab.example())
    dest = ansible.tmp / "out"

    first, second, from_vars = ansible.play(
        [render(dest, src=str(src)), render(dest, src=str(src)), render(dest, fabric="{{ fabric }}")],
        vars={"fabric": example},
    )
    assert first["changed"] is True and first["created"]
    assert second["changed"] is False
    # The file and the same structure as variables render the same tree.
    assert from_vars["changed"] is False, from_vars


@needs_fabric
def test_check_mode_writes_nothing(ansible: Ansible, example: dict[str, Any]) -> None:
    missing = ansible.tmp / "missing"
    empty = ansible.tmp / "empty"
    empty.mkdir()

    on_missing, on_empty = ansible.play(
        [render(missing, fabric="{{ fabric }}"), render(empty, fabric="{{ fabric }}")],
        "--check",
        vars={"fabric": example},
    )
    for result in (on_missing, on_empty):
        assert result["changed"] is True, result
        assert result["created"], result
        assert "diff" not in result
    assert not missing.exists()
    assert list(empty.iterdir()) == []
    # The paths it would create are those a real run creates.
    [real] = ansible.play([render(empty, fabric="{{ fabric }}")], vars={"fabric": example})
    assert sorted(real["created"]) == sorted(on_empty["created"])


@needs_fabric
def test_check_and_diff_returns_the_diff(ansible: Ansible, example: dict[str, Any]) -> None:
    dest = ansible.tmp / "out"
    [result] = ansible.play([render(dest, fabric="{{ fabric }}")], "--check", "--diff", vars={"fabric": example})
    assert result["changed"] is True
    diff = result["diff"]["prepared"]
    assert "--- /dev/null" in diff
    assert "dhcp/dhcpd.conf" in diff
    assert "+subnet 192.168.96.0 netmask 255.255.255.0 {" in diff
    assert not dest.exists()

    # After a real run, nothing is left to show.
    ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": example})
    [again] = ansible.play([render(dest, fabric="{{ fabric }}")], "--check", "--diff", vars={"fabric": example})
    assert again["changed"] is False
    assert again["diff"]["prepared"] == ""


@needs_fabric
def test_an_invalid_fabric_fails_with_every_error(ansible: Ansible, example: dict[str, Any]) -> None:
    broken = copy.deepcopy(example)
    guests = [g for d in broken["dom0s"] for g in d.get("guests", [])]
    guests[1]["ip"] = guests[0]["ip"]  # duplicate-ip
    guests[2]["memory"] = "64G"  # memory-exceeded, and a warning: save-area-small
    dest = ansible.tmp / "out"

    [result] = ansible.play([render(dest, fabric="{{ fabric }}")], vars={"fabric": broken}, rc=2)
    assert result["status"] == "failed"
    msg = result["msg"]
    diagnostics = xenfab.Fabric.from_dict(broken, origin="<fabric>").validate()
    errors = [str(d) for d in diagnostics if d.severity == "error"]
    assert len(errors) >= 2
    for line in errors:
        assert line in msg.splitlines()
    assert "<fabric>: error[duplicate-ip]: dom0s[xen01].guests[vali].ip:" in msg
    assert "error[memory-exceeded]" in msg
    assert "warning" not in msg
    assert result["diagnostics"] == [str(d) for d in diagnostics]
    assert not dest.exists()


@needs_fabric
def test_a_missing_src_fails(ansible: Ansible) -> None:
    [result] = ansible.play(
        [render(ansible.tmp / "out", src=str(ansible.tmp / "nope.toml"))], rc=2
    )
    assert result["status"] == "failed"
    assert "nope.toml" in result["msg"]


def test_fabric_and_src_are_exclusive(ansible: Ansible) -> None:
    [result] = ansible.play(
        [render(ansible.tmp / "out", src="f.toml", fabric={"version": 1})], rc=2
    )
    assert result["status"] == "failed"
    assert "mutually exclusive" in result["msg"]


def test_filters(ansible: Ansible) -> None:
    [result] = ansible.play(
        [
            {
                "ansible.builtin.set_fact": {
                    "mac": "{{ '192.168.96.43' | xenfab.fabric.xenfab_mac }}",
                    "local": "{{ '192.168.1.2' | xenfab.fabric.xenfab_mac('local-ipv4') }}",
                    "hex": "{{ '192.168.96.43' | xenfab.fabric.xenfab_hex_ip }}",
                    "pxe": "{{ '00:16:3e:a8:60:2b' | xenfab.fabric.xenfab_pxelinux_name }}",
                }
            }
        ]
    )
    assert result["ansible_facts"] == {
        "mac": "00:16:3e:a8:60:2b",
        "local": "02:00:c0:a8:01:02",
        "hex": "C0A8602B",
        "pxe": "01-00-16-3e-a8-60-2b",
    }


def test_a_filter_fails_on_a_bad_address(ansible: Ansible) -> None:
    [result] = ansible.play(
        [{"ansible.builtin.debug": {"msg": "{{ '192.168.96' | xenfab.fabric.xenfab_mac }}"}}], rc=2
    )
    assert result["status"] == "failed"
    assert "xenfab_mac: invalid IPv4 address" in result["msg"]


@needs_fabric
def test_warnings_are_returned_and_the_task_succeeds(ansible: Ansible, example: dict[str, Any]) -> None:
    busy = copy.deepcopy(example)
    # vcpu-overcommit, a warning: together, not each (one guest above the host is an error)
    busy["dom0s"][0]["guests"][0]["vcpus"] = 8
    busy["dom0s"][0]["guests"][1]["vcpus"] = 8
    [result] = ansible.play([render(ansible.tmp / "out", fabric="{{ fabric }}")], vars={"fabric": busy})
    assert result["status"] == "ok" and result["changed"] is True
    assert result["diagnostics"] == [
        "<fabric>: warning[vcpu-overcommit]: dom0s[xen01].guests: dom0 and its guests have 17 vCPUs on 8 CPUs"
    ]
    assert any("vcpu-overcommit" in w for w in result.get("warnings", [])), result


# Keys every task result has, which Ansible adds (not the module's RETURN).
ANSIBLE_KEYS = {
    "changed", "failed", "msg", "exception", "invocation", "warnings", "deprecations", "status", "_ansible_no_log"
}


def documented(module: str) -> set[str]:
    """The keys of the RETURN of the collection's module `module`."""
    import yaml

    return set(yaml.safe_load(doc_strings(PLUGINS / "modules" / f"{module}.py")["RETURN"]))


@needs_fabric
def test_results_carry_only_documented_keys(ansible: Ansible, example: dict[str, Any]) -> None:
    dest = ansible.tmp / "out"
    ok, again = ansible.play([render(dest, fabric="{{ fabric }}"), render(dest, fabric="{{ fabric }}")], "--diff",
                             vars={"fabric": example})
    [failed] = ansible.play([render(dest, src=str(ansible.tmp / "nope.toml"))], rc=2)
    keys = documented("render")
    for result in (ok, again, failed):
        assert set(result) - ANSIBLE_KEYS <= keys, set(result) - ANSIBLE_KEYS - keys
    # No stat of the directory (AnsibleModule adds one to a result with a `dest` key).
    assert "mode" not in ok and "uid" not in ok


@needs_fabric
def test_a_key_typo_names_the_host(ansible: Ansible, example: dict[str, Any]) -> None:
    typo = copy.deepcopy(example)
    guest = typo["dom0s"][0]["guests"][1]
    guest["memroy"] = guest.pop("memory", 512)
    [result] = ansible.play([render(ansible.tmp / "out", fabric="{{ fabric }}")], vars={"fabric": typo}, rc=2)
    assert result["status"] == "failed"
    name = typo["dom0s"][0]["name"], guest["name"]
    assert f"<fabric>: dom0s[{name[0]}].guests[{name[1]}].memroy: unknown field `memroy`" in result["msg"], result["msg"]
