"""``xenfab ks reinstall`` against pykickstart, on thousands of mutants of real dom0 files.

Each mutant (``ks_mutants.py``: line breaks, stray backslashes, quotes, ``#``, Python-only
white space before ``%``, partitioning lines duplicated, moved or added, ``%include``,
sections…) is converted with ``xenfab.ks_reinstall`` (the Python module when it is built into
this interpreter, as ``scripts/test`` does; otherwise the ``xenfab`` binary). A refusal is
always safe. Every accepted result is read by pykickstart's own parser with the handler of the
seed's ``#version=`` (RHEL3, RHEL4, RHEL5 or RHEL9), and must not read as wiping a disk or
reformatting a kept volume group:

- no ``clearpart`` (no type, no drives, no ``--initlabel``), ``zerombr``, ``autopart``,
  ``reqpart``, ``btrfs``, ``dmraid``, ``mount --reformat``, ``nvdimm reconfigure``, ``%pre``;
- every ``part`` reuses a partition (``onPart``) and is no RAID member or physical volume;
- every ``raid`` is preexisting without members, and one holding a physical volume is not
  formatted; every ``volgroup`` is preexisting without physical volumes;
- a kept volume group (one no ``logvol`` of the file uses) is defined and not formatted, and
  no ``logvol`` in it is formatted; every ``logvol`` is preexisting.

When pykickstart reads the input too, both must describe the same layout: the same mount
points, volume groups and logical volumes; and converting the result again changes nothing.

``test_a_post_script_cannot_escape_its_section`` does the same for the other user of the line
model, a fabric's ``post`` text: rendered into the dom0 file and read by pykickstart, it is
either refused (naming the script's line) or stays whole inside ``%post``, with the
``rootpw --plaintext`` written after it still script text.

Why here and not in ``xenfab-py/tests``: the judge is pykickstart, which this suite installs
(``scripts/install-validators``) and the Python package's tests do not need.

Speed: pykickstart builds an argparse parser per command line and a handler costs about 25 ms,
so one handler a version is reused (its disk commands' state restored before each read), and
commands that cannot touch a disk are only checked to exist, not parsed. ``KS_MUTANTS`` sets
the count (default 5000), ``KS_MUTANT_SEED`` the seed; ``KS_DIFF_CLI=1`` uses the binary even
when the module is there.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import subprocess
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ks_mutants import mutants

try:
    from pykickstart.constants import KS_SCRIPT_PRE
    from pykickstart.errors import KickstartError
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion
except ImportError:
    if os.environ.get("XENFAB_SKIP_VALIDATORS"):
        pytest.skip("pykickstart is missing", allow_module_level=True)
    raise ImportError("pykickstart is missing: run scripts/install-validators") from None

ROOT = Path(__file__).resolve().parents[2]
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
COUNT = int(os.environ.get("KS_MUTANTS", "5000"))
SEED = int(os.environ.get("KS_MUTANT_SEED", "20080612"))

#: The commands that can lay out, wipe or format a disk (pykickstart 3.78's RHEL3–RHEL9
#: handlers); only these are parsed.
DISK = {"clearpart", "zerombr", "autopart", "reqpart", "part", "partition", "raid", "volgroup",
        "logvol", "btrfs", "mount", "dmraid", "nvdimm"}


class Refused(Exception):
    """xenfab refused the file (exit 1, or ``xenfab.ParseError``)."""


def _converter() -> Any:
    try:
        import xenfab  # noqa: PLC0415
    except ImportError:
        xenfab = None
    if os.environ.get("KS_DIFF_CLI"):
        xenfab = None
    if xenfab is not None:
        def convert(text: str) -> str:
            try:
                return xenfab.ks_reinstall(text)
            except xenfab.ParseError as e:
                raise Refused(str(e)) from None
        return convert
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`, or the module with maturin")

    def convert_cli(text: str) -> str:
        r = subprocess.run([str(XENFAB), "ks", "reinstall", "-"], input=text.encode(),
                           capture_output=True, check=False)
        if r.returncode == 1:
            raise Refused(r.stderr.decode(errors="replace"))
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return r.stdout.decode()
    return convert_cli


class Reader:
    """A reused pykickstart handler and parser for one version."""

    def __init__(self, version: str) -> None:
        self.handler = makeVersion(version)
        self.parser = KickstartParser(self.handler, followIncludes=False)
        self.disk = {name: cmd for name, cmd in self.handler.commands.items() if name in DISK and cmd is not None}
        self.fresh = {id(cmd): dict(vars(cmd)) for cmd in self.disk.values()}
        dispatch = self.handler.dispatcher

        def dispatcher(args: list[str], lineno: int) -> Any:
            if args[0] in self.disk:
                return dispatch(args, lineno)
            if args[0] not in self.handler.commands:
                raise KickstartError(f"unknown command {args[0]!r}", lineno=lineno)
            return None
        self.handler.dispatcher = dispatcher

    def read(self, text: str) -> Any:
        """The handler after reading ``text``; raises what pykickstart raises."""
        for cmd in self.disk.values():
            state = self.fresh[id(cmd)]
            vars(cmd).clear()
            vars(cmd).update({k: list(v) if isinstance(v, list) else v for k, v in state.items()})
        self.handler.scripts = []
        self.handler.packages = type(self.handler.packages)()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.parser.readKickstartFromString(text)
        return self.handler


def _list(h: Any, cmd: str) -> list[Any]:
    c = getattr(h, cmd, None)
    return list(c.dataList()) if c is not None and c.dataList() is not None else []


def layout(h: Any) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Mount points, volume groups and logical volumes a handler read."""
    mounts = {p.mountpoint for p in _list(h, "partition") if not p.mountpoint.startswith(("raid.", "pv."))}
    mounts |= {r.mountpoint for r in _list(h, "raid") if not r.mountpoint.startswith("pv.")}
    mounts |= {lv.mountpoint for lv in _list(h, "logvol")}
    return mounts, {vg.vgname for vg in _list(h, "volgroup")}, {(lv.vgname, lv.name) for lv in _list(h, "logvol")}


