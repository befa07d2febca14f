"""The hostile corpus: every text field × every payload class, through the CLI and the real
validators (the cases come from ``hostile.py``).

Each case is one mutated input (TOML, JSON, or Quattor profiles in JSON or pan XML) rendered
with the ``xenfab`` binary into a directory that does not exist yet. It must end one of two
ways:

- **refused**: exit 1; stderr names the field (its path as xenfab writes it, or for TOML and
  JSON the value's ``file:LINE:``) and, where it gives lines, the value's line is one of them;
  no raw control character (C0 but tab and newline, DEL, C1, U+2028/U+2029) and not the whole
  100 KB value on stderr; the output directory not created (for the ``"`` and 100 KB classes
  also: rendered into a copy of the unmutated render's tree, the same exit and that tree
  unchanged, byte for byte);
- **accepted**: exit 0, only for payload classes that a field may carry (never a line separator
  other than ``\\n``, NUL, ESC or BEL); every artefact that differs from the unmutated render
  passes its real consumer (``CHECKS`` of ``test_artefacts.py``, plus grub-script-check for the
  GRUB2 network boot entries, ``bash -n`` for ``default-grub`` and a JSON parse for the
  inventory and the manifest); and the payload changes no artefact's structure: the same
  fabric with a harmless value of the same length (``q`` for every character of the payload)
  renders to a tree that the payload's tree equals once, at each place the harmless tree holds
  the harmless value, the payload's value stands in one of the encodings an artefact may write
  it in (as it is, JSON, XML, shell single quotes, backslash-quoted, percent-encoded in a URL,
  or with the blank lines a ``%post`` hook loses trimmed). So the payload only ever appears as
  the value itself, and never splits a line, a token or a block.

All renders run in a thread pool before the first test (one ``xenfab`` a case, two for an
accepted one); each validator runs once per distinct file. ``XENFAB`` names the binary
(default ``target/debug/xenfab``); ``XENFAB_HOSTILE_REPORT=FILE`` writes every case's outcome
as JSON (the failures grouped by cause); ``XENFAB_HOSTILE_FILTER=REGEX`` keeps the cases whose
id matches.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import io
import runpy
import sys
import warnings
import concurrent.futures
import difflib
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

import hostile
import test_artefacts
from test_artefacts import CHECKS, Rejected, _matches

ROOT = hostile.ROOT
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
# The commands, in one place: `{input}` is the fabric file (or the profiles' directory),
# `{out}` the output directory. When `render` needs `--example` for the built-in site, this
# matrix is not concerned (it always names its file).
RENDER = ("render", "{input}", "-o", "{out}")
QUATTOR_RENDER = ("quattor", "render", "--profiles", "{input}", "-o", "{out}")
TIMEOUT = 120
# Renders write a hundred files each and the temp dirs go again: in memory where there is
# memory (XENFAB_HOSTILE_TMP overrides), else the default temp dir.
TMP = os.environ.get("XENFAB_HOSTILE_TMP") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
WORKERS = max(2, os.cpu_count() or 2)

# A raw character that a terminal acts on (C0 but tab and newline, DEL, C1) or that ends a
# line for some reader (U+2028, U+2029): diagnostics must print it escaped.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029]")
# For these classes a refused case also renders into a copy of the unmutated render's tree,
# which must stay byte for byte (the others render into a directory that does not exist).
INTO_EXISTING = ("dquote", "big")
# A refused value is shown shortened: never the whole 100 KB payload.
MAX_STDERR = 16 * 1024


def _extra_grub2(path: Path) -> None:
    test_artefacts.check_grub2_cfg(path)


def _extra_json(path: Path) -> None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Rejected(f"{path}: not JSON: {e}", 1) from None


def _extra_sh(path: Path) -> None:
    test_artefacts._validate(["bash", "-n", str(path)])


# The artefacts CHECKS does not cover yet, checked here because a payload may reach them.
EXTRA_CHECKS: list[tuple[str, Callable[[Path], None]]] = [
    ("tftpboot/grub2/*.cfg", _extra_grub2),  # GRUB2 network boot entries: grub-script-check
    ("dom0s/*/grub/default-grub", _extra_sh),  # /etc/default/grub is sourced by grub2-mkconfig
    ("inventory/hosts/*.json", _extra_json),
    (".xenfab-manifest.json", _extra_json),
]


_KS_LOCK = threading.Lock()
KS_SCRIPT = test_artefacts.HERE / "check_kickstart.py"


def check_kickstart_in_process(path: Path) -> None:
    """check_kickstart_artefact, with check_kickstart.py run in this process (runpy, one at a
    time): the same script and pykickstart, without a Python start-up a file (the matrix
    checks hundreds of kickstarts)."""
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n")
    match = test_artefacts.KS_VERSION_LINE.fullmatch(first)
    if not match:
        raise Rejected(f"{path}: the first line must be `#version=RHELn`, not {first!r}", 1)
    test_artefacts._require(importlib.util.find_spec("pykickstart") is not None, "pykickstart")
    buf = io.StringIO()
    with _KS_LOCK, warnings.catch_warnings(), contextlib.redirect_stdout(buf):
        saved = sys.argv, os.environ.pop("KS_ALLOW_DEPRECATED", None)
        sys.argv = [str(KS_SCRIPT), str(path), match.group(1)]
        try:
            runpy.run_path(str(KS_SCRIPT), run_name="__main__")
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            sys.argv = saved[0]
            if saved[1] is not None:
                os.environ["KS_ALLOW_DEPRECATED"] = saved[1]
    if code != 0:
        raise Rejected(f"$ check_kickstart.py {path} {match.group(1)}\nexit {code}\n{buf.getvalue()}", code)


def checker(rel: str) -> Optional[Callable[[Path], None]]:
    check = next((c for pattern, c in [*CHECKS, *EXTRA_CHECKS] if _matches(rel, pattern)), None)
    return check_kickstart_in_process if check is test_artefacts.check_kickstart_artefact else check


# --- running xenfab ------------------------------------------------------------------------------


@dataclass
class Run:
    rc: int
    stdout: bytes
    stderr: bytes
    tree: Optional[dict[str, bytes]]  # rel path → content (a link: b"-> target")
    out_exists: bool


def read_tree(root: Path) -> dict[str, bytes]:
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[rel] = b"-> " + os.readlink(path).encode("utf-8", "surrogateescape")
        elif path.is_file():
            tree[rel] = path.read_bytes()
    return tree


def write_tree(root: Path, tree: dict[str, bytes]) -> None:
    """The inverse of read_tree: files and links (`-> target`) under ROOT."""
    for rel, content in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith(b"-> "):
            path.symlink_to(content[3:].decode("utf-8", "surrogateescape"))
        else:
            path.write_bytes(content)


def xenfab(fmt: str, files: dict[str, bytes], workdir: Path, existing: Optional[dict[str, bytes]] = None) -> Run:
    """Write FILES into WORKDIR/in and render them into WORKDIR/out: a directory that does not
    exist, or one that holds EXISTING (a tree xenfab wrote before)."""
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`", pytrace=False)
    src = workdir / "in"
    src.mkdir(parents=True)
    for name, content in files.items():
        (src / name).write_bytes(content)
    out = workdir / "out"
    if existing is not None:
        write_tree(out, existing)
    if fmt.startswith("quattor"):
        template, target = QUATTOR_RENDER, src
    else:
        template, target = RENDER, src / next(iter(files))
    argv = [str(XENFAB), *(a.format(input=target, out=out) for a in template)]
    proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=False)
    tree = read_tree(out) if (proc.returncode == 0 or existing is not None) and out.is_dir() else None
    return Run(proc.returncode, proc.stdout, proc.stderr, tree, out.exists())


# --- the structure check -------------------------------------------------------------------------


def _encodings(value: str) -> list[str]:
    """VALUE as artefacts may write it: as it is, JSON, XML, shell- and backslash-quoted, and
    percent-encoded in a URL."""
    xml = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    forms = [
        value,
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value, ensure_ascii=True)[1:-1],
        xml,
        xml.replace('"', "&quot;").replace("'", "&apos;"),
        xml.replace('"', "&quot;").replace("'", "&#39;"),
        value.replace("'", "'\\''"),
        value.replace("'", "'\"'\"'"),
        value.replace("\\", "\\\\").replace('"', '\\"'),
        # trimmed: a %post hook loses its leading and trailing blank lines (not a structure)
        value.strip("\n"),
        value.rstrip("\n"),
        value.lstrip("\n"),
        urllib.parse.quote(value, safe="/:@!$&'()*+,;=-._~%"),
        urllib.parse.quote(value, safe="/:@-._~%"),
    ]
    return list(dict.fromkeys(forms))


def _same_structure(payload: bytes, good: bytes, pairs: list[tuple[str, str]]) -> bool:
    """Is PAYLOAD the file GOOD with, at each place GOOD holds a harmless value, the payload's
    value in one of its encodings (or the harmless value itself, where it was not the value)?"""
    goods = sorted({g for _, g in pairs if g}, key=len, reverse=True)
    if not goods:
        return payload == good
    choices: dict[bytes, list[bytes]] = {}
    for new, g in pairs:
        forms = [e.encode("utf-8") for e in _encodings(new)] + [g.encode("utf-8")]
        choices.setdefault(g.encode("utf-8"), []).extend(forms)
    parts = re.split(b"(" + b"|".join(re.escape(g.encode("utf-8")) for g in goods) + b")", good)
    pattern = b""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            forms = sorted(set(choices[part]), key=len, reverse=True)
            pattern += b"(?:" + b"|".join(re.escape(f) for f in forms) + b")"
    return re.fullmatch(pattern, payload, re.DOTALL) is not None


def _manifest_entries(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return None


def structure_problems(got: dict[str, bytes], want: dict[str, bytes], pairs: list[tuple[str, str]]) -> list[str]:
    """How the payload's tree GOT differs from the harmless value's tree WANT, beyond the value.

    PAIRS are (payload value, harmless value): the field's, and for Quattor every fabric value
    the profile value became."""
    def renamed(rel: str, present: object) -> str:
        """REL of the benign tree as the payload's tree names it (a path may hold the value)."""
        for new, g in pairs:
            candidate = rel.replace(g, new)
            if candidate != rel and candidate in present:  # type: ignore[operator]
                return candidate
        return rel

    problems = []
    expected = {renamed(rel, got): rel for rel in want}
    for rel in sorted(set(got) - set(expected)):
        problems.append(f"an extra file {_shown(rel.encode())}")
    for rel in sorted(set(expected) - set(got)):
        problems.append(f"file {_shown(rel.encode())} is missing")
    for rel, wrel in sorted(expected.items()):
        if rel not in got or len(problems) >= 3:
            continue
        if rel == ".xenfab-manifest.json":  # entries may sort differently: compare as data
            a, b = _manifest_entries(got[rel]), _manifest_entries(want[wrel])
            if not (isinstance(a, dict) and isinstance(b, dict)) or \
                    set(a.get("entries", {})) != {renamed(k, a.get("entries", {})) for k in b.get("entries", {})}:
                problems.append(f"{rel}: its entries are not the benign render's")
            continue
        if not _same_structure(got[rel], want[wrel], pairs):
            a = got[rel].decode("utf-8", "replace").splitlines()
            b = want[wrel].decode("utf-8", "replace").splitlines()
            diff = list(difflib.unified_diff(b, a, "benign", "payload", n=0, lineterm=""))[:12]
            problems.append(f"{rel} differs from the benign render beyond the value:\n" + _shown("\n".join(diff).encode(), 1500))
    return problems


