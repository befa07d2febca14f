#!/usr/bin/env python3
"""check_kickstart.py FILE [VERSION]  -- validate a kickstart file with pykickstart.

VERSION: a pykickstart handler name (`ksvalidator -l`), default RHEL9; e.g. RHEL5.
Same rules as `ksvalidator -v VERSION FILE`: parse errors AND deprecation warnings
fail (set KS_ALLOW_DEPRECATED=1 to only print deprecations, e.g. RHEL5's
`%packages --resolvedeps`; RHEL3 and RHEL4 accept it, as their anaconda did). Then a cross-reference check pykickstart does NOT do:
raid members / volgroup PVs / logvol VGs must be defined, mount points unique.
Exit 0 = valid; 1 = invalid (messages on stdout); 2 = usage / missing pykickstart.

Copied from the xenfab test oracles (check_kickstart.py); only docs and hints changed.
pykickstart is installed into .venv by scripts/install-validators: run this with that python.
"""
import contextlib
import io
import os
import sys
import warnings

try:
    from pykickstart.errors import KickstartDeprecationWarning, KickstartParseWarning
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion
except ImportError:
    print("pykickstart not installed: run scripts/install-validators")
    sys.exit(2)

if len(sys.argv) not in (2, 3):
    print(__doc__)
    sys.exit(2)
path, version = sys.argv[1], (sys.argv[2] if len(sys.argv) == 3 else "RHEL9")
handler = makeVersion(version)
warnings.simplefilter("error", KickstartParseWarning)
if os.environ.get("KS_ALLOW_DEPRECATED") == "1":
    warnings.simplefilter("always", KickstartDeprecationWarning)
warnings.showwarning = lambda m, c, *a, **k: print("warning: %s" % m)
if version in ("RHEL3", "RHEL4"):
    # pykickstart marks `%packages --resolvedeps` deprecated for every handler (options.py
    # sets `action.deprecated` whatever the version), but it was deprecated from FC4 on
    # (`deprecated=FC4` in sections.py; RHEL3 = 900 and RHEL4 = 1100 come before FC4 = 2000):
    # anaconda 9.1 and 10.1 need it, or stop on unresolved dependencies.
    warnings.filterwarnings("ignore", message=r".*The --resolvedeps option has been deprecated",
                            category=KickstartDeprecationWarning)

errors = []
parser = KickstartParser(handler, followIncludes=False, errorsAreFatal=False)
try:
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):  # non-fatal parse errors go to stderr
        parser.readKickstart(path)
    errors += [m for m in buf.getvalue().strip().split("\n\n") if m.strip()]
except Exception as e:  # fatal error or deprecation-as-error
    errors.append("%s: %s" % (type(e).__name__, e))
if parser.errorsCount and not errors:
    errors.append("%d parse error(s)" % parser.errorsCount)

if not errors:  # cross references (only meaningful once syntax is fine)
    parts = [p.mountpoint for p in handler.partition.partitions]
    raids = [r.mountpoint for r in handler.raid.raidList]
    vgs = [v.vgname for v in handler.volgroup.vgList]
    for r in handler.raid.raidList:
        errors += ["raid %s: member %s is not a 'part'" % (r.mountpoint, m)
                   for m in r.members if m not in parts]
    for v in handler.volgroup.vgList:
        errors += ["volgroup %s: PV %s is not a 'part'/'raid'" % (v.vgname, pv)
                   for pv in v.physvols if pv not in parts + raids]
    for lv in handler.logvol.lvList:
        if lv.vgname not in vgs:
            errors.append("logvol %s: volgroup %s not defined" % (lv.name, lv.vgname))
    mps = [m for m in parts + raids + [lv.mountpoint for lv in handler.logvol.lvList]
           if m and m.startswith("/")]
    errors += ["mount point %s defined twice" % m for m in sorted(set(mps)) if mps.count(m) > 1]

if errors:
    print("%s: INVALID for %s" % (path, version))
    print("\n".join(errors))
    sys.exit(1)
print("%s: OK (%s)" % (path, version))