def kept_groups(h: Any) -> set[str]:
    """The volume groups ks reinstall keeps by default: those no logvol of the file uses."""
    used = {lv.vgname for lv in _list(h, "logvol")}
    return {vg.vgname for vg in _list(h, "volgroup")} - used


def wipes(h: Any, kept: set[str]) -> list[str]:
    """What a handler read that wipes a disk or reformats a kept group: empty when safe."""
    bad = []
    cp = h.clearpart
    if cp.type is not None or cp.drives or getattr(cp, "initAll", False):
        bad.append(f"clearpart type={cp.type} drives={cp.drives}")
    if h.zerombr.zerombr:
        bad.append("zerombr")
    if h.autopart.autopart:
        bad.append("autopart")
    if getattr(getattr(h, "reqpart", None), "reqpart", False):
        bad.append("reqpart")
    for cmd in ("btrfs", "dmraid"):
        if _list(h, cmd):
            bad.append(cmd)
    bad += [f"mount {m.mount_point} --reformat" for m in _list(h, "mount") if m.reformat]
    bad += [f"nvdimm {a.action}" for a in _list(h, "nvdimm") if a.action == "reconfigure"]
    bad += ["%pre" for s in h.scripts if s.type == KS_SCRIPT_PRE]
    for p in _list(h, "partition"):
        if not p.onPart or p.mountpoint.startswith(("raid.", "pv.", "btrfs.")):
            bad.append(f"part {p.mountpoint} onPart={p.onPart!r}")
    for r in _list(h, "raid"):
        if not r.preexist or r.members or (r.mountpoint.startswith("pv.") and r.format):
            bad.append(f"raid {r.mountpoint} preexist={r.preexist} members={r.members} format={r.format}")
    vgs = {vg.vgname: vg for vg in _list(h, "volgroup")}
    for vg in vgs.values():
        if not vg.preexist or vg.physvols or (vg.vgname in kept and vg.format):
            bad.append(f"volgroup {vg.vgname} preexist={vg.preexist} physvols={vg.physvols} format={vg.format}")
    bad += [f"kept volume group {k} not defined" for k in kept if k not in vgs]
    for lv in _list(h, "logvol"):
        if not lv.preexist or (lv.vgname in kept and lv.format):
            bad.append(f"logvol {lv.vgname}/{lv.name} preexist={lv.preexist} format={lv.format}")
    return bad


def _run(start: int, stop: int) -> tuple[dict[str, int], list[str]]:
    """Mutants ``start..stop``: the counts, and what failed."""
    convert = _converter()
    readers: dict[str, Reader] = {}
    counts = dict.fromkeys(["mutants", "refused", "accepted", "input rejected by pykickstart",
                            "output rejected by pykickstart"], 0)
    failures: list[str] = []
    for m in itertools.islice(mutants(COUNT, SEED), start, stop):
        counts["mutants"] += 1
        try:
            out = convert(m.text)
        except Refused:
            counts["refused"] += 1
            continue
        counts["accepted"] += 1
        reader = readers.setdefault(m.seed.version, Reader(m.seed.version))
        where = f"mutant {m.index} of {m.seed.name} ({'; '.join(m.edits)})"
        try:
            h_in = reader.read(m.text)
            before = layout(h_in)
            kept = kept_groups(h_in)
        except Exception:  # noqa: BLE001 - any refusal by pykickstart
            counts["input rejected by pykickstart"] += 1
            before = None
            kept = set()
        try:
            h_out = reader.read(out)
        except Exception as e:  # noqa: BLE001
            counts["output rejected by pykickstart"] += 1
            if before is not None:
                failures.append(f"{where}: pykickstart read the input but not the output: {e!r} (line {getattr(e, 'lineno', None)})")
            continue
        kept |= kept_groups(h_out)
        bad = wipes(h_out, kept)
        if bad:
            failures.append(f"{where}: the output wipes: {bad}")
        if before is not None and layout(h_out) != before:
            failures.append(f"{where}: the layout changed: {before} -> {layout(h_out)}")
        try:
            again = convert(out)
        except Refused as e:
            failures.append(f"{where}: the output is refused when converted again: {e}")
        else:
            if again != out:
                failures.append(f"{where}: converting the output again changes it")
    return counts, failures


