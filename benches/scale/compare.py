#!/usr/bin/env python3
"""Times xenfab on the synthetic scale site against the raw cost of the same files and a plain
Jinja2 renderer, in one go, and prints the ratios issue 15's "Done when" names.

    nice -n 19 python3 benches/scale/compare.py [--dom0s 10000] [--guests 10] [--format toml]
        [--xenfab target/release/xenfab] [--dir /var/tmp] [--json OUT] [--keep] [--skip STEP]

Every step runs in a fresh child process, in one temporary directory (on one filesystem);
wall time is the parent's clock around the child, user/sys time and peak memory (RSS) are
the child's own (`os.wait4`). Pending writes are flushed (`sync`) before each step, outside
its time. See README.md for what each row means.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

SUMMARY = re.compile(r"(\d+) created, (\d+) changed, (\d+) unchanged, (\d+) removed")
CHANGED_GUEST = "vm0000-00"
CHANGED_MEMORY = "1536M"
STEPS = (
    "validate",
    "first-write",
    "rerun",
    "raw",
    "raw-fsync",
    "one-guest",
    "dry-run",
    "jinja2-write",
    "jinja2-rerun",
    "jinja2-memory",
    "xenfab-memory",
)


# --- the child steps (run as `compare.py --step NAME ...`, print one JSON object) ---------


def _python_compare() -> Any:
    """benches/python/compare.py as a module (its Jinja2 renderer and templates)."""
    path = HERE.parent / "python" / "compare.py"
    spec = importlib.util.spec_from_file_location("python_compare", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _listing(src: Path) -> tuple[list[str], list[tuple[str, bytes]], list[tuple[str, str]]]:
    """(directories, files with contents, symlinks with targets) under `src`, relative, in
    walk order; xenfab's lock file is left out (it is not an artefact)."""
    dirs: list[str] = []
    files: list[tuple[str, bytes]] = []
    links: list[tuple[str, str]] = []
    for root, dnames, fnames in os.walk(src):
        rel = os.path.relpath(root, src)
        dnames.sort()
        for name in sorted(fnames):
            path = os.path.join(root, name)
            relpath = name if rel == "." else os.path.join(rel, name)
            if os.path.islink(path):
                links.append((relpath, os.readlink(path)))
            elif relpath != ".xenfab-lock":
                with open(path, "rb") as f:
                    files.append((relpath, f.read()))
        for name in dnames:
            path = os.path.join(root, name)
            relpath = name if rel == "." else os.path.join(rel, name)
            if os.path.islink(path):
                links.append((relpath, os.readlink(path)))
            else:
                dirs.append(relpath)
    return dirs, files, links


