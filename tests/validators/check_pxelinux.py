#!/usr/bin/env python3
"""check_pxelinux.py FILE -- the pxelinux config syntax that xenfab's PXE entries rely on.

The project's own check (no offline pxelinux parser exists; pxelinux ignores what it does not
understand, so a typo only shows when a machine boots the wrong thing). ``pxe_boot.py`` boots
the real pxelinux; this check is the fast one that runs on every file:

* every line is a known pxelinux keyword (case-insensitive, as pxelinux reads them), so
  ``kernal`` or ``apend`` fail;
* exactly one ``default``, naming one label, and that label is defined (labels once each);
* ``kernel``, ``append``, ``initrd``, ``ipappend`` and ``localboot`` only inside a label;
* ``ipappend`` at most once a label, with a number (``IPAPPEND 2``: pxelinux appends
  ``BOOTIF=01-<mac>`` of the NIC it booted from; a second line replaces the first);
* every label boots something: ``localboot N``, or exactly one ``kernel PATH`` (one word)
  with exactly one ``append`` that passes ``initrd=``;
* ``serial`` (a dom0's serial console) is ``serial PORT [BAUD [FLOW]]`` and the first
  directive of the file: doc/syslinux.txt, "SERIAL port [baudrate [flowcontrol]]": "port" is
  0 to 3 (COM1 to COM4) or an I/O address such as 0x3F8, the baud rate (default 9600) sets the
  UART's divisor 115200/baud, so it must divide 115200; and the directive has to come first for
  the console to be set up before anything prints (syslinux.txt: "it should be the first
  directive in the configuration file");
* no ``append`` token holds a quote, ``;``, ``{``, ``}`` or a control character: pxelinux
  passes the line to the kernel as it is, so such a character is a value that leaked unescaped
  (a host name, a URL) and turns into extra kernel arguments or a broken kickstart URL.

Exit 0 = valid, 1 = invalid (one ``FILE:LINE: message`` a problem), 2 = usage.
"""

from __future__ import annotations

import re
import sys

# pxelinux 6.04's keywords (doc/syslinux.txt, doc/menu.txt); `menu` takes sub-keywords.
KEYWORDS = {
    "default", "label", "kernel", "linux", "append", "initrd", "localboot", "ipappend",
    "sysappend", "prompt", "timeout", "totaltimeout", "ontimeout", "onerror", "serial", "say",
    "display", "include", "menu", "implicit", "nohalt", "console", "ui", "allowoptions",
    "noescape", "nocomplete", "path", "config", "fkeys", "text", "endtext",
    *(f"f{n}" for n in range(1, 13)),
}
IN_LABEL = {"kernel", "linux", "append", "initrd", "ipappend", "sysappend", "localboot"}
BAD_IN_APPEND = re.compile(r"[\"';{}\x00-\x08\x0a-\x1f\x7f]")  # tabs separate, as spaces do


def check(path: str) -> list[str]:
    try:
        raw = open(path, "rb").read()
    except OSError as e:
        return [f"{path}: cannot read: {e.strerror}"]
    problems: list[str] = []
    defaults: list[tuple[int, list[str]]] = []
    labels: dict[str, dict] = {}
    current = None
    first_directive = True
    for n, line in enumerate(raw.decode("utf-8", errors="replace").split("\n"), 1):
        where = f"{path}:{n}"
        words = line.strip(" \t").split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        key, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
        if key not in KEYWORDS:
            problems.append(f"{where}: unknown keyword `{words[0]}` (pxelinux ignores it)")
            continue
        was_first, first_directive = first_directive, False
        if key == "serial":
            if not was_first:
                problems.append(f"{where}: `serial` must be the first directive of the file")
            args = rest.split()
            if not 1 <= len(args) <= 3 or not re.fullmatch(r"[0-3]|0[xX][0-9A-Fa-f]+", args[0]):
                problems.append(f"{where}: `serial` needs a port 0-3 or an I/O address, then baud and flow control: {rest!r}")
            elif len(args) > 1 and not (args[1].isdigit() and 0 < int(args[1]) <= 115200 and 115200 % int(args[1]) == 0):
                problems.append(f"{where}: `serial` baud rate {args[1]!r} does not divide 115200 (the UART's divisor is 115200/baud)")
            continue
        if key == "label":
            name = rest.strip()
            if not name or len(name.split()) != 1:
                problems.append(f"{where}: `label` needs one name, not {rest!r}")
            elif name in labels:
                problems.append(f"{where}: label `{name}` defined twice (line {labels[name]['line']})")
            current = labels.setdefault(name, {"line": n, "kernel": [], "append": [], "localboot": [],
                                               "ipappend": []})
            continue
        if key == "default":
            defaults.append((n, rest.split()))
            continue
        if key in IN_LABEL and current is None:
            problems.append(f"{where}: `{words[0]}` outside a label")
            continue
        if key in ("kernel", "linux"):
            if len(rest.split()) != 1:
                problems.append(f"{where}: `{words[0]}` needs one path, not {rest!r}")
            current["kernel"].append(n)
        elif key == "append":
            current["append"].append((n, rest))
            for token in re.split(r"[ \t]+", rest):
                if BAD_IN_APPEND.search(token):
                    problems.append(f"{where}: append token {token!r} holds a quote, `;`, brace or control character")
        elif key == "localboot":
            if not re.fullmatch(r"-?\d+", rest.strip()):
                problems.append(f"{where}: `localboot` needs a number, not {rest!r}")
            current["localboot"].append(n)
        elif key == "ipappend":
            if not re.fullmatch(r"\d+", rest.strip()):
                problems.append(f"{where}: `ipappend` needs a number, not {rest!r}")
            if current["ipappend"]:
                problems.append(f"{where}: a second `ipappend` in the label (line {current['ipappend'][0]}), "
                                "which replaces the first")
            current["ipappend"].append(n)
    if len(defaults) != 1:
        problems.append(f"{path}: {len(defaults)} `default` lines, not one" + (
            f" (lines {', '.join(str(n) for n, _ in defaults)})" if defaults else ""))
    for n, args in defaults:
        if len(args) != 1:
            problems.append(f"{path}:{n}: `default` must name one label, not {' '.join(args)!r}")
        elif args[0] not in labels:
            problems.append(f"{path}:{n}: the default label `{args[0]}` is not defined")
    for name, label in labels.items():
        where = f"{path}:{label['line']}: label `{name}`"
        if label["localboot"]:
            if label["kernel"] or label["append"]:
                problems.append(f"{where}: both `localboot` and `kernel`/`append`")
            continue
        if len(label["kernel"]) != 1:
            problems.append(f"{where}: {len(label['kernel'])} `kernel` lines, not one")
        if len(label["append"]) != 1:
            problems.append(f"{where}: {len(label['append'])} `append` lines, not one")
        elif not any(t.startswith("initrd=") for t in label["append"][0][1].split()):
            problems.append(f"{where}: its `append` passes no `initrd=`")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: check_pxelinux.py FILE", file=sys.stderr)
        return 2
    problems = check(argv[1])
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{argv[1]}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
