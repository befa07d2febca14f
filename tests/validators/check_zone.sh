#!/bin/sh
# check_zone.sh FILE -- check what xenfab writes into dns/ with BIND's own readers (bind9-utils):
#   <origin>.zone        named-checkzone -k fail -n fail -i full -m fail -M fail -S fail <origin>
#                        FILE: the zone's origin is the file name without `.zone`; every check
#                        that named-checkzone can make fatal is (names that are not host names,
#                        NS and MX targets without an address, out-of-zone data, CNAMEs),
#                        with `-i full` integrity checks of the whole zone
#   named.conf.xenfab    named-checkconf -z on a named.conf that includes it, `directory` set
#                        to the file's own directory: the statements parse and every zone they
#                        name loads (without -z when a zone file is not beside it)
# Exit 0 = valid, 1 = invalid, 2 = usage or checker missing.
[ $# -eq 1 ] || { echo "usage: $0 ZONE.zone|named.conf.xenfab" >&2; exit 2; }
PATH="$PATH:/usr/sbin:/sbin"
command -v named-checkzone >/dev/null || { echo "named-checkzone missing (bind9-utils): run scripts/install-validators" >&2; exit 2; }
[ -r "$1" ] || { echo "$1: cannot read"; exit 1; }
dir=$(cd "$(dirname "$1")" && pwd)
name=$(basename "$1")
case "$name" in
*.zone)
    origin=${name%.zone}
    out=$(named-checkzone -k fail -n fail -i full -m fail -M fail -S fail "$origin" "$1" 2>&1); rc=$?
    ;;
*)
    conf=$(mktemp) || exit 2
    trap 'rm -f "$conf"' EXIT
    printf 'options { directory "%s"; };\ninclude "%s/%s";\n' "$dir" "$dir" "$name" > "$conf"
    # -z loads the zones too, when they are beside the file (a golden tree); a file checked
    # alone (the hostile matrix copies only what changed) gets the syntax check.
    load=-z
    for f in $(sed -n 's/.* file "\([^"]*\)".*/\1/p' "$1"); do
        [ -r "$dir/$f" ] || load=
    done
    out=$(named-checkconf $load "$conf" 2>&1); rc=$?
    ;;
esac
[ $rc -eq 0 ] && { echo "$1: OK"; exit 0; }
echo "$out" | sed '/^$/d'; exit 1
