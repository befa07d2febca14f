"""Shared by every validator test: the machine's /dev/null stays the null device.

The validators run real programs as root. One that replaces /dev/null with a regular file
(zsh's ``compinit -d /dev/null`` did: its dump is written beside the name and moved onto it)
breaks everything after it without a word: what is written to /dev/null piles up in the file,
and what reads it (QEMU's serial input in tests/e2e) gets that text. This check names the
test that did it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest


def _null_is_a_device() -> bool:
    return stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.fixture(autouse=True)
def _dev_null_stays_the_null_device() -> Iterator[None]:
    if not _null_is_a_device():
        pytest.fail("/dev/null was not a character device before this test: restore it "
                    "(rm /dev/null; mknod -m 666 /dev/null c 1 3)")
    yield
    assert _null_is_a_device(), "this test replaced /dev/null with a regular file"