def _shown(data: bytes, limit: int = 600) -> str:
    text = data.decode("utf-8", "replace")
    text = text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"
    return text.encode("unicode_escape").decode("ascii").replace("\\n", "\n")


# --- one case ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    verdict: str  # refused, accepted, or error
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # the artefacts run through a validator
    changed: int = 0
    rc: int = 0
    stderr: str = ""


_validated: dict[str, Optional[str]] = {}  # (checker, sha256) → None or the rejection
_base_trees: dict[str, dict[str, bytes]] = {}


def _validate_file(rel: str, content: bytes, tmp: Path) -> Optional[str]:
    check = checker(rel)
    if check is None:
        return None
    key = f"{rel.split('/')[0]}:{check.__name__}:{hashlib.sha256(content).hexdigest()}"
    if key in _validated:
        return _validated[key]
    # The checkers read the file's name (e.g. a kickstart's fqdn.ks, an xm config without an
    # extension): keep the last path segment.
    path = tmp / "check" / hashlib.sha256(rel.encode()).hexdigest()[:16] / Path(rel).name[-200:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        check(path)
        result = None
    except Rejected as e:
        result = f"{rel}: rejected by its validator:\n{_shown(str(e).encode(), 1500)}"
    except BaseException as e:  # pytest.fail/skip from a missing validator, a decode error
        if isinstance(e, KeyboardInterrupt):
            raise
        result = f"{rel}: its validator could not run: {type(e).__name__}: {_shown(str(e).encode())}"
    _validated[key] = result
    return result


def base_tree(case: hostile.Case, tmp: Path) -> dict[str, bytes]:
    key = case.fmt + ":" + case.id.split("-")[1] if not case.fmt.startswith("quattor") else case.fmt
    if key not in _base_trees:
        run = xenfab(case.fmt, case.base_files(), tmp / "base")
        if run.rc != 0 or run.tree is None:
            raise AssertionError(f"the unmutated {key} input does not render:\n{_shown(run.stderr)}")
        _base_trees[key] = run.tree
    return _base_trees[key]


def _refused_as_value(case: hostile.Case, run: Run, tmp: Path) -> bool:
    """Whether the harmless value of the payload's length is refused just as the payload is."""
    if run.rc != 1:  # only a clean refusal of invalid input can be the value's
        return False
    good = xenfab(case.fmt, case.benign_files(), tmp / "benign-refused")
    if good.rc != run.rc:
        return False
    strip = lambda err: re.sub(rb"/[^ :]*/(case|benign-refused)/", b"", err)  # noqa: E731
    return strip(good.stderr) == strip(run.stderr)


def run_case(case: hostile.Case) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="xenfab-hostile-", dir=TMP) as tmpname:
        tmp = Path(tmpname)
        run = xenfab(case.fmt, case.files(), tmp / "case")
        stderr = run.stderr.decode("utf-8", "replace")
        out = Outcome("accepted" if run.rc == 0 else "refused", rc=run.rc, stderr=_shown(run.stderr, 400))
        raw = RAW_CONTROL.search(stderr)
        if raw:
            out.problems.append(f"stderr holds a raw {raw.group()!r}: diagnostics must print it escaped")
        if run.rc != 0:
            if run.rc != 1:
                out.verdict = "error"
                out.problems.append(f"exit {run.rc}, not 1 (invalid input)")
            if run.out_exists:
                out.problems.append("the output directory was created although the input was refused")
            lines = {int(n) for n in re.findall(r"fabric\.(?:toml|json):(\d+):\d+:", stderr)}
            named = re.search(case.where, stderr) or (case.line is not None and case.line in lines)
            # The value itself may be the problem, not the payload in it: the harmless text of
            # the same length in its place is then refused with the same diagnostics (`/boot`
            # with `../` in its middle is `/b../oot`, a mount point, and no `/boot` is left).
            as_value = not named and _refused_as_value(case, run, tmp)
            if as_value:
                pass
            elif not named:
                out.problems.append(f"the message does not name the field ({case.where!r}"
                                    + (f" or line {case.line}" if case.line else "") + ")")
            elif lines and case.line is not None and case.line not in lines:
                out.problems.append(f"the message gives line(s) {sorted(lines)}, not the value's line {case.line}")
            if len(run.stderr) > MAX_STDERR:
                out.problems.append(f"stderr is {len(run.stderr)} bytes: the value is not shortened")
            if case.payload_class in INTO_EXISTING:  # the tree of an earlier render stays as it is
                base = base_tree(case, tmp)
                again = xenfab(case.fmt, case.files(), tmp / "existing", existing=base)
                if again.rc != run.rc or again.tree != base:
                    changed = sorted(set(base) ^ set(again.tree or {}) | {r for r in base if (again.tree or {}).get(r) != base[r]})
                    out.problems.append(f"refused into a tree of an earlier render: exit {again.rc}, and the tree changed"
                                        f" ({len(changed)} paths, e.g. {_shown(' '.join(changed[:3]).encode(), 200)})")
            return out
        if case.payload_class in hostile.ALWAYS_REFUSED:
            out.problems.append(f"a value holding {case.payload_class} ({hostile.PAYLOAD[case.payload_class]!r}) was accepted:"
                                " no artefact can carry it (it ends a line for a consumer, or is a control character)")
        assert run.tree is not None
        base = base_tree(case, tmp)
        changed = {rel: c for rel, c in run.tree.items() if base.get(rel) != c}
        out.changed = len(changed)
        for rel, content in sorted(changed.items()):
            if content.startswith(b"-> "):
                continue
            if checker(rel):
                out.checked.append(rel)
            problem = _validate_file(rel, content, tmp)
            if problem:
                out.problems.append(problem)
        good = xenfab(case.fmt, case.benign_files(), tmp / "benign")
        if good.rc != 0 or good.tree is None:
            out.problems.append(f"the same field with a harmless value of the same length ({case.benign[:40]!r}…) is refused,"
                                f" but the payload is accepted:\n{_shown(good.stderr)}")
            return out
        pairs = [(case.new, case.benign)]
        if case.fmt.startswith("quattor"):  # the fabric values the profile values became
            pairs = quattor_pairs(tmp / "case" / "in", tmp / "benign" / "in") or pairs
        out.problems += structure_problems(run.tree, good.tree, pairs)
        return out


