"""Deterministic mutants of dom0 kickstart files, for the differential test of ``xenfab ks
reinstall`` against pykickstart (``test_ks_reinstall_diff.py``).

Each mutant is a seed file with one to three edits, drawn from a seeded ``random.Random``:
every line break Python's ``splitlines`` knows, stray backslashes, quotes and ``#``,
Python-only white space before ``%``, partitioning lines duplicated, moved, altered or added
(``clearpart``, ``zerombr``, ``autopart``, ``part`` without ``--onpart``, reformatted
``logvol``…), ``%include``, ``%ksappend``, sections opened and closed anywhere, hostile bytes.
The same seed gives the same mutants, so a failure can be replayed by its index.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Where Python's ``str.splitlines`` ends a line, besides ``\n`` (pykickstart splits with it).
LINE_BREAKS = ["\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
#: White space to Python's ``str.isspace`` / ``lstrip`` but not to ``shlex`` (or to Rust).
PY_ONLY_SPACE = ["\x1c", "\x1d", "\x1e", "\x1f", "\xa0", "\u3000", "\u2003", "\x85"]
#: Lines that wipe, lay out or reformat disks.
WIPES = [
    "clearpart --all --initlabel",
    "clearpart --all --drives=sda,sdb",
    "clearpart --linux",
    "zerombr",
    "zerombr yes",
    "autopart",
    "reqpart",
    "part / --size=1024 --ondisk=sda",
    "part /boot --size=256",
    "part pv.09 --onpart=sda3",
    "part raid.09 --size=1 --ondisk=sdb",
    "part /srv --onpart=sdb1",
    "raid / --device=md1 --level=RAID1 raid.01 raid.11",
    "raid /srv --device=md7 --useexisting",
    "raid pv.02 --device=md3 --useexisting",
    "volgroup xenvg --useexisting",
    "volgroup xenvg pv.02",
    "volgroup newvg pv.09",
    "logvol /srv --vgname=xenvg --size=1024 --name=ullr",
    "logvol /srv --vgname=xenvg --name=ullr --useexisting",
    "logvol /srv --vgname=xenvg --name=ullr --noformat",
    "logvol / --vgname=systemvg --name=sysroot --size=1",
    "mount /dev/sdb1 /srv --reformat",
    "btrfs / --data=single btrfs.01",
    "dmraid --name=x --dev=sda",
    "ignoredisk --only-use=sda",
]
SECTIONS = [
    "%pre\n",
    "%post\n",
    "%post --nochroot\n",
    "%packages\n",
    "%end\n",
    "%pre-install\n",
    "%onerror\n",
    "%traceback\n",
    "%addon com_x\n",
    "%bogus\n",
    "%include /tmp/part-include\n",
    "%ksappend http://x/y\n",
    "  %end  \n",
    "%end # done\n",
    "%end\t\n",
]
HOSTILE = ["\\", "'", '"', "#", "%", "\t", " ", ";", "{", "}", "$(reboot)", "\x00", "\x1b[2J", "--", "../", "\u202e", "é"]
OPTIONS = [
    "--noformat", "--useexisting", "--onpart=sda1", "--usepart=sdb2", "--grow", "--asprimary",
    "--size=1", "--ondisk=sdb", "--fstype=ext3", "--vgname=xenvg", "--name=x", "--device=md9",
    "--level=RAID1", "--ondi=sda", "--useex", "--noformat=yes", "raid.01", "pv.01",
]
LAYOUT = re.compile(r"^\s*(clearpart|zerombr|part|partition|raid|volgroup|logvol)\b")


@dataclass(frozen=True)
class Seed:
    """A seed kickstart file and the pykickstart handler of its ``#version=``."""

    name: str
    text: str
    version: str


@dataclass(frozen=True)
class Mutant:
    """A mutant: its index (to replay it), the seed, what was done, the text."""

    index: int
    seed: Seed
    edits: tuple[str, ...]
    text: str


def seeds() -> list[Seed]:
    """The fixtures (and their reinstall variants) and every rendered dom0 kickstart of the
    golden corpus (those with a ``.reinstall.ks`` beside them)."""
    paths = sorted((ROOT / "tests" / "fixtures" / "kickstart").glob("*.ks"))
    for reinstall in sorted((ROOT / "tests" / "cases").glob("*/expected/kickstart/*.reinstall.ks")):
        paths.append(reinstall)
        paths.append(reinstall.with_name(reinstall.name.replace(".reinstall.ks", ".ks")))
    out = []
    for p in paths:
        text = p.read_text()
        m = re.match(r"#version=(RHEL\d+)", text)
        assert m, f"{p}: no #version= line"
        out.append(Seed(str(p.relative_to(ROOT)), text, m.group(1)))
    return out


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _join(lines: list[str]) -> str:
    return "\n".join(lines)


