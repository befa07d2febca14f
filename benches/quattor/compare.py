#!/usr/bin/env python3
"""Compares xenfab's Quattor profile reader with Python's xml.etree.ElementTree.

Generates N realistic profiles (generate.py; a quarter gzip'd) into a temporary directory,
then times, on the same files:

- Python: read each file, gunzip it if it is gzip'd, parse it with ElementTree and build the
  profile as Python values (dicts, lists, str, int, float, bool; base64 strings decoded), so
  that both sides end with a tree of values;
- Rust: `cargo run --release -p xenfab-core --example read_profiles -- DIR`, which does the
  same with `xenfab_core::input::quattor::profile::read_file`.

Each side runs --repeat times and its best run counts. Both must find the same number of
values. MB/s counts uncompressed XML (10^6 bytes).

    python3 benches/quattor/compare.py [-n 2000] [--repeat 3] [--keep DIR]

XENFAB_READ_PROFILES replaces the Rust command (split like a shell would), e.g. to run the
example from another checkout.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ beside the scripts

import generate  # noqa: E402

RUST_COMMAND = ["cargo", "run", "--release", "-q", "-p", "xenfab-core", "--example", "read_profiles", "--"]
TARGET = 5.0


def to_python(e: ET.Element, counter: list[int]) -> Any:
    """The value of a pan XML element, as Python values."""
    counter[0] += 1
    tag = e.tag
    if tag == "nlist":
        return {c.get("name"): to_python(c, counter) for c in e}
    if tag == "list":
        return [to_python(c, counter) for c in e]
    text = e.text or ""
    if tag == "string":
        if e.get("encoding") == "base64":
            return base64.b64decode("".join(text.split())).decode()
        return text
    if tag == "long":
        return int(text)
    if tag == "double":
        return float(text)
    if tag == "boolean":
        return text.strip() == "true"
    raise ValueError(f"unknown element <{tag}>")


def python_run(paths: list[Path]) -> tuple[float, int]:
    counter = [0]
    start = time.perf_counter()
    for path in paths:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        root = ET.fromstring(data)
        if root.tag != "nlist" or root.get("format") != "pan":
            raise ValueError(f"{path}: not a pan profile")
        to_python(root, counter)
    return time.perf_counter() - start, counter[0]


def rust_command() -> list[str]:
    override = os.environ.get("XENFAB_READ_PROFILES")
    return shlex.split(override) if override else RUST_COMMAND


def rust_run(directory: Path) -> tuple[float, int, float]:
    result = subprocess.run(
        [*rust_command(), str(directory)], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["seconds"], report["values"], report["seconds_parallel"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=2000, help="profiles to generate (2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best counts (3)")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="xenfab-quattor-bench-") as tmp:
        directory = args.keep or Path(tmp)
        stats = generate.generate(directory, args.count)
        paths = sorted(p for p in directory.iterdir() if p.name.endswith((".xml", ".xml.gz")))
        mb = stats["xml_bytes"] / 1e6
        gz = sum(p.name.endswith(".gz") for p in paths)
        print(
            f"{stats['files']} profiles ({gz} gzip'd): {mb:.1f} MB of XML, {stats['bytes'] / 1e6:.1f} MB on disk, "
            f"{stats['elements'] / stats['files']:.0f} elements a profile"
        )

        print("building and running the Rust reader …", file=sys.stderr)
        rust = [rust_run(directory) for _ in range(args.repeat)]
        python = [python_run(paths) for _ in range(args.repeat)]

    rust_s, rust_values, _ = min(rust)
    rust_parallel_s = min(r[2] for r in rust)
    python_s, python_values = min(python)
    if rust_values != python_values or rust_values != stats["elements"]:
        print(f"value counts differ: rust {rust_values}, python {python_values}, generated {stats['elements']}")
        return 1

    print(f"{'':<28}{'seconds':>10}{'MB/s':>10}{'profiles/s':>12}")
    cores = os.cpu_count() or 1
    rows = [
        ("python ElementTree + dicts", python_s),
        ("rust read_file, 1 thread", rust_s),
        (f"rust read_files, {cores} cores", rust_parallel_s),
    ]
    for name, seconds in rows:
        print(f"{name:<32}{seconds:>10.3f}{mb / seconds:>10.1f}{stats['files'] / seconds:>12.0f}")
    ratio = python_s / rust_s
    parallel = python_s / rust_parallel_s
    print(f"one thread: rust is {ratio:.1f}x as fast as ElementTree")
    verdict = "meets" if parallel >= TARGET else "misses"
    print(f"as xenfab quattor reads a profile set ({cores} cores): {parallel:.1f}x ({verdict} the {TARGET:.0f}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