def _fabric(profiles: Path) -> Optional[dict]:
    proc = subprocess.run([str(XENFAB), "quattor", "fabric", "--profiles", str(profiles)],
                          capture_output=True, timeout=TIMEOUT, check=False)
    try:
        return tomllib.loads(proc.stdout.decode("utf-8")) if proc.returncode == 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def quattor_pairs(payload: Path, good: Path) -> list[tuple[str, str]]:
    """The (payload, harmless) pairs of fabric values that the two profile sets differ in."""
    a, b = _fabric(payload), _fabric(good)
    pairs: list[tuple[str, str]] = []

    def walk(x: object, y: object) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            only_x, only_y = sorted(set(x) - set(y)), sorted(set(y) - set(x))
            if len(only_x) == len(only_y):
                pairs.extend(zip(only_x, only_y, strict=True))
                for kx, ky in zip(only_x, only_y, strict=True):
                    walk(x[kx], y[ky])
            for k in set(x) & set(y):
                walk(x[k], y[k])
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, j in zip(x, y, strict=True):
                walk(i, j)
        elif isinstance(x, str) and isinstance(y, str) and x != y:
            pairs.append((x, y))

    if a is not None and b is not None:
        walk(a, b)
    return list(dict.fromkeys(pairs))


# --- the matrix ----------------------------------------------------------------------------------

