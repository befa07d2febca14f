"""The Fabric API: reading every way, validating, rendering, writing, the model, the errors."""

from __future__ import annotations

import json
import os
import pathlib
import tomllib

import pytest

import xenfab

CASES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "cases"
BROKEN_IP = xenfab.example().replace('"192.168.96.43"', '"10.0.0.43"')


@pytest.fixture(scope="module")
def fabric() -> xenfab.Fabric:
    return xenfab.Fabric.from_toml(xenfab.example(), "site.toml")


# Reading


def test_from_dict_of_the_parsed_toml_is_from_toml(fabric: xenfab.Fabric) -> None:
    data = tomllib.loads(xenfab.example())
    assert xenfab.Fabric.from_dict(data).render() == fabric.render()


def test_from_json_is_from_toml(fabric: xenfab.Fabric) -> None:
    text = json.dumps(tomllib.loads(xenfab.example()))
    assert xenfab.Fabric.from_json(text, "site.json").render() == fabric.render()


def test_from_file_chooses_the_syntax_by_extension(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    (tmp_path / "site.json").write_text(json.dumps(tomllib.loads(xenfab.example())))
    (tmp_path / "site.conf").write_text(xenfab.example())
    assert xenfab.Fabric.from_file(tmp_path / "site.json").render() == fabric.render()
    assert xenfab.Fabric.from_file(str(tmp_path / "site.conf")).render() == fabric.render()


def test_from_file_names_the_file_in_diagnostics(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(BROKEN_IP)
    [error] = [d for d in xenfab.Fabric.from_file(path).validate() if d.severity == "error"]
    assert error.file == str(path)


def test_from_file_raises_oserror(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        xenfab.Fabric.from_file(tmp_path / "missing.toml")
    assert raised.value.filename == str(tmp_path / "missing.toml")
    with pytest.raises(FileNotFoundError):
        xenfab.Fabric.from_quattor(tmp_path / "missing")


def test_from_quattor() -> None:
    fabric = xenfab.Fabric.from_quattor(CASES / "quattor-scenario" / "profiles")
    [dom0] = fabric.dom0s
    [guest] = dom0.guests
    assert guest.mac == "00:16:3e:a8:00:12"
    assert [(d.vg, d.lv, d.size_mib) for d in guest.disks] == [("xenvg", "xen-guest.example.org", 20480)]


# Errors


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('version = 1\n[site\nname = "grid"\n', r"^fabric\.toml:2:\d+: "),
        (xenfab.example().replace("[site]\n", "[site]\nnmae = 1\n", 1), r"^fabric\.toml:\d+:\d+: unknown field `nmae`"),
        (xenfab.example().replace('name = "ullr"', "name = 7"), r"^fabric\.toml:\d+:\d+: invalid type"),
    ],
)
def test_parse_error(text: str, match: str) -> None:
    with pytest.raises(xenfab.ParseError, match=match) as raised:
        xenfab.Fabric.from_toml(text, "fabric.toml")
    assert isinstance(raised.value, xenfab.XenfabError)
    assert isinstance(raised.value, ValueError)
    # The place the message names, as attributes.
    assert str(raised.value).startswith(f"fabric.toml:{raised.value.line}:{raised.value.column}: ")


def test_parse_error_has_the_line_and_column(tmp_path: pathlib.Path) -> None:
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.Fabric.from_toml('version = 1\n[site\nname = "grid"\n', "fabric.toml")
    assert raised.value.line == 2 and isinstance(raised.value.column, int)
    with pytest.raises(ValueError) as caught:  # a ParseError is a ValueError
        xenfab.Fabric.from_json('{"version": 1,\n  "site": [}', "site.json")
    assert isinstance(caught.value, xenfab.ParseError)
    assert (caught.value.line, caught.value.column) == (2, 12)
    assert str(caught.value).startswith("site.json:2:12: ")
    bad = tmp_path / "site.toml"
    bad.write_bytes(b'version = 1\n[site]\nname = "gr\xe9d"\n')
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.Fabric.from_file(bad)
    assert (raised.value.line, raised.value.column) == (3, 11)
    # The kickstart's line; no column.
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.ks_reinstall("text\n%include /tmp/part-include\n")
    assert (raised.value.line, raised.value.column) == (2, None)
    # A mapping has no lines: the place is the key, in the message.
    with pytest.raises(xenfab.ParseError) as raised:
        xenfab.Fabric.from_dict({"version": 1, "bogus": 2})
    assert (raised.value.line, raised.value.column) == (None, None)
    error = xenfab.ParseError("m")
    assert (str(error), error.line, error.column) == ("m", None, None)


def test_parse_error_of_json_and_dict() -> None:
    with pytest.raises(xenfab.ParseError, match=r"^site\.json:1:\d+: "):
        xenfab.Fabric.from_json("{", "site.json")
    with pytest.raises(xenfab.ParseError, match=r"^<dict>: bogus: unknown field `bogus`"):
        xenfab.Fabric.from_dict({"version": 1, "bogus": 2})
    with pytest.raises(xenfab.ParseError, match=r"^vars: version: invalid type: sequence, expected u32"):
        xenfab.Fabric.from_dict({"version": {1}}, "vars")
    with pytest.raises(xenfab.ParseError, match=r"^vars: version: unsupported type"):
        xenfab.Fabric.from_dict({"version": object()}, "vars")
    with pytest.raises(TypeError):
        xenfab.Fabric.from_dict([("version", 1)])  # type: ignore[arg-type]


def test_validation_error_carries_every_diagnostic() -> None:
    fabric = xenfab.Fabric.from_toml(BROKEN_IP, "site.toml")
    diagnostics = fabric.validate()
    [error] = [d for d in diagnostics if d.severity == "error"]
    assert (error.code, error.path, error.file) == ("ip-outside-network", "dom0s[xen01].guests[ullr].ip", "site.toml")
    assert error.line is not None and BROKEN_IP.splitlines()[error.line - 1].strip().startswith("ip = ")
    assert str(error) == f"site.toml:{error.line}:{error.column}: error[ip-outside-network]: {error.path}: {error.message}"
    for use in (fabric.render, lambda: fabric.dom0s, lambda: fabric.write("unused", dry_run=True)):
        with pytest.raises(xenfab.ValidationError) as raised:
            use()
        assert isinstance(raised.value, ValueError)
        assert isinstance(raised.value, xenfab.XenfabError)
        assert raised.value.diagnostics == diagnostics
        assert str(error) in str(raised.value)
    assert not os.path.exists("unused")


def test_diagnostics_compare_and_hash() -> None:
    a = xenfab.Fabric.from_toml(BROKEN_IP).validate()
    b = xenfab.Fabric.from_toml(BROKEN_IP).validate()
    assert a == b and len({*a, *b}) == len(a)


def test_exception_hierarchy() -> None:
    assert issubclass(xenfab.ParseError, xenfab.XenfabError)
    assert issubclass(xenfab.ParseError, ValueError)
    assert issubclass(xenfab.RenderError, xenfab.XenfabError)
    assert issubclass(xenfab.ValidationError, xenfab.XenfabError)
    assert issubclass(xenfab.ValidationError, ValueError)
    assert xenfab.ValidationError("m").diagnostics == []


# Rendering and writing


def test_render_gives_files_and_links(fabric: xenfab.Fabric) -> None:
    tree = fabric.render()
    assert "kickstart/ullr.example.org.ks" in tree
    assert isinstance(tree["inventory/hosts.csv"], str)
    links = {p: e for p, e in tree.items() if isinstance(e, xenfab.Link)}
    assert links and all(e.target and not e.target.startswith("/") for e in links.values())
    link = next(iter(links.values()))
    assert link == xenfab.Link(link.target) and hash(link) == hash(xenfab.Link(link.target))
    assert repr(xenfab.Link("a'b")) == "Link(\"a'b\")"
    assert list(tree) == sorted(tree)


def test_write_is_idempotent(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    out = tmp_path / "out"
    dry = fabric.write(out, dry_run=True)
    assert dry.changed_anything and dry.created and "inventory/hosts.csv" in dry.diff
    assert not out.exists() or not any(out.iterdir())

    first = fabric.write(out)
    assert first.created == dry.created and not first.changed and not first.removed
    assert (out / "inventory" / "hosts.csv").read_text() == fabric.render()["inventory/hosts.csv"]

    second = fabric.write(str(out))
    assert not second.changed_anything
    assert second.unchanged == first.created and second.diff is None
    assert fabric.write(out, dry_run=True).diff == ""


def test_write_makes_the_diff_for_a_dry_run_or_when_asked(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    dry = fabric.write(tmp_path / "a", dry_run=True)
    assert dry.diff is not None and "+++ b/inventory/hosts.csv" in dry.diff
    assert fabric.write(tmp_path / "a", dry_run=True, diff=False).diff is None
    written = fabric.write(tmp_path / "a")
    assert written.created == dry.created and written.diff is None
    asked = fabric.write(tmp_path / "b", diff=True)
    assert asked.created == dry.created and asked.diff == dry.diff
    again = fabric.write(tmp_path / "b", diff=True)
    assert not again.changed_anything and again.diff == ""


def test_write_keeps_recorded_states_and_warns_of_impossible_ones(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    """`xenfab boot` records states in the TFTP root; write() renders them, but a state the host
    cannot be in (a guest has no reinstall) is not used, with a warning."""
    fabric.write(tmp_path)
    state = tmp_path / "tftpboot" / ".xenfab-boot-state.json"
    state.write_text(json.dumps({"hosts": {"xen01.example.org": "rescue", "vali.example.org": "reinstall"}}))
    with pytest.warns(UserWarning, match=r"recorded state `reinstall` of `vali\.example\.org` is not used: only a dom0"):
        fabric.write(tmp_path)
    pxe = tmp_path / "tftpboot" / "pxelinux.cfg"
    assert os.readlink(pxe / "C0A8600B") == "xen01.example.org.rescue.cfg"
    assert os.readlink(pxe / "C0A8602C") == "localboot.cfg"


def test_write_reports_changes_and_removals(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    fabric.write(tmp_path)
    data = tomllib.loads(xenfab.example())
    data["dom0s"][0]["guests"] = data["dom0s"][0]["guests"][:1]
    result = xenfab.Fabric.from_dict(data).write(tmp_path)
    assert result.changed_anything and result.changed and result.removed and not result.created


def test_write_refuses_what_it_does_not_own(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.csv").write_text("mine\n")
    with pytest.raises(OSError, match="hosts.csv"):
        fabric.write(tmp_path)


def _snapshot(root: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_write_records_the_site_and_refuses_another_sites_tree(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    fabric.write(tmp_path)
    manifest = json.loads((tmp_path / ".xenfab-manifest.json").read_text())
    assert manifest["format"] == 5
    assert (manifest["site"]["name"], manifest["site"]["domain"]) == ("grid", "example.org")
    assert not (tmp_path / ".xenfab-lock").exists()
    lab = xenfab.Fabric.from_toml(xenfab.example().replace('name = "grid"', 'name = "lab"'), "lab.toml")
    before = _snapshot(tmp_path)
    for dry_run in (False, True):
        with pytest.raises(OSError, match=r"holds the artefacts of site `grid`.*not of site `lab`.*force=True"):
            lab.write(tmp_path, dry_run=dry_run)
        assert _snapshot(tmp_path) == before
    assert lab.write(tmp_path, force=True).changed_anything
    assert json.loads((tmp_path / ".xenfab-manifest.json").read_text())["site"]["origin"] == "lab.toml"


def test_write_refuses_to_remove_more_than_half_without_force(tmp_path: pathlib.Path, fabric: xenfab.Fabric) -> None:
    fabric.write(tmp_path)
    data = tomllib.loads(xenfab.example())
    data["dom0s"] = data["dom0s"][:1]
    data["dom0s"][0]["guests"] = []
    small = xenfab.Fabric.from_dict(data)
    before = _snapshot(tmp_path)
    with pytest.raises(OSError, match=r"would remove \d+ of the \d+ entries .*\(more than half\)"):
        small.write(tmp_path)
    assert _snapshot(tmp_path) == before
    assert small.write(tmp_path, force=True).removed


def test_from_file_refuses_non_utf8_and_huge_files(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "site.toml"
    bad.write_bytes(b'version = 1\n[site]\nname = "gr\xe9d"\n')
    with pytest.raises(xenfab.ParseError, match=r"site.toml:3:11: not UTF-8 text: byte 0xe9"):
        xenfab.Fabric.from_file(bad)
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    with pytest.raises(xenfab.ParseError, match="larger than 64 MiB"):
        xenfab.Fabric.from_file(huge)


# The model


def test_the_model(fabric: xenfab.Fabric) -> None:
    assert fabric.domain == "example.org"
    dom0s = fabric.dom0s
    assert [d.name for d in dom0s] == ["xen01", "xen02", "xen03"]
    xen01 = dom0s[0]
    assert (xen01.fqdn, xen01.ip, xen01.toolstack) == ("xen01.example.org", "192.168.96.11", "xm")
    assert xen01.memory_mib == 512 and xen01.vcpus == 1
    ullr = next(g for d in dom0s for g in d.guests if g.name == "ullr")
    assert (ullr.fqdn, ullr.ip, ullr.mac) == ("ullr.example.org", "192.168.96.43", "00:16:3e:a8:60:2b")
    assert ullr.mode == "pv-pypxeboot" and ullr.memory_mib > 0 and ullr.vcpus >= 1
    [disk] = ullr.disks
    assert (disk.vg, disk.lv, disk.vdev, disk.size_mib) == ("xenvg", "ullr", "xvda", 20480)
    assert fabric.dom0s == dom0s


# Kickstart reinstall


def test_ks_reinstall_is_the_rendered_reinstall_variant(fabric: xenfab.Fabric) -> None:
    tree = fabric.render()
    ks, reinstall = tree["kickstart/xen01.example.org.ks"], tree["kickstart/xen01.example.org.reinstall.ks"]
    assert isinstance(ks, str)
    assert xenfab.ks_reinstall(ks) == reinstall
    assert xenfab.ks_reinstall(ks, keep_vgs=["xenvg"]) == reinstall
    assert xenfab.ks_reinstall(reinstall) == reinstall


def test_ks_reinstall_refuses_what_it_cannot_make_safe() -> None:
    with pytest.raises(xenfab.ParseError, match=r"^line 2: %include"):
        xenfab.ks_reinstall("text\n%include /tmp/part-include\n")


def test_render_gives_files_with_their_modes_when_asked() -> None:
    fabric = xenfab.Fabric.from_toml(xenfab.example(), "site.toml")
    plain, files = fabric.render(), fabric.render(files=True)
    assert plain.keys() == files.keys()
    modes = {}
    for path, value in files.items():
        if isinstance(value, xenfab.Link):
            assert plain[path] == value
        else:
            assert isinstance(value, xenfab.File)
            assert str(value) == value.contents == plain[path]
            modes[path] = value.mode
    assert modes["dom0s/xen01.example.org/provision.sh"] == 0o755
    assert modes["dhcp/dhcpd.conf"] == 0o644
    assert set(modes.values()) == {0o644, 0o755}
    assert xenfab.File("x", 0o644) == xenfab.File("x", 0o644) != xenfab.File("x", 0o755)


def test_show_gives_one_hosts_artefacts_as_render_gives_them() -> None:
    fabric = xenfab.Fabric.from_toml(xenfab.example(), "site.toml")
    tree = fabric.render()
    dom0, guest = fabric.show("xen01"), fabric.show("ullr.example.org")
    assert "dom0s/xen01.example.org/provision.sh" in dom0
    assert "dom0s/xen01.example.org/xen/ullr" in dom0 and "dom0s/xen01.example.org/xen/ullr" in guest
    assert "kickstart/ullr.example.org.ks" in guest and "kickstart/ullr.example.org.ks" not in dom0
    assert "dhcp/dhcpd.conf" not in dom0 and "dhcp/dhcpd.conf" not in guest
    for shown in (dom0, guest):
        assert shown and all(tree[path] == value for path, value in shown.items())
    assert fabric.show("xen01", files=True)["dom0s/xen01.example.org/provision.sh"].mode == 0o755
    with pytest.raises(KeyError, match="no host `../xen01`"):
        fabric.show("../xen01")


def test_write_can_leave_dhcp_and_tftpboot_as_they_are(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    xenfab.Fabric.from_toml(xenfab.example(), "site.toml").write(out)
    conf = out / "dhcp" / "dhcpd.conf"
    conf.write_text(conf.read_text() + "# the site's own line\n")
    moved = xenfab.Fabric.from_toml(xenfab.example().replace('"192.168.96.44"', '"192.168.96.99"'), "site.toml")
    before = {p: p.read_bytes() for p in sorted((out / "dhcp").rglob("*")) if p.is_file()}
    links = {p: os.readlink(p) for p in sorted((out / "tftpboot").rglob("*")) if p.is_symlink()}

    result = moved.write(out, no_dhcp=True, no_tftp=True)
    assert result.changed_anything  # vali's inventory and configs
    assert not any(p.startswith(("dhcp/", "tftpboot/")) for p in result.created + result.changed + result.removed)
    assert {p: p.read_bytes() for p in before} == before
    assert {p: os.readlink(p) for p in links} == links

    result = moved.write(out)
    assert "dhcp/dhcpd.conf" in result.changed
    assert "# the site's own line" not in conf.read_text()
    assert "192.168.96.99" in conf.read_text()
    assert not moved.write(out, dry_run=True).changed_anything


def _written(root: pathlib.Path) -> dict[str, bytes]:
    """`_snapshot` without xenfab's own files (its manifest and lock)."""
    return {p: b for p, b in _snapshot(root).items() if not p.startswith(".xenfab-")}


def test_write_hosts_writes_those_hosts_artefacts_alone(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    xenfab.Fabric.from_toml(xenfab.example(), "site.toml").write(out)
    data = tomllib.loads(xenfab.example())
    data["dom0s"][0]["guests"][0]["memory"] = "1536M"  # ullr, on xen01
    data["dom0s"][1]["guests"][0]["vcpus"] = 2  # bragi, on xen02
    changed = xenfab.Fabric.from_dict(data, origin="site.toml")
    by_hand = out / "kickstart" / "xen03.example.org.ks"
    by_hand.write_text("# by hand\n")
    before = _written(out)
    ullrs = changed.show("ullr")
    whole = changed.write(out, dry_run=True)
    expected = [p for p in whole.changed if p in ullrs]
    assert expected and len(expected) < len(whole.changed)  # bragi's, xen01's provision.sh, ...
    assert whole.left_behind == ()

    # A dry run shows ullr's changes alone, and writes nothing.
    dry = changed.write(out, dry_run=True, hosts=["ullr"])
    assert dry.changed == expected and not dry.created and not dry.removed
    assert dry.diff is not None
    shown = sorted({line[6:] for line in dry.diff.splitlines() if line.startswith("+++ b/")})
    assert shown == expected
    assert dry.left_behind == (None, "xen01", "xen02", "xen03")
    assert _written(out) == before

    # The write changes ullr's files and nothing else; xen03's hand edit stays.
    result = changed.write(out, hosts=["ullr"])
    assert result.changed == expected and not result.created and not result.removed
    # The site's files (the capacity table), xen01's own (provision.sh holds ullr's config) and
    # xen02's part (bragi) are behind, and xen03's, not rendered, whose file changed on disk.
    assert result.left_behind == (None, "xen01", "xen02", "xen03")
    assert repr(result) == "<WriteResult 0 created, 4 changed, 3 unchanged, 0 removed, 4 parts left behind>"
    after = _written(out)
    tree = changed.render()
    assert {p for p in after if after[p] != before[p]} == set(expected)
    assert all(after[p] == str(tree[p]).encode() for p in expected)
    assert by_hand.read_text() == "# by hand\n"

    # Again, by FQDN: nothing of ullr's to write, and the same parts behind.
    again = changed.write(out, hosts=["ullr.example.org"])
    assert not again.changed_anything and again.left_behind == (None, "xen01", "xen02", "xen03")

    # A write without hosts brings the rest up to date, the hand edit put back.
    full = changed.write(out)
    assert full.left_behind == () and repr(full).endswith(" removed>")
    assert sorted(full.changed) == sorted({*whole.changed} - {*expected})
    assert "kickstart/xen03.example.org.ks" in full.changed
    assert by_hand.read_text() == tree["kickstart/xen03.example.org.ks"]
    rerun = changed.write(out, dry_run=True)
    assert not rerun.changed_anything and rerun.diff == "" and rerun.left_behind == ()


def test_write_hosts_into_an_empty_directory_writes_those_hosts_alone(
    tmp_path: pathlib.Path, fabric: xenfab.Fabric
) -> None:
    out = tmp_path / "out"
    result = fabric.write(out, hosts=["xen02.example.org", "ullr"])
    assert sorted(result.created) == sorted({*fabric.show("xen02"), *fabric.show("ullr")})
    on_disk = {
        str(p.relative_to(out))
        for p in out.rglob("*")
        if (p.is_symlink() or p.is_file()) and not p.name.startswith(".xenfab-")
    }
    assert on_disk == set(result.created)
    # xen02's part holds its guests' own files (kickstarts, ...), which are not xen02's.
    assert result.left_behind == (None, "xen01", "xen02", "xen03")
    assert fabric.write(out, hosts=[]).created  # an empty list is every host
    assert not fabric.write(out, dry_run=True).changed_anything


def test_write_hosts_refuses_an_unknown_host_and_a_str_before_writing(
    tmp_path: pathlib.Path, fabric: xenfab.Fabric
) -> None:
    new = tmp_path / "new"
    with pytest.raises(KeyError, match=r"no host `nope`; the fabric's hosts: `xen01`, `ullr`"):
        fabric.write(new, hosts=["ullr", "nope"])
    assert not new.exists()  # not even created, as the lock would have
    with pytest.raises(TypeError, match=r"not one str: write hosts=\['ullr'\]"):
        fabric.write(new, hosts="ullr")
    with pytest.raises(TypeError, match="hosts is a sequence of host names"):
        fabric.write(new, hosts=["ullr", 7])  # type: ignore[list-item]
    assert not new.exists()

    out = tmp_path / "out"
    fabric.write(out)
    before = _snapshot(out)
    moved = xenfab.Fabric.from_toml(xenfab.example().replace('"192.168.96.44"', '"192.168.96.99"'), "site.toml")
    with pytest.raises(KeyError, match="no host `ullr.example.com`"):
        moved.write(out, hosts=["vali", "ullr.example.com"])
    assert _snapshot(out) == before
