"""The source distribution carries every file the build reads: each file that the packaged
crates embed with ``include_str!``, ``include_bytes!`` or ``include!`` is in it.

``maturin sdist`` packs the crates that the package builds (``xenfab-py`` and ``xenfab-core``)
and nothing else of the repository: a crate that embeds a file outside itself (as the example
site once was, ``../../examples/seed-site.toml``) builds here and fails to build from the
sdist. The test builds the sdist (about a second), reads the Rust sources out of it and looks
up every embedded file in its listing. Code under ``#[cfg(test)]`` is not built from the sdist,
so the files only tests embed (fixtures of ``tests/``) are left out.

Building and installing the sdist itself is a release build of every dependency, minutes, so
it is done by hand: ``maturin sdist -o DIR`` and ``pip install DIR/xenfab-*.tar.gz`` in a
fresh venv.

``XENFAB_SDIST=skip`` skips the test (it needs maturin, which the test venv has).
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

skippable = pytest.mark.skipif(os.environ.get("XENFAB_SDIST") == "skip", reason="XENFAB_SDIST=skip")

TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*)
    | (?P<block>/\*)
    | (?P<string>b?r(?P<hashes>\#*)")
    | (?P<quoted>b?")
    | (?P<char>b?'(?:[^'\\\n]|\\(?:[^u\n]|u\{[0-9a-fA-F]+\}))')
    | (?P<lifetime>'[A-Za-z_][A-Za-z0-9_]*)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>[0-9][A-Za-z0-9_.]*)
    | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
QUOTED_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
ESCAPE = re.compile(r"\\(.)")


def tokens(text: str) -> list[tuple[str, str]]:
    """The tokens of Rust source ``text`` that matter here, as ``(kind, text)``: identifiers,
    punctuation, and string literals with their value (escapes undone well enough for file
    names); comments, whitespace, characters and lifetimes are dropped."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m is not None
        kind = m.lastgroup if m.lastgroup != "hashes" else "string"
        pos = m.end()
        if m.group("block"):
            depth = 1
            while depth:
                opening, closing = text.find("/*", pos), text.find("*/", pos)
                assert closing >= 0, "unterminated block comment"
                if 0 <= opening < closing:
                    depth, pos = depth + 1, opening + 2
                else:
                    depth, pos = depth - 1, closing + 2
        elif m.group("string"):
            end = text.index('"' + m.group("hashes"), pos)
            out.append(("str", text[pos:end]))
            pos = end + 1 + len(m.group("hashes"))
        elif m.group("quoted"):
            end = QUOTED_END.match(text, pos)
            assert end is not None, "unterminated string"
            out.append(("str", ESCAPE.sub(r"\1", text[pos : end.end() - 1])))
            pos = end.end()
        elif kind in ("ident", "punct", "number"):
            out.append((kind, m.group()))
    return out


CFG_TEST = [("punct", "#"), ("punct", "["), ("ident", "cfg"), ("punct", "("), ("ident", "test"), ("punct", ")"), ("punct", "]")]
OPEN, CLOSE = {"(": ")", "[": "]", "{": "}"}, {")", "]", "}"}


def embedded(text: str) -> tuple[list[str], list[str]]:
    """The files that the code of ``text`` outside ``#[cfg(test)]`` items embeds, as written,
    and the modules declared ``#[cfg(test)] mod name;`` (whose files are test code)."""
    toks = tokens(text)
    files: list[str] = []
    test_modules: list[str] = []
    i = 0
    while i < len(toks):
        if toks[i : i + len(CFG_TEST)] == CFG_TEST:
            # Skip the item: to its `;` or the end of its first `{ … }`, outside brackets.
            j, depth = i + len(CFG_TEST), 0
            while True:
                kind, tok = toks[j]
                if kind == "punct" and tok in OPEN:
                    depth += 1
                elif kind == "punct" and tok in CLOSE:
                    depth -= 1
                    if depth == 0 and tok == "}":
                        break
                elif kind == "punct" and tok == ";" and depth == 0:
                    item = [t for _, t in toks[i + len(CFG_TEST) : j]]
                    if item[-2:-1] == ["mod"]:
                        test_modules.append(item[-1])
                    break
                j += 1
            i = j + 1
            continue
        kind, tok = toks[i]
        if kind == "ident" and tok in ("include_str", "include_bytes", "include") and toks[i + 1 : i + 3] == [
            ("punct", "!"),
            ("punct", "("),
        ]:
            arg = toks[i + 3]
            assert arg[0] == "str", f"{tok}! of something other than a string literal: {toks[i + 3 : i + 6]}"
            files.append(arg[1])
        i += 1
    return files, test_modules