_filter = re.compile(os.environ.get("XENFAB_HOSTILE_FILTER", ""))
CASES = [c for c in hostile.all_cases() if _filter.search(c.id)]


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> dict[str, Outcome]:
    """Every selected case (`-k` selects too), run in a thread pool (xenfab and the validators
    are subprocesses)."""
    started = time.monotonic()
    selected = [item.callspec.params["case"] for item in request.session.items
                if getattr(item, "callspec", None) is not None and isinstance(item.callspec.params.get("case"), hostile.Case)]
    results: dict[str, Outcome] = {}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = {pool.submit(run_case, c): c for c in selected}
        for future in concurrent.futures.as_completed(futures):
            case = futures[future]
            try:
                results[case.id] = future.result()
            except Exception as e:  # a harness error is a failure of that case, not of all
                results[case.id] = Outcome("error", [f"{type(e).__name__}: {e}"])
    report = os.environ.get("XENFAB_HOSTILE_REPORT")
    if report:
        write_report(Path(report), results, time.monotonic() - started)
    return results


def _cause(problem: str) -> str:
    """A problem without what is particular to a case: failures are grouped by it."""
    first = problem.splitlines()[0]
    first = re.sub(r"^[^ ]+: rejected by its validator:", lambda m: "<" + _kind(m.group()) + ">: rejected by its validator", first)
    first = re.sub(r"'.*'|\(.*\)|\d+", "…", first)
    return first