def test_ks_reinstall_never_wipes_what_pykickstart_reads(record_property: Any) -> None:
    start = time.monotonic()
    workers = max(1, min(os.cpu_count() or 1, 4))
    bounds = [(COUNT * i // workers, COUNT * (i + 1) // workers) for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_run, *zip(*bounds)))
    counts = {k: sum(c[k] for c, _ in results) for k in results[0][0]}
    failures = [f for _, fs in results for f in fs]
    elapsed = time.monotonic() - start
    for k, v in counts.items():
        record_property(k, v)
    record_property("seconds", round(elapsed, 1))
    print(f"\nks reinstall differential: {counts}, {elapsed:.1f} s on {workers} process(es)")  # noqa: T201
    if failures:
        pytest.fail(f"{len(failures)} failure(s):\n" + "\n".join(failures[:20]), pytrace=False)
    assert counts["mutants"] == COUNT
    # Neither side of the split may be empty, or the test proves nothing.
    assert counts["accepted"] >= COUNT // 5, counts
    assert counts["refused"] >= COUNT // 10, counts


@pytest.mark.parametrize("sep", ["\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_the_old_bypasses_are_refused(sep: str) -> None:
    """The issue's cases: a line break of Python's or a stray backslash used to leave
    ``clearpart --all`` in the output, exit 0. pykickstart reads them as wipes."""
    convert = _converter()
    text = (ROOT / "tests" / "fixtures" / "kickstart" / "seed-hwraid10.ks").read_text()
    for mutated in [
        text.replace("lang en_US.UTF-8\n", f"lang en_US.UTF-8{sep}clearpart --all\n"),
        text.replace("lang en_US.UTF-8\n", "lang en_US.UTF-8 \\\nclearpart --all\n"),
    ]:
        h = Reader("RHEL5").read(mutated)
        assert h.clearpart.type is not None  # pykickstart sees the wipe
        with pytest.raises(Refused):
            convert(mutated)


def test_the_mutants_are_deterministic() -> None:
    a = [(m.index, m.seed.name, m.edits, m.text) for m in mutants(50, 7)]
    b = [(m.index, m.seed.name, m.edits, m.text) for m in mutants(50, 7)]
    assert a == b
    assert len({m[3] for m in a}) > 40


def _toml_string(s: str) -> str:
    """A TOML basic string: every character outside printable ASCII as ``\\uXXXX``."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


#: Refused: they would end %post (or hide what follows) as pykickstart reads them.
POST_REFUSED = [
    "%end", " %end", "\t%end", "\x1f%end", "\xa0%end", "\u3000%end", "%pre", "%packages",
    "%include /tmp/x", "%ksappend http://x/y", "\x00", "\x1b[2J", "\x7f",
    *[f"echo{b}%end" for b in ["\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]],
]
#: Kept: they stay inside the script.
POST_KEPT = ["echo 50%", "printf '%s\\n' x", "echo \\", "echo 'unterminated", "# %end", "echo %end",
             "\u200b%end"]  # U+200B is no white space to Python: the line is the script's


@pytest.mark.parametrize(("payload", "kept"), [(p, False) for p in POST_REFUSED] + [(p, True) for p in POST_KEPT])
def test_a_post_script_cannot_escape_its_section(payload: str, kept: bool) -> None:
    """The fabric's ``post`` text, as pykickstart reads the rendered dom0 file: either xenfab
    refuses it (naming the script's line), or every line of it stays in ``%post`` and the
    commands after it (``rootpw --plaintext``) are not commands."""
    xenfab = pytest.importorskip("xenfab", reason="needs the xenfab module (maturin develop), as scripts/test builds it")
    script = f"true\n{payload}\nclearpart --all\nrootpw --plaintext owned"
    example = xenfab.example()
    post = "[kickstart.dom0]\npost = [" + _toml_string(script) + "]"
    text = re.sub(r'(?s)\[kickstart\.dom0\]\npost = \["""\n.*?"""\]', lambda _: post, example)
    assert text != example
    try:
        tree = xenfab.Fabric.from_toml(text, "fabric.toml").render()
    except xenfab.ValidationError as e:
        assert not kept, e
        messages = [str(d) for d in e.diagnostics]
        assert any("kickstart.dom0.post[0]" in m and "line 2" in m for m in messages), messages
        assert not any("\x1b" in m or "\r" in m or "\x00" in m for m in messages), messages
        return
    assert kept, f"{payload!r} was accepted"
    ks = tree["kickstart/xen01.example.org.ks"]
    h = makeVersion("RHEL5")  # every command parsed, not only the disk ones
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        KickstartParser(h).readKickstartFromString(ks)
    assert h.rootpw.isCrypted and h.rootpw.password.startswith("$1$"), h.rootpw
    post = [s for s in h.scripts if s.type != KS_SCRIPT_PRE]
    assert any("rootpw --plaintext owned" in s.script and payload in s.script for s in post), [s.script for s in post]
