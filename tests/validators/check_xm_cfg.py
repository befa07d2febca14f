#!/usr/bin/env python3
"""check_xm_cfg.py FILE [JSON_OUT] -- check a legacy `xm` domU config (Python syntax;
RHEL5's xm exec'd it with Python 2.4, Python 2 is not installable on Debian 12).
Checks: it compiles and runs as Python 3 (exec with empty globals); every top-level
statement is `NAME = <literal>` (str/int/float/list/tuple/dict of those), or `NAME = LIST[i]`
of an earlier list (the seed's `bootargs = vif[0]`) -- literals are the subset Python 2.4
and xl read the same way; `bootargs = vif[0]` is Python only (xl's grammar refuses it, see
test_artefacts.check_xm_domu); `name` is set; disk entries look like
'TYPE:PATH,VDEV,MODE' (MODE r|w|w!), vif entries are comma-separated key=value.
Prints the variables as JSON. For a second, real parser run check_xl_cfg.sh (xl reads
xm configs). Exit 0 = valid, 1 = invalid.
Copied from the xenfab test oracles (check_xm_cfg.py); only docs changed."""
import ast, json, re, sys

if len(sys.argv) not in (2, 3):
    print(__doc__); sys.exit(2)
src = open(sys.argv[1]).read()
errs, env = [], {}
try:
    exec(compile(src, sys.argv[1], "exec"), env)
except Exception as e:
    print("%s: %s" % (type(e).__name__, e)); sys.exit(1)
variables = {}
for st in ast.parse(src).body:
    if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        errs.append("line %d: not a plain NAME = value assignment" % st.lineno); continue
    seg = ast.get_source_segment(src, st.value)
    v = st.value
    if (isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in variables
            and isinstance(v.slice, ast.Constant) and isinstance(v.slice.value, int)):
        # `bootargs = vif[0]`: xm's Python config may name an earlier list's element (pypxeboot needs it)
        variables[st.targets[0].id] = env[st.targets[0].id]
        continue
    try:
        variables[st.targets[0].id] = ast.literal_eval(v)
    except ValueError:
        errs.append("line %d: value is not a literal: %s" % (st.lineno, seg)); continue
    if re.match(r"[bBfF]|[rRuU][bBfF]", seg):
        errs.append("line %d: bytes/f-string literal (not Python 2.4): %s" % (st.lineno, seg))
if not isinstance(variables.get("name"), str) or not variables.get("name"):
    errs.append("'name' missing or not a non-empty string")
for k in ("memory", "maxmem", "vcpus"):
    if k in variables and not isinstance(variables[k], int):
        errs.append("%r must be an int, got %r" % (k, variables[k]))
for d in variables.get("disk", []):
    if not (isinstance(d, str) and re.fullmatch(r"[a-z]+(:[a-z0-9]+)*:[^,]+,[a-z0-9]+(:cdrom)?,(r|w|w!)", d.strip())):
        errs.append("disk entry not 'TYPE:PATH,VDEV,MODE': %r" % (d,))
for v in variables.get("vif", []):
    if not (isinstance(v, str) and all(re.fullmatch(r"\s*[a-z_]+=[^=,]*", p) for p in v.split(",") if p.strip())):
        errs.append("vif entry not 'key=value,...': %r" % (v,))
    m = re.search(r"mac=([^,\s]*)", v) if isinstance(v, str) else None
    if m and not re.fullmatch(r"([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}", m.group(1)):
        errs.append("bad mac in vif: %r" % (v,))
if len(sys.argv) == 3:
    json.dump(variables, open(sys.argv[2], "w"), indent=1)
if errs:
    print("\n".join(errs)); sys.exit(1)
print(json.dumps(variables)); print("%s: OK" % sys.argv[1])
