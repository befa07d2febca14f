#!/usr/bin/python3
"""check_nmconnection.py FILE -- read a NetworkManager connection file with libnm's own
keyfile reader (NM.keyfile_read of libnm 1.42, gir1.2-nm-1.0: the code NetworkManager's
keyfile plugin runs, with no daemon), verify and normalize it as NetworkManager does, write
it back (NM.keyfile_write), and require every key of FILE in the result with its value: a
key NetworkManager does not know is dropped, and a value it does not take is replaced (a bond
`mode=foo` becomes balance-rr), so either fails here. Also: the file's `[connection] id` is
its name, and a `master` names a sibling file's interface of the `slave-type`.
Exit 0 = valid, 1 = invalid, 2 = setup problem. Runs with the system python3 (python3-gi).
"""

import configparser
import sys
from pathlib import Path

try:
    import gi

    gi.require_version("NM", "1.0")
    from gi.repository import GLib, NM
except (ImportError, ValueError) as e:  # pragma: no cover - setup
    print(f"libnm's introspection missing ({e}): run scripts/install-validators", file=sys.stderr)
    sys.exit(2)

DIR = "/etc/NetworkManager/system-connections"


def parse(text: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # keys are case-sensitive
    cp.read_string(text)
    return cp


def main() -> int:
    path = Path(sys.argv[1])
    text = path.read_text(encoding="utf-8")
    kf = GLib.KeyFile.new()
    try:
        kf.load_from_data(text, len(text.encode("utf-8")), GLib.KeyFileFlags.NONE)
        con = NM.keyfile_read(kf, DIR, NM.KeyfileHandlerFlags.NONE, None, None)
        con.normalize()
        con.verify()
    except GLib.Error as e:
        print(f"{path}: NetworkManager refuses it: {e.message}")
        return 1
    back = NM.keyfile_write(con, NM.KeyfileHandlerFlags.NONE, None, None).to_data()[0]
    mine, theirs = parse(text), parse(back)
    problems = []
    for section in mine.sections():
        for key, value in mine.items(section):
            got = theirs.get(section, key, fallback=None)
            same = got is not None and (got.lower() == value.lower() if key == "mac-address" else got == value)
            if not same:
                problems.append(f"[{section}] {key}={value}: NetworkManager has {got!r}")
    if mine.get("connection", "id", fallback=None) != path.name.removesuffix(".nmconnection"):
        problems.append("[connection] id is not the file's name")
    master = mine.get("connection", "master", fallback=None)
    if master is not None:
        kinds = {}
        for other in path.parent.glob("*.nmconnection"):
            cp = parse(other.read_text(encoding="utf-8"))
            kinds[cp.get("connection", "interface-name", fallback="")] = cp.get("connection", "type", fallback="")
        want = mine.get("connection", "slave-type", fallback=None)
        if kinds.get(master) != want:
            problems.append(f"master={master} is no {want} connection here ({kinds})")
    if problems:
        print("\n".join([str(path), *problems]))
        return 1
    print(f"{path}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
