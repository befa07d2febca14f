#!/bin/sh
# check_xl_cfg.sh FILE [JSON_OUT] -- parse a Xen domU config (xl.cfg, and legacy xm
# configs that stick to plain assignments) with the REAL xl parser of Debian's
# xen-utils-4.17: `xl -N create FILE` (dry run). xl needs a Xen hypervisor even for
# that, so we LD_PRELOAD xlshim.so (built here from xlshim.c) which fakes the libxc /
# xenstore handles; the dry run returns before anything would touch a hypervisor.
# The shim lives in boot/build/ (git-ignored): scripts/install-validators builds it, and
# so does this script when it is missing or older than xlshim.c.
# Strict: any xl message besides "Parsing config from" fails (xl only *warns* on e.g.
# a bad vif mac or `memory = "lots"`); XL_ALLOW_WARNINGS=1 relaxes that.
# Unknown keys are silently ignored by xl -- compare JSON_OUT (libxl_domain_config
# as JSON) to what you expect instead. Exit 0 = valid, 1 = invalid.
# Copied from the xenfab test oracles (check_xl_cfg.sh); only docs, hints and the shim's
# path changed.
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 domU.cfg [json_out]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
XL=${XL:-$(ls /usr/lib/xen-4.*/bin/xl 2>/dev/null | tail -1)}
[ -x "$XL" ] || { echo "xl missing (xen-utils-4.17): run scripts/install-validators" >&2; exit 2; }
shim="$here/boot/build/xlshim.so"
if [ ! -f "$shim" ] || [ "$here/xlshim.c" -nt "$shim" ]; then
  mkdir -p "$here/boot/build" && gcc -shared -fPIC -O2 -o "$shim.tmp" "$here/xlshim.c" &&
    mv "$shim.tmp" "$shim" || { echo "cannot build xlshim.so (gcc, libxen-dev): run scripts/install-validators" >&2; exit 2; }
fi
[ -r "$1" ] || { echo "$1: cannot read"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
LD_PRELOAD="$shim" "$XL" -N create "$1" >"$tmp/json" 2>"$tmp/err"; rc=$?
[ -n "$2" ] && cp "$tmp/json" "$2"
msgs=$(grep -v '^Parsing config from ' "$tmp/err")
if [ $rc -eq 0 ] && { [ -z "$msgs" ] || [ "$XL_ALLOW_WARNINGS" = 1 ]; }; then
  [ -n "$msgs" ] && echo "$msgs"; echo "$1: OK"; exit 0
fi
[ $rc -gt 1 ] && echo "xl exited $rc (crash: a code path the shim does not fake?)"
echo "$msgs"; exit 1
