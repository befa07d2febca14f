"""The native calls that take long give up the GIL while the Rust work runs: another Python
thread goes on during ``Fabric.render()`` and ``Fabric.write()``.

No timing is asserted. Each test runs a second thread and checks that it ran Python code at
all during the call, which it cannot do while the call holds the GIL; a call is repeated a few
times, so that a machine too busy to schedule the thread during one call does not fail it.
"""

from __future__ import annotations

import os
import pathlib
import sys
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager

import xenfab

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "benches" / "python"))
from fabric_gen import synthetic_fabric  # noqa: E402

ATTEMPTS = 10


def big_fabric(dom0s: int, guests: int = 10) -> xenfab.Fabric:
    """A valid fabric of ``dom0s`` dom0s with ``guests`` guests each: the benchmarks' synthetic
    site (``benches/python/fabric_gen.py``), smaller."""
    fabric = xenfab.Fabric.from_dict(synthetic_fabric(dom0s, guests))
    assert [d for d in fabric.validate() if d.severity == "error"] == []
    return fabric


@contextmanager
def no_forced_switches() -> Generator[None, None, None]:
    """The interpreter does not take the GIL from a thread that runs Python code (for 100 s):
    another thread gets it only when this one gives it up, as a native call that detaches."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@contextmanager
def running(loop: Callable[[], None]) -> Generator[None, None, None]:
    """``loop`` called over and over in a second thread; each call must give up the GIL."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            loop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_render_lets_other_threads_run() -> None:
    fabric = big_fabric(100)
    count = [0]

    def tick() -> None:
        count[0] += 1
        os.sched_yield()  # gives up the GIL, so that the main thread gets it back

    with no_forced_switches(), running(tick):
        advanced: list[int] = []
        for _ in range(ATTEMPTS):
            # Nothing between the two reads gives up the GIL but render() itself.
            before = count[0]
            assert len(fabric.render()) > 5_000
            advanced.append(count[0] - before)
            if advanced[-1]:
                break
    assert any(advanced), f"the other thread never ran during render(): {advanced}"


def test_write_lets_other_threads_run(tmp_path: pathlib.Path) -> None:
    """The second thread looks for a write in progress: ``.xenfab-unfinished`` is there from
    the start of the writing to the manifest, and the lock until write() returns. It looks at
    the lock after it saw the other file, with Python code in between, which needs the GIL:
    while write() held it, the lock would be gone by then."""
    fabric = big_fabric(10)
    seen = threading.Event()
    for attempt in range(ATTEMPTS):
        out = tmp_path / str(attempt)
        unfinished, lock = out / ".xenfab-unfinished", out / ".xenfab-lock"

        def look() -> None:
            if unfinished.exists() and lock.exists():
                seen.set()

        with no_forced_switches(), running(look):
            result = fabric.write(out)
        assert result.created and not lock.exists() and not unfinished.exists()
        if seen.is_set():
            break
    assert seen.is_set(), "the other thread never ran while write() was writing"
