#!/usr/bin/env python3
"""check_xend_sxp.py FILE -- check a xend-config.sxp (Xen 3.x xend; RHEL5).

NO third-party parser exists any more: xend's own reader (xen/xend/sxp.py, Python 2)
was removed with xend in Xen 4.5; PyPI's sexpdata mis-reads this dialect ('#'
comments, 'single quoted' strings, [ ] separators). This is OUR re-implementation of
the grammar of xen/xend/sxp.py: '#' comment to end of line; ( ) lists; "..."/'...'
strings with backslash escapes; atoms end at whitespace, '#' or any of {}()<>[]!;
plus the value rules of XendOptions.py: bool keys take yes/no/y/n/1/0/on/off/true/
false/t/f, int keys an integer; unknown keys fail (typos are silently ignored by
xend) unless XEND_ALLOW_UNKNOWN=1. Prints the settings as JSON.
Exit 0 = valid, 1 = invalid, 2 = usage.

xenfab's own copy (tests/validators/), run by the pytest harness on every rendered
xend-config.sxp and on tests/fixtures/xend-config/*.sxp. The Rust reader in
xenfab-core/src/render/toolstack/sxp.rs follows the same grammar; change both together."""
import json, os, re, string, sys

BOOL = {"xend-http-server", "xend-unix-server", "xend-tcp-xmlrpc-server", "xend-unix-xmlrpc-server",
        "xend-relocation-server", "xend-relocation-ssl-server", "xend-relocation-ssl", "enable-dump",
        "enable-dom0-ballooning", "xend-domain-lock", "pci-passthrough-strict-check"}
INT = {"xend-port", "xend-relocation-port", "xend-relocation-ssl-port", "xend-tcp-xmlrpc-server-port",
       "dom0-min-mem", "dom0-cpus", "console-limit", "qemu-dm-logrotate-count",
       "device-create-timeout", "device-destroy-timeout"}
OTHER = {"logfile", "loglevel", "xen-api-server", "xend-address", "xend-relocation-address",
         "xend-relocation-hosts-allow", "xend-unix-path", "xend-tcp-xmlrpc-server-address",
         "xend-tcp-xmlrpc-server-ssl-key-file", "xend-tcp-xmlrpc-server-ssl-cert-file",
         "xend-relocation-server-ssl-key-file", "xend-relocation-server-ssl-cert-file",
         "network-script", "vif-script", "external-migration-tool", "vnc-listen", "vncpasswd",
         "keymap", "vnc-tls", "vnc-x509-cert-dir", "vnc-x509-verify", "xend-domains-path",
         "xend-state-path", "xend-storage-path", "xend-security-path", "xsm_module_name",
         "resource-label-change-script", "xend-domain-lock-path", "xend-domain-lock-utility",
         "total_available_memory"}
ESC = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
       "\\": "\\", "'": "'", '"': '"'}


class SxpError(Exception):
    pass


def parse(text):
    """Return the list of top-level forms; raise SxpError(line: msg)."""
    top, stack, i, line = [], [], 0, 1
    cur = top
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
        if c in " \t\n\v\f\r":
            i += 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c == "(":
            stack.append((cur, line)); cur.append([]); cur = cur[-1]; i += 1
        elif c == ")":
            if not stack:
                raise SxpError("line %d: syntax error: )" % line)
            cur = stack.pop()[0]; i += 1
        elif c in "\"'":
            j, buf, start = i + 1, "", line
            while True:
                if j >= len(text):
                    raise SxpError("line %d: unexpected EOF in string" % start)
                if text[j] == c:
                    break
                if text[j] == "\\" and j + 1 < len(text):
                    e = text[j + 1]
                    m = re.match(r"x[0-9a-fA-F]{1,2}|[0-7]{1,3}", text[j + 1:j + 4])
                    if e in ESC:
                        buf += ESC[e]; j += 2; continue
                    if m:
                        v = m.group(0)
                        buf += chr(int(v[1:], 16) if v[0] == "x" else int(v, 8)); j += 1 + len(v); continue
                    buf += "\\"; j += 1; continue
                line += text[j] == "\n"
                buf += text[j]; j += 1
            cur.append(buf); i = j + 1
        elif c in string.printable:
            j = i
            while j < len(text) and text[j] not in " \t\n\v\f\r#{}()<>[]!;":
                j += 1
            if j == i:  # a lone separator char other than ( ) is an atom of its own in xend
                j = i + 1
            cur.append(text[i:j]); i = j
        else:
            raise SxpError("line %d: invalid character: code %d" % (line, ord(c)))
    if stack:
        raise SxpError("line %d: unexpected EOF: '(' never closed" % stack[-1][1])
    return top


def main():
    if len(sys.argv) != 2:
        print(__doc__); return 2
    try:
        forms = parse(open(sys.argv[1], encoding="latin-1").read())
    except (OSError, SxpError) as e:
        print(e); return 1
    errs, conf = [], {}
    for f in forms:
        if not isinstance(f, list) or not f or not isinstance(f[0], str):
            errs.append("top-level item is not a (key value...) form: %r" % (f,)); continue
        k, vals = f[0], f[1:]
        conf[k] = vals[0] if len(vals) == 1 else vals
        v = str(vals[0]).lower() if vals and isinstance(vals[0], str) else None
        if k in BOOL and v not in ("yes", "y", "1", "on", "true", "t", "no", "n", "0", "off", "false", "f"):
            errs.append("%s: expected bool, got %r" % (k, vals))
        elif k in INT and not (v and re.fullmatch(r"-?\d+", v)):
            errs.append("%s: expected int, got %r" % (k, vals))
        elif k not in BOOL | INT | OTHER and os.environ.get("XEND_ALLOW_UNKNOWN") != "1":
            errs.append("%s: not a key xend reads (typo?)" % k)
    if errs:
        print("\n".join(errs)); return 1
    print(json.dumps(conf)); print("%s: OK" % sys.argv[1]); return 0


if __name__ == "__main__":
    sys.exit(main())
