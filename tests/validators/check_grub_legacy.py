#!/usr/bin/env python3
"""check_grub_legacy.py FILE [JSON_OUT] -- parse a legacy GRUB menu.lst/grub.conf with
pygrub's parser (grub/GrubConf.py from Debian's xen-utils-4.17: the code Xen uses to
boot PV guests from their own menu.lst). pygrub only *logs* unknown directives; here
they are errors, as are: no `title` entries, an entry without kernel/chainloader,
`default` out of range. Prints (and optionally writes) the entries as JSON: title,
root, kernel, args, initrd, modules. Syntax of `module` lines is not checked by pygrub.
Exit 0 = valid, 1 = invalid, 2 = pygrub's module not found.

Copied from the xenfab test oracles (check_grub_legacy.py); only docs and hints changed.
xen-utils-4.17 is installed by scripts/install-validators."""
import glob, json, logging, sys
sys.path[:0] = sorted(glob.glob("/usr/lib/xen-4.*/lib/python"))[-1:]
try:
    from grub.GrubConf import GrubConfigFile
except ImportError:
    print("pygrub GrubConf not found (xen-utils-4.17): run scripts/install-validators"); sys.exit(2)

if len(sys.argv) not in (2, 3):
    print(__doc__); sys.exit(2)
msgs = []
class Grab(logging.Handler):
    def emit(self, rec):
        if rec.levelno >= logging.WARNING:
            msgs.append(rec.getMessage())
logging.getLogger().addHandler(Grab()); logging.getLogger().setLevel(logging.INFO)
try:
    g = GrubConfigFile(sys.argv[1])
except Exception as e:  # unreadable file, bad default, ...
    print("%s: %s" % (type(e).__name__, e)); sys.exit(1)
out = []
for i in g.images:
    mods = [l.split(None, 1)[1] if " " in l else "" for l in i.lines if l.split()[0] == "module"]
    out.append({"title": i.title, "root": repr(i.root) if i.root else None,
                "kernel": i.kernel[1] if i.kernel else None, "args": i.args,
                "initrd": i.initrd[1] if i.initrd else None, "modules": mods})
    if not i.kernel and not any(l.startswith("chainloader") for l in i.lines):
        msgs.append("entry %r has no kernel" % i.title)
if not g.images:
    msgs.append("no 'title' entries")
elif not 0 <= int(g.default) < len(g.images):
    msgs.append("default=%s but only %d entries" % (g.default, len(g.images)))
res = {"default": g.default, "timeout": g.timeout, "entries": out}
if len(sys.argv) == 3:
    json.dump(res, open(sys.argv[2], "w"), indent=1)
if msgs:
    print("\n".join(msgs)); sys.exit(1)
print(json.dumps(res, indent=1)); print("%s: OK" % sys.argv[1])