def _kind(rel: str) -> str:
    rel = rel.split(":")[0]
    for pattern, _ in [*CHECKS, *EXTRA_CHECKS]:
        if _matches(rel, pattern):
            return pattern
    return rel


def write_report(path: Path, results: dict[str, Outcome], seconds: float) -> None:
    by_id = {c.id: c for c in CASES}
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for cid, o in sorted(results.items()):
        c = by_id[cid]
        for p in o.problems:
            groups[_cause(p)].append(f"{c.fmt} {c.field} {c.payload_class} ({c.position})")
    verdicts = collections.Counter((by_id[i].payload_class, o.verdict) for i, o in results.items())
    path.write_text(json.dumps({
        "cases": len(results),
        "seconds": round(seconds, 1),
        "failing": sum(1 for o in results.values() if o.problems),
        "by_class": {cls: {v: n for (k, v), n in verdicts.items() if k == cls} for cls, _ in hostile.PAYLOADS},
        "by_format": dict(collections.Counter(by_id[i].fmt for i in results)),
        "causes": {k: {"count": len(v), "cases": v} for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))},
        "outcomes": {i: {"verdict": o.verdict, "exit": o.rc, "stderr": o.stderr, "problems": o.problems, "checked": o.checked}
                     for i, o in sorted(results.items())},
    }, indent=1, ensure_ascii=True), encoding="utf-8")