def module_dir(path: str) -> str:
    """The folder of the files of the modules that ``path`` declares."""
    if posixpath.basename(path) in ("lib.rs", "main.rs", "mod.rs"):
        return posixpath.dirname(path)
    return path[: -len(".rs")]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tarfile.TarFile:
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run(
        [sys.executable, "-m", "maturin", "sdist", "--manifest-path", str(ROOT / "xenfab-py" / "Cargo.toml"), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    [archive] = out.glob("xenfab-*.tar.gz")
    return tarfile.open(archive)


@skippable
def test_the_sdist_has_every_file_the_crates_embed(sdist: tarfile.TarFile) -> None:
    names = set(sdist.getnames())
    [top] = {name.split("/", 1)[0] for name in names}
    crates = sorted(posixpath.dirname(n) for n in names if n.endswith("/Cargo.toml") and n.count("/") == 2)
    assert [posixpath.basename(c) for c in crates] == ["xenfab-core", "xenfab-py"], crates

    built: list[str] = []
    for crate in crates:
        # What the build compiles: build.rs and src/, less the modules only tests declare.
        sources = sorted(n for n in names if n.startswith(f"{crate}/src/") and n.endswith(".rs"))
        if f"{crate}/build.rs" in names:
            sources.insert(0, f"{crate}/build.rs")
        scanned: dict[str, tuple[list[str], list[str]]] = {}
        for source in sources:
            member = sdist.extractfile(source)
            assert member is not None
            scanned[source] = embedded(member.read().decode())
        test_only = [posixpath.join(module_dir(source), m) for source, (_, mods) in scanned.items() for m in mods]
        for source, (files, _) in scanned.items():
            if not any(source == t + ".rs" or source.startswith(t + "/") for t in test_only):
                built.extend(posixpath.normpath(posixpath.join(posixpath.dirname(source), f)) for f in files)

    missing = sorted(f for f in built if f not in names)
    assert not missing, f"embedded by the crates but not in the sdist: {missing}"
    # The check sees what it should: the templates, and the example site.
    assert f"{top}/xenfab-core/examples/seed-site.toml" in built
    assert sum("/templates/" in f for f in built) >= 20


def test_test_code_is_told_apart() -> None:
    """The scan of the test above: embeds under ``#[cfg(test)]`` do not count, others do,
    whatever the comments and strings around them hold."""
    text = r"""
        //! Docs naming include_str!("docs.txt").
        const A: &str = include_str!("templates/a.j2"); /* include_str!("no.txt") */
        #[doc = include_str!("../README.md")]
        pub fn f() -> char { let _ = "}{ include_str!(\"no\") \""; let _ = r#"{"#; '}' }
        fn g<'a>(x: &'a str) -> &'a str { x }
        #[cfg(test)]
        const T: [u8; 2] = *include_bytes!("../../tests/t.bin");
        #[cfg(test)]
        mod testing;
        #[cfg(test)]
        mod tests {
            const U: &str = include_str!("../../tests/u.txt");
            fn h() -> &'static str { "}" }
        }
        static B: &[u8] = include_bytes!("b.bin");
    """
    assert embedded(text) == (["templates/a.j2", "../README.md", "b.bin"], ["testing"])
