"""The golden corpus through Python: every case of ``tests/cases/`` gives, through
:class:`xenfab.Fabric`, exactly what the Rust harness (``xenfab-core/tests/golden.rs``) checks.

A case with ``expected/`` renders to that tree, file for file and link for link; its
``diagnostics.txt`` (when it has one) holds its warnings. A case without ``expected/`` is
invalid: its diagnostics, or the parse error it raises, are the lines of ``diagnostics.txt``.
As in the Rust harness, a fabric file is named by its file name and a profile folder by
``profiles``.
"""

from __future__ import annotations

import os
import pathlib

import pytest

import xenfab

CASES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "cases"


def cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def load(case: pathlib.Path) -> tuple[xenfab.Fabric, str]:
    """The case's fabric, and the text its diagnostics name it by (replaced as the CLI shows it)."""
    for name in ("fabric.toml", "fabric.json"):
        path = case / name
        if path.exists():
            text = path.read_text()
            if name.endswith(".json"):
                return xenfab.Fabric.from_json(text, name), name
            return xenfab.Fabric.from_toml(text, name), name
    profiles = case / "profiles"
    return xenfab.Fabric.from_quattor(profiles), str(profiles)


def shown(text: str, case: pathlib.Path) -> str:
    return text.replace(str(case / "profiles"), "profiles")


def read_tree(root: pathlib.Path) -> dict[str, str | xenfab.Link]:
    tree: dict[str, str | xenfab.Link] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if (pathlib.Path(dirpath) / d).is_symlink()]:
            path = pathlib.Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = xenfab.Link(os.readlink(path))
            else:
                tree[rel] = path.read_text()
    return tree


def expected_lines(case: pathlib.Path) -> list[str]:
    path = case / "diagnostics.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("name", cases())
def test_case(name: str) -> None:
    case = CASES / name
    want = expected_lines(case)
    try:
        fabric, _ = load(case)
    except xenfab.ParseError as e:
        assert not (case / "expected").exists()
        assert [shown(str(e), case)] == want
        return
    assert [shown(str(d), case) for d in fabric.validate()] == want
    if (case / "expected").is_dir():
        rendered = fabric.render()
        expected = read_tree(case / "expected")
        assert sorted(rendered) == sorted(expected)
        for path, entry in expected.items():
            assert rendered[path] == entry, path
        assert fabric.render() == rendered, "rendering is not deterministic"
    else:
        assert any(d.severity == "error" for d in fabric.validate())
        with pytest.raises(xenfab.ValidationError) as raised:
            fabric.render()
        assert [shown(str(d), case) for d in raised.value.diagnostics] == want


@pytest.mark.parametrize("name", [n for n in cases() if (CASES / n / "profiles").is_dir()])
def test_from_quattor_takes_str_and_path(name: str) -> None:
    assert xenfab.Fabric.from_quattor(CASES / name / "profiles").validate() == (
        xenfab.Fabric.from_quattor(str(CASES / name / "profiles")).validate()
    )


@pytest.mark.parametrize(
    "name", [n for n in cases() if (CASES / n / "expected").is_dir() and not (CASES / n / "profiles").exists()]
)
def test_from_file_renders_the_same(name: str) -> None:
    case = CASES / name
    path = next(case / n for n in ("fabric.toml", "fabric.json") if (case / n).exists())
    fabric, _ = load(case)
    assert xenfab.Fabric.from_file(path).render() == fabric.render()