def test_matrix_covers_every_field_and_class() -> None:
    """Every text field of the bases is in the matrix, with every class, in TOML and JSON."""
    if _filter.pattern:
        pytest.skip("XENFAB_HOSTILE_FILTER is set")
    labels = collections.defaultdict(set)
    for c in CASES:
        labels[(c.fmt, c.field)].add(c.payload_class)
    classes = {cls for cls, _ in hostile.PAYLOADS}
    assert all(v == classes for v in labels.values())
    for base_name, load in hostile.BASES.items():
        for fld, _ in hostile.fields(base_name, load()):
            assert ("toml", fld.label) in labels and ("json", fld.label) in labels, fld.label
    # The fields the issue names are there (the schema's text fields in the bases).
    seen = {label for _, label in labels}
    for label in ("site.name", "site.domain", "install.kickstart_url", "kickstart.root_password",
                  "kickstart.timezone", "kickstart.lang", "kickstart.keyboard", "kickstart.dom0.post[*]",
                  "kickstart.guest.packages[*]", "kickstart.repos[*].baseurl", "boot_images.*.append[*]",
                  "networks.<name>", "os.<name>", "hardware.<name>", "boot_images.<name>",
                  "partition_schemes.<name>", "hardware.*.disks[*].name", "partition_schemes.*.partitions[*].id",
                  "partition_schemes.*.logical_volumes[*].mount", "dom0s[*].guests[*].disks[*].vdev",
                  "dom0s[*].guests[*].name", "dom0s[*].mac", "kickstart.dom0.pre[*]",
                  "kickstart.guest.services.enabled[*]", "kickstart.dom0.services.disabled[*]",
                  "os.*.kickstart.pre[*]", "os.*.kickstart.services.enabled[*]",
                  "dom0s[*].guests[*].kickstart.services.disabled[*]", "dom0s[*].kickstart.pre[*]",
                  "dom0s[*].nics[*].name", "dom0s[*].bonds[*].name", "dom0s[*].bridges[*].ip",
                  "dom0s[*].guests[*].extra_nics[*].ip", "dom0s[*].guests[*].extra_nics[*].mac"):
        assert label in seen, label


