#!/usr/bin/env python3
"""Writes the synthetic scale site as a fabric file: N dom0s x G guests (default 10,000 x 10,
110,000 hosts), TOML or JSON by the file's extension.

The site is benches/python/fabric_gen.py's `synthetic_fabric` (one /8 network, R710 dom0s
running CentOS 5, CentOS-4 PV guests of 1 GiB with MACs from `local-ipv4`), so every size it
takes is a valid fabric. `--change-guest` sets one guest's memory (the compare script's
one-guest change), e.g. `--change-guest vm0000-00=1536M`.

    python3 benches/scale/generate.py [--dom0s 10000] [--guests 10] [--check] OUT.toml|OUT.json

The output depends only on the arguments.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))

from fabric_gen import synthetic_fabric  # noqa: E402

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    """A TOML scalar, array or inline table (JSON's string escapes are valid TOML basic strings
    for the printable ASCII this site has)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(out: list[str], path: list[str], table: dict[str, Any]) -> None:
    """Appends `table`'s plain keys, then its sub-tables and arrays of tables, to `out`."""
    for k, v in table.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            out.append(f"{_key(k)} = {_value(v)}\n")
    for k, v in table.items():
        sub = [*path, _key(k)]
        if isinstance(v, dict):
            out.append(f"\n[{'.'.join(sub)}]\n")
            _table(out, sub, v)
        elif _is_table_array(v):
            for item in v:
                out.append(f"\n[[{'.'.join(sub)}]]\n")
                _table(out, sub, item)


def to_toml(fabric: dict[str, Any]) -> str:
    """The fabric as TOML: tables and arrays of tables (`[[dom0s]]`, `[[dom0s.guests]]`)."""
    out: list[str] = []
    _table(out, [], fabric)
    return "".join(out)


def to_text(fabric: dict[str, Any], path: Path) -> str:
    """The fabric in the syntax of `path`'s extension (xenfab's rule: `.json` is JSON)."""
    if path.suffix == ".json":
        return json.dumps(fabric, indent=1) + "\n"
    return to_toml(fabric)


def site(dom0s: int, guests: int, change: str | None = None) -> dict[str, Any]:
    """The fabric as a dict, with `guest=memory` applied when `change` is given."""
    fabric: dict[str, Any] = synthetic_fabric(dom0s, guests)
    if change:
        name, _, memory = change.partition("=")
        found = [g for d in fabric["dom0s"] for g in d["guests"] if g["name"] == name]
        if not found:
            raise SystemExit(f"--change-guest: no guest {name!r} in this site")
        found[0]["memory"] = memory
    return fabric


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dom0s", type=int, default=10_000)
    parser.add_argument("--guests", type=int, default=10, help="guests a dom0")
    parser.add_argument("--change-guest", metavar="NAME=MEMORY", help="e.g. vm0000-00=1536M")
    parser.add_argument(
        "--check", action="store_true", help="parse the written file back and compare (slow)"
    )
    parser.add_argument("out", type=Path, help="the fabric file (.toml or .json)")
    args = parser.parse_args()

    fabric = site(args.dom0s, args.guests, args.change_guest)
    text = to_text(fabric, args.out)
    args.out.write_text(text, encoding="utf-8")
    if args.check:
        import tomllib

        back = json.loads(text) if args.out.suffix == ".json" else tomllib.loads(text)
        if back != fabric:
            print(f"{args.out}: does not read back as the site", file=sys.stderr)
            return 1
    hosts = args.dom0s * (1 + args.guests)
    print(f"{args.out}: {args.dom0s} dom0s x {args.guests} guests ({hosts} hosts), {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