def _mutate(rng: random.Random, text: str) -> tuple[str, str]:
    """One edit: (its description, the new text)."""
    lines = _lines(text)
    n = len(lines)
    i = rng.randrange(n)
    layout = [k for k, line in enumerate(lines) if LAYOUT.match(line)] or [i]
    j = rng.choice(layout)
    op = rng.randrange(16)
    if op == 0:  # a line break of Python's where a \n was, or inside a line
        sep = rng.choice(LINE_BREAKS)
        k = rng.choice([j, i])
        if rng.random() < 0.5 and k > 0:
            return f"break {sep!r} before line {k + 1}", _join(lines[: k - 1] + [lines[k - 1] + sep + lines[k]] + lines[k + 1 :])
        line = lines[k]
        at = rng.randrange(len(line) + 1)
        return f"break {sep!r} in line {k + 1}", _join(lines[:k] + [line[:at] + sep + line[at:]] + lines[k + 1 :])
    if op == 1:  # a stray backslash at the end of a line, before a wipe
        k = rng.choice([i, max(j - 1, 0)])
        return f"backslash after line {k + 1}", _join(lines[: k] + [lines[k] + rng.choice(["\\", " \\", "\\\\", "\\ "]), rng.choice(WIPES)] + lines[k + 1 :])
    if op == 2:  # a quote, `#` or hostile text anywhere in a line
        k = rng.choice([i, j])
        line = lines[k]
        at = rng.randrange(len(line) + 1)
        h = rng.choice(HOSTILE)
        return f"insert {h!r} in line {k + 1}", _join(lines[:k] + [line[:at] + h + line[at:]] + lines[k + 1 :])
    if op == 3:  # Python-only white space before a `%` line or a command
        ws = rng.choice(PY_ONLY_SPACE) * rng.randint(1, 2)
        pct = [k for k, line in enumerate(lines) if line.lstrip().startswith("%")] or [i]
        k = rng.choice(pct + [j])
        return f"space {ws!r} before line {k + 1}", _join(lines[:k] + [ws + lines[k]] + lines[k + 1 :])
    if op == 4:  # a partitioning line duplicated elsewhere
        return f"copy line {j + 1} to {i + 1}", _join(lines[:i] + [lines[j]] + lines[i:])
    if op == 5:  # a partitioning line moved
        line = lines.pop(j)
        k = rng.randrange(len(lines) + 1)
        return f"move line {j + 1} to {k + 1}", _join(lines[:k] + [line] + lines[k:])
    if op == 6:  # a wipe or layout line added
        w = rng.choice(WIPES)
        return f"add {w!r} at {i + 1}", _join(lines[:i] + [w] + lines[i:])
    if op == 7:  # a section line added
        s = rng.choice(SECTIONS).rstrip("\n")
        return f"add {s!r} at {i + 1}", _join(lines[:i] + [s] + lines[i:])
    if op == 8:  # a section wrapping a wipe
        s = rng.choice(SECTIONS[:4]).rstrip("\n")
        w = rng.choice(WIPES)
        end = rng.choice(["%end", "", "\x1f%end", "\xa0%end", "%end\x1f", "%end#", "%end 'x"])
        return f"add {s!r}+{w!r}+{end!r} at {i + 1}", _join(lines[:i] + [s, w, end] + lines[i:])
    if op == 9:  # a line removed
        k = rng.choice([i, j])
        return f"delete line {k + 1}", _join(lines[:k] + lines[k + 1 :])
    if op == 10:  # an option added to a layout line
        o = rng.choice(OPTIONS)
        return f"option {o!r} on line {j + 1}", _join(lines[:j] + [lines[j] + " " + o] + lines[j + 1 :])
    if op == 11:  # an option removed from a layout line
        words = lines[j].split(" ")
        if len(words) > 1:
            del words[rng.randrange(1, len(words))]
        return f"drop a word of line {j + 1}", _join(lines[:j] + [" ".join(words)] + lines[j + 1 :])
    if op == 12:  # the whole file with CRLF
        return "crlf", text.replace("\n", "\r\n")
    if op == 13:  # a comment marker before or inside a layout line
        line = lines[j]
        at = rng.randrange(len(line) + 1)
        return f"'#' in line {j + 1}", _join(lines[:j] + [line[:at] + rng.choice(["#", " #", "\\#", "'#'"]) + line[at:]] + lines[j + 1 :])
    if op == 14:  # a quote opened on one line and closed on the next
        q = rng.choice(["'", '"'])
        k = min(j, n - 2) if n > 1 else 0
        return f"quote across lines {k + 1}", _join(lines[:k] + [lines[k] + " " + q] + [q + lines[k + 1] if k + 1 < n else q] + lines[k + 2 :])
    # two lines swapped
    k = rng.randrange(n)
    lines[j], lines[k] = lines[k], lines[j]
    return f"swap lines {j + 1} and {k + 1}", _join(lines)


def mutants(count: int, seed: int = 20080612) -> Iterator[Mutant]:
    """``count`` mutants of the seed files, deterministic for a given ``seed``."""
    rng = random.Random(seed)
    bases = seeds()
    for index in range(count):
        base = bases[index % len(bases)]
        text = base.text
        edits = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            edit, text = _mutate(rng, text)
            edits.append(edit)
        yield Mutant(index, base, tuple(edits), text)