def step_raw(src: Path, dst: Path, fsync: bool) -> dict[str, Any]:
    """Recreates `src`'s listing at `dst` with plain open/write (and os.fsync per file, then one
    fsync per directory, with `fsync`); times only the creation."""
    dirs, files, links = _listing(src)
    start = time.perf_counter()
    dst.mkdir()
    for d in dirs:
        os.mkdir(dst / d)
    for rel, data in files:
        with open(dst / rel, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
    for rel, target in links:
        os.symlink(target, dst / rel)
    if fsync:
        for d in [".", *dirs]:
            fd = os.open(dst / d, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "files": len(files),
        "links": len(links),
        "dirs": len(dirs),
        "bytes": sum(len(d) for _, d in files),
    }


def _write_tree(tree: dict[str, Any], dst: Path, link_type: Any) -> None:
    made: set[Path] = set()
    for rel, entry in tree.items():
        path = dst / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if isinstance(entry, link_type):
            if path.is_symlink():
                path.unlink()
            os.symlink(entry.target, path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(entry)


def step_jinja2(dom0s: int, guests: int, dst: Path | None, same_as: Path | None) -> dict[str, Any]:
    """Renders the Jinja2 side of benches/python/compare.py (and writes it to `dst`, no fsync:
    every file rewritten, as a plain script does on each run). With `same_as` (xenfab's tree),
    counts afterwards, outside the time, the entries that are byte for byte xenfab's."""
    pc = _python_compare()
    fabric = generate.site(dom0s, guests, f"{CHANGED_GUEST}={CHANGED_MEMORY}")
    start = time.perf_counter()
    tree = pc.render_jinja(fabric)
    rendered = time.perf_counter()
    if dst is not None:
        _write_tree(tree, dst, pc.Link)
    end = time.perf_counter()
    links = sum(isinstance(e, pc.Link) for e in tree.values())
    out: dict[str, Any] = {
        "seconds": end - start,
        "render_seconds": rendered - start,
        "write_seconds": end - rendered,
        "files": len(tree) - links,
        "links": links,
    }
    if same_as is not None:
        same = 0
        for rel, entry in tree.items():
            path = same_as / rel
            if isinstance(entry, pc.Link):
                same += path.is_symlink() and os.readlink(path) == entry.target
            elif path.is_file() and not path.is_symlink():
                same += path.read_bytes() == entry.encode()
        out["same_as_xenfab"] = f"{same} of {len(tree)}"
    return out


def step_xenfab_memory(dom0s: int, guests: int) -> dict[str, Any]:
    """xenfab's render to memory through its Python package: `Fabric.from_dict(...).render()`."""
    import xenfab

    fabric = generate.site(dom0s, guests, f"{CHANGED_GUEST}={CHANGED_MEMORY}")
    start = time.perf_counter()
    tree = xenfab.Fabric.from_dict(fabric).render()
    seconds = time.perf_counter() - start
    links = sum(not isinstance(e, str) for e in tree.values())
    return {
        "seconds": seconds,
        "files": len(tree) - links,
        "links": links,
        "module": xenfab.__file__,
        "version": getattr(xenfab, "__version__", "?"),
    }


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", required=True)
    parser.add_argument("--dom0s", type=int)
    parser.add_argument("--guests", type=int)
    parser.add_argument("--src", type=Path)
    parser.add_argument("--dst", type=Path)
    parser.add_argument("--fsync", action="store_true")
    parser.add_argument("--same-as", type=Path)
    a = parser.parse_args(argv)
    if a.step == "count":
        dirs, files, links = _listing(a.src)
        out = {"dirs": len(dirs), "files": len(files), "links": len(links),
               "bytes": sum(len(d) for _, d in files)}
    elif a.step == "raw":
        out = step_raw(a.src, a.dst, a.fsync)
    elif a.step == "jinja2":
        out = step_jinja2(a.dom0s, a.guests, a.dst, a.same_as)
    elif a.step == "xenfab-memory":
        out = step_xenfab_memory(a.dom0s, a.guests)
    else:
        raise SystemExit(f"no step {a.step}")
    json.dump(out, sys.stdout)
    return 0


# --- the parent --------------------------------------------------------------------------


def run(argv: list[str], work: Path, name: str, devnull: bool = False) -> dict[str, Any]:
    """Runs `argv` as a fresh child after a sync; its wall time, user/sys, peak RSS, exit
    code, stdout (when small: a child step's JSON; none with `devnull`) and stderr."""
    os.sync()
    out_path, err_path = work / f"{name}.stdout", work / f"{name}.stderr"
    stdout_to = os.devnull if devnull else out_path
    with open(stdout_to, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(errors="replace")
    stdout = ""
    if not devnull:
        stdout = out_path.read_text(errors="replace") if out_path.stat().st_size < 1 << 20 else ""
        out_path.unlink()
    err_path.unlink()
    return {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "rc": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


def written(stderr: str) -> tuple[int, str] | None:
    """Files written (created + changed + removed) and the summary, from xenfab's last line."""
    found = SUMMARY.findall(stderr)
    if not found:
        return None
    created, changed, unchanged, removed = (int(x) for x in found[-1])
    summary = f"{created} created, {changed} changed, {unchanged} unchanged, {removed} removed"
    return created + changed + removed, summary


def binary_kind(xenfab: Path) -> str:
    """'release', 'debug' or 'unknown', by the Cargo profile directory the binary is in."""
    parts = xenfab.resolve().parts
    if "debug" in parts:
        return "debug"
    if "release" in parts:
        return "release"
    return "unknown"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--step":
        return child_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dom0s", type=int, default=10_000)
    parser.add_argument("--guests", type=int, default=10, help="guests a dom0")
    parser.add_argument("--format", choices=("toml", "json"), default="toml")
    parser.add_argument("--xenfab", type=Path, default=REPO / "target" / "release" / "xenfab")
    parser.add_argument("--allow-debug", action="store_true", help="time a debug build anyway")
    parser.add_argument("--dir", type=Path, help="where the temporary directory goes")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--skip", action="append", default=[], choices=STEPS)
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs of the rerun and of the one-guest change (the median is "
                             "shown, every run listed; default 3)")
    args = parser.parse_args()

    xenfab = args.xenfab
    if not xenfab.is_file():
        print(f"{xenfab}: no such binary; cargo build --release -p xenfab-cli", file=sys.stderr)
        return 2
    kind = binary_kind(xenfab)
    if kind == "debug" and not args.allow_debug:
        print(f"{xenfab} is a debug build (several times slower): build --release, "
              "or give --allow-debug", file=sys.stderr)
        return 2
    if kind != "release":
        print(f"warning: timing a {kind} build of xenfab: {xenfab}", file=sys.stderr)
    version = subprocess.run([xenfab, "--version"], capture_output=True, text=True).stdout.strip()

    work = Path(tempfile.mkdtemp(prefix="xenfab-scale-", dir=args.dir))
    hosts = args.dom0s * (1 + args.guests)
    meta = {
        "dom0s": args.dom0s,
        "guests": args.guests,
        "hosts": hosts,
        "format": args.format,
        "xenfab": str(xenfab.resolve()),
        "xenfab_build": kind,
        "xenfab_version": version,
        "python": sys.version.split()[0],
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
        "dir": str(work),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    print(f"site: {args.dom0s} dom0s x {args.guests} guests ({hosts} hosts), {args.format}")
    print(f"xenfab: {meta['xenfab']} ({kind} build, {version}); Python {meta['python']}")
    print(f"work dir: {work} ({meta['machine']})", flush=True)

    rows: list[dict[str, Any]] = []
    fabric_file = work / f"fabric.{args.format}"
    start = time.perf_counter()
    # The parent stays small: a child's peak RSS (wait4) is at least its parent's, since
    # subprocess starts children by vfork and exec records the old memory's high-water mark.
    # So the fabric files are written and the listing counted by children.
    gen = [sys.executable, str(HERE / "generate.py"), "--dom0s", str(args.dom0s),
           "--guests", str(args.guests)]
    subprocess.run([*gen, str(fabric_file)], check=True, stdout=subprocess.DEVNULL)
    meta["generate_seconds"] = time.perf_counter() - start
    meta["fabric_bytes"] = fabric_file.stat().st_size
    out_dir, empty = work / "xenfab", work / "empty"
    me = [sys.executable, str(Path(__file__).resolve()), "--step"]
    size = ["--dom0s", str(args.dom0s), "--guests", str(args.guests)]
    listing: dict[str, int] = {}

    def record(step: str, what: str, r: dict[str, Any], files: int | None, note: str) -> None:
        row = {"step": step, "what": what, "files": files, "note": note}
        row.update({k: r[k] for k in ("wall", "user", "sys", "rss_mb", "rc")})
        rows.append(row)
        print(f"  {step:<14} {r['wall']:9.2f} s  rss {r['rss_mb']:8.0f} MB  "
              f"{'' if files is None else files:>8}  {note}", flush=True)
        if r["rc"] != 0:
            print(f"    exit {r['rc']}: {r['stderr'][-2000:]}", file=sys.stderr)

    def xenfab_step(step: str, what: str, argv: list[str]) -> None:
        if step in args.skip:
            return
        # xenfab lists every path it writes, and --dry-run prints its whole diff: not kept
        r = run([str(xenfab), *argv], work, step, devnull=True)
        w = written(r["stderr"])
        record(step, what, r, w[0] if w else None, w[1] if w else r["stderr"].strip()[-200:])

    def xenfab_repeated(step: str, what: str, argv: list[str],
                        before: Any = None) -> None:
        """`xenfab_step` run `--repeat` times (`before(i)` ahead of run i): the median run's
        wall, user and sys time, the highest peak memory, every wall time in the note. One
        run of a second and a half is at the mercy of what the kernel does meanwhile
        (writeback of the write before it, for one)."""
        if step in args.skip:
            return
        runs = []
        for i in range(max(1, args.repeat)):
            if before is not None:
                before(i)
            r = run([str(xenfab), *argv], work, f"{step}-{i}", devnull=True)
            runs.append(r)
            if r["rc"] != 0:
                break
        ordered = sorted(runs, key=lambda r: (r["rc"] != 0, r["wall"]))
        median = dict(ordered[(len(ordered) - 1) // 2] if all(r["rc"] == 0 for r in runs)
                      else next(r for r in runs if r["rc"] != 0))
        median["rss_mb"] = max(r["rss_mb"] for r in runs)
        w = written(median["stderr"])
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
        note = (w[1] if w else median["stderr"].strip()[-200:]) + f"; runs {walls} s"
        record(step, what, median, w[0] if w else None, note)
        rows[-1]["runs"] = [{k: r[k] for k in ("wall", "user", "sys", "rss_mb", "rc")}
                            for r in runs]

    def python_step(step: str, what: str, argv: list[str], cleanup: Path | None) -> None:
        if step in args.skip:
            return
        r = run([*me, *argv], work, step)
        inner = json.loads(r["stdout"]) if r["rc"] == 0 else {}
        files = inner.get("files")
        note = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in inner.items() if k != "files")
        record(step, what, r, files, note)
        rows[-1]["inner"] = inner
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)

    print(f"  {'step':<14} {'wall':>11}  {'peak RSS':>11}  {'files':>8}  note", flush=True)
    try:
        xenfab_step("validate", "xenfab validate", ["validate", str(fabric_file)])
        xenfab_step("first-write", "xenfab render, empty dir",
                    ["render", str(fabric_file), "-o", str(out_dir)])
        xenfab_repeated("rerun", "xenfab render, nothing changed",
                        ["render", str(fabric_file), "-o", str(out_dir)])
        if out_dir.is_dir():
            listing = json.loads(subprocess.run([*me, "count", "--src", str(out_dir)],
                                                check=True, capture_output=True).stdout)
            meta["listing"] = listing
            print(f"  (xenfab's tree: {listing['files']} files, {listing['links']} links, "
                  f"{listing['dirs']} dirs, {listing['bytes'] / 1e6:.0f} MB)", flush=True)
        python_step("raw", "open/write the same listing, no fsync",
                    ["raw", "--src", str(out_dir), "--dst", str(work / "raw")], work / "raw")
        python_step("raw-fsync", "the same + fsync each file, each dir",
                    ["raw", "--src", str(out_dir), "--dst", str(work / "raw-fsync"), "--fsync"],
                    work / "raw-fsync")

        def change_guest(i: int) -> None:
            # the guest's memory changed, back and forth: each run writes its 7 files
            change = ["--change-guest", f"{CHANGED_GUEST}={CHANGED_MEMORY}"] if i % 2 == 0 else []
            subprocess.run([*gen, *change, str(fabric_file)], check=True,
                           stdout=subprocess.DEVNULL)

        xenfab_repeated("one-guest", f"xenfab render, {CHANGED_GUEST} memory {CHANGED_MEMORY}"
                        " (and back)", ["render", str(fabric_file), "-o", str(out_dir)],
                        change_guest)
        # the fabric the later steps render: the changed one
        change_guest(0)
        empty.mkdir()
        xenfab_step("dry-run", "xenfab render --dry-run, empty dir (diff to /dev/null)",
                    ["render", "--dry-run", str(fabric_file), "-o", str(empty)])
        python_step("jinja2-write", "Jinja2 render + write, empty dir",
                    ["jinja2", *size, "--dst", str(work / "jinja2"), "--same-as", str(out_dir)],
                    None)
        python_step("jinja2-rerun", "Jinja2 render + rewrite everything",
                    ["jinja2", *size, "--dst", str(work / "jinja2")], work / "jinja2")
        python_step("jinja2-memory", "Jinja2 render to memory", ["jinja2", *size], None)
        if "xenfab-memory" not in args.skip:
            if importlib.util.find_spec("xenfab") is None:
                print("  xenfab-memory: no xenfab Python package here, skipped "
                      "(maturin develop --release in xenfab-py)", flush=True)
            else:
                python_step("xenfab-memory", "xenfab render to memory (Python package)",
                            ["xenfab-memory", *size], None)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ratios = summarize(rows, listing)
    print_table(rows)
    print("\nissue 15's \"Done when\":")
    for r in ratios:
        print(f"  {r['name']:<58} {r['value']:<26} target {r['target']}")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows, "ratios": ratios},
                                        indent=1, default=str) + "\n")
    return 1 if any(r["rc"] != 0 for r in rows) else 0


def summarize(rows: list[dict[str, Any]], listing: dict[str, int]) -> list[dict[str, str]]:
    by = {r["step"]: r for r in rows if r["rc"] == 0}
    out: list[dict[str, str]] = []

    def add(name: str, value: str, target: str) -> None:
        out.append({"name": name, "value": value, "target": target})

    first = by.get("first-write")
    for raw, label in (("raw", "without fsync"), ("raw-fsync", "with fsync")):
        if first and raw in by:
            ratio = first["wall"] / by[raw]["inner"]["seconds"]
            add(f"first write / raw creation {label}", f"{ratio:.2f}x",
                "<= 1.5x" if raw == "raw" else "-")

    def median_of(row: dict[str, Any]) -> str:
        n = len(row.get("runs", []))
        return f" (median of {n})" if n > 1 else ""

    if "rerun" in by:
        r = by["rerun"]
        add("no-change rerun", f"{r['wall']:.2f} s{median_of(r)}, {r['files']} written",
            "<= 2 s, 0 written")
    if "one-guest" in by:
        g = by["one-guest"]
        add("one-guest change", f"{g['wall']:.2f} s{median_of(g)}, {g['files']} written",
            "<= 2 s, that guest's files")
    for step in ("first-write", "rerun", "one-guest", "dry-run"):
        if step in by:
            add(f"peak RSS, {step}", f"{by[step]['rss_mb']:.0f} MB", "<= 1024 MB")
    jinja = by.get("jinja2-memory")
    if jinja and jinja["inner"].get("files"):
        j_rate = (jinja["inner"]["files"] + jinja["inner"]["links"]) / jinja["inner"]["seconds"]
        xm = by.get("xenfab-memory")
        if xm:
            x_rate = (xm["inner"]["files"] + xm["inner"]["links"]) / xm["inner"]["seconds"]
            add("render to memory per entry, xenfab (Python pkg) / Jinja2",
                f"{x_rate / j_rate:.2f}x ({x_rate:.0f} vs {j_rate:.0f}/s)", ">= 5x")
        dry = by.get("dry-run")
        if dry and listing:
            entries = listing["files"] + listing["links"]
            d_rate = entries / dry["wall"]
            add("  the same from dry-run (render + diff; a lower bound)",
                f"{d_rate / j_rate:.2f}x ({d_rate:.0f} vs {j_rate:.0f}/s)", ">= 5x")
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\n| step | what | wall s | user s | sys s | peak RSS MB | files | note |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        files = "" if r["files"] is None else r["files"]
        note = r["note"].replace("|", "/")
        print(f"| {r['step']} | {r['what']} | {r['wall']:.2f} | {r['user']:.2f} | {r['sys']:.2f}"
              f" | {r['rss_mb']:.0f} | {files} | {note} |")


if __name__ == "__main__":
    sys.exit(main())