def test_structure_check_goes_red() -> None:
    """The structure check accepts a value in any of its encodings, and nothing else."""
    good = {"a.conf": b'host qqq { option host-name "qqq"; }\n'}
    same = {"a.conf": b'host x"y { option host-name "x\\"y"; }\n'}
    assert not structure_problems(same, good, [('x"y', "qqq")])
    split = {"a.conf": b'host x\ny { option host-name "x\ny"; }\n'}
    assert not structure_problems(split, good, [("x\ny", "qqq")])  # the value itself: the validators judge it
    injected = {"a.conf": b'host x { option host-name "x"; } host y { option host-name "y"; }\n'}
    assert structure_problems(injected, good, [("x;y", "qqq")])
    assert structure_problems({"b.conf": good["a.conf"]}, good, [("x", "qqq")])  # a file renamed
    assert not structure_problems({"x.cfg": b"name = 'x'\n"}, {"qqq.cfg": b"name = 'qqq'\n"}, [("x", "qqq")])
    url = {"a.ks": b"url --url=http://h/a%22b\n"}
    assert not structure_problems(url, {"a.ks": b"url --url=http://h/aqb\n"}, [('a"b', "aqb")])


def test_kickstart_in_process_goes_red(tmp_path: Path) -> None:
    """The in-process kickstart check rejects what check_kickstart.py rejects."""
    ks = tmp_path / "h.example.org.ks"
    ks.write_text("#version=RHEL9\n" + (test_artefacts.BAD / "rhel9-typo.ks").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(Rejected, match="--sise"):
        check_kickstart_in_process(ks)
    ks.write_text("#version=RHEL5\n" + (test_artefacts.GOOD / "rhel5.ks").read_text(encoding="utf-8"), encoding="utf-8")
    check_kickstart_in_process(ks)


def test_refusal_checks_go_red(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary that writes although it refuses, exits 2 and echoes ESC fails every check."""
    fake = tmp_path / "xenfab"
    fake.write_text('#!/bin/sh\nfor a; do out=$a; done\nmkdir -p "$out"; echo x > "$out/stray"\n'
                    'printf "\\033[31mbroken\\n" >&2; exit 2\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(sys.modules[__name__], "XENFAB", fake)
    case = next(c for c in hostile.fabric_cases("toml") if c.payload_class in INTO_EXISTING)
    monkeypatch.setitem(_base_trees, case.fmt + ":" + case.id.split("-")[1], {"a.conf": b"kept\n"})
    problems = "\n".join(run_case(case).problems)
    for expected in ("raw '\\x1b'", "exit 2, not 1", "output directory was created", "does not name the field",
                     "refused into a tree of an earlier render"):
        assert expected in problems, (expected, problems)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_hostile(case: hostile.Case, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[case.id]
    if out.problems:
        head = (f"{case.fmt} {case.field} ← {case.payload_class} at {case.position}: {out.verdict} (exit {out.rc})"
                f"\nstderr: {out.stderr}")
        pytest.fail(head + "\n- " + "\n- ".join(out.problems), pytrace=False)
