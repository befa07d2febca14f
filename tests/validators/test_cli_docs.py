"""``xenfab man`` and ``xenfab completions``, checked by what reads them.

- Every page ``xenfab man --dir`` writes is read by groff as ``man`` reads it (``-k``: the
  pages are UTF-8, preconv; ``-man``; ``-ww``: every warning) with no warning, and
  ``man -l`` shows ``xenfab.1`` with every command in it.
- The completion scripts load in their shells: bash (sourced, then asked to complete
  ``xenfab re`` and ``xenfab render --ch``), zsh (``compinit -D``, the script as ``_xenfab``,
  parsed with ``zsh -n``) and fish (``fish --no-execute``).

The ``xenfab`` binary is ``target/debug/xenfab`` (built by ``cargo test``) unless ``XENFAB``
names another.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XENFAB = Path(os.environ.get("XENFAB", ROOT / "target" / "debug" / "xenfab"))
COMMANDS = ["validate", "render", "mac", "example", "schema", "ks", "xend-config",
            "dhcpd-config", "boot", "status", "show", "report", "quattor", "serve",
            "completions", "man"]


def xenfab(*args: str) -> str:
    if not XENFAB.exists():
        pytest.fail(f"{XENFAB} is missing: build it with `cargo build -p xenfab-cli`")
    r = subprocess.run([str(XENFAB), *args], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False,
                          env={**os.environ, "MANWIDTH": "100", "LC_ALL": "C.UTF-8"})


def test_every_man_page_reads_without_a_warning(tmp_path: Path) -> None:
    listed = xenfab("man", "--dir", str(tmp_path)).split()
    pages = sorted(tmp_path.iterdir())
    assert sorted(str(p) for p in pages) == sorted(listed)
    assert {p.name for p in pages} == {"xenfab.1", *(f"xenfab-{c}.1" for c in COMMANDS)}
    for page in pages:
        r = run(["groff", "-k", "-man", "-Tutf8", "-ww", "-z", str(page)])
        assert r.returncode == 0 and r.stderr == "", f"{page.name}: {r.stderr}"
    # the page printed is the directory's xenfab.1
    assert xenfab("man") == (tmp_path / "xenfab.1").read_text(encoding="utf-8")
    shown = run(["man", "-l", str(tmp_path / "xenfab.1")])
    assert shown.returncode == 0, shown.stderr
    words = " ".join(shown.stdout.split())  # as set: justified, wrapped
    assert "Render every provisioning artefact of a Xen fabric" in words, words
    for command in COMMANDS:
        assert f"xenfab-{command}(1)" in words, command
    render = " ".join(run(["man", "-l", str(tmp_path / "xenfab-render.1")]).stdout.split())
    for flag in ("--dry-run", "--check", "--stat", "--force"):
        assert flag in render, flag


def test_bash_completes_commands_and_options() -> None:
    script = xenfab("completions", "bash")
    probe = (
        f"{script}\n"
        "COMP_WORDS=(xenfab re); COMP_CWORD=1; _xenfab xenfab re xenfab\n"
        'echo "commands: ${COMPREPLY[*]}"\n'
        "COMP_WORDS=(xenfab render --ch); COMP_CWORD=2; _xenfab xenfab --ch render\n"
        'echo "options: ${COMPREPLY[*]}"\n'
        "complete -p xenfab\n"
    )
    r = run(["bash", "--norc", "--noprofile", "-s"], stdin=probe)
    assert r.returncode == 0, r.stderr
    assert "commands: render report\n" in r.stdout
    assert "options: --check\n" in r.stdout
    assert "-F _xenfab xenfab" in r.stdout


def test_zsh_and_fish_read_their_scripts(tmp_path: Path) -> None:
    zsh = tmp_path / "_xenfab"
    zsh.write_text(xenfab("completions", "zsh"), encoding="utf-8")
    r = run(["zsh", "-n", str(zsh)])
    assert r.returncode == 0, r.stderr
    # -D: no dump file. (Not `-d /dev/null`: compdump writes its dump beside the name and
    # `mv -f`s it there, which as root replaces /dev/null with a regular file; everything
    # that then writes to /dev/null fills it, and everything that reads it gets that text.)
    r = run(["zsh", "-f", "-c", f"fpath=({tmp_path} $fpath); autoload -U compinit; "
             "compinit -u -D; print -r -- ${_comps[xenfab]}"])
    assert r.returncode == 0 and r.stdout.strip() == "_xenfab", r.stdout + r.stderr
    fish = tmp_path / "xenfab.fish"
    fish.write_text(xenfab("completions", "fish"), encoding="utf-8")
    r = run(["fish", "--no-execute", str(fish)])
    assert r.returncode == 0, r.stderr
    r = run(["fish", "--no-config", "-c", f"source {fish}; complete -C 'xenfab sta'"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\t")[0].strip() == "status", r.stdout
