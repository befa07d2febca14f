#!/bin/sh
# check_dhcpd.sh FILE -- syntax-check an ISC dhcpd.conf (IPv4) with `dhcpd -t`.
# No server is started, no lease/pid file is touched. Exit 0 = valid, 1 = invalid.
# NOTE: a syntax check cannot see a *successful* injection (e.g. a host-name value
# `x"; filename "evil.0` still parses); tests must also compare the host set.
# Copied from the xenfab test oracles (check_dhcpd.sh); only docs and hints changed.
[ $# -eq 1 ] || { echo "usage: $0 dhcpd.conf" >&2; exit 2; }
command -v dhcpd >/dev/null || { echo "dhcpd missing (isc-dhcp-server): run scripts/install-validators" >&2; exit 2; }
out=$(dhcpd -4 -t -cf "$1" -lf /dev/null -pf /dev/null 2>&1); rc=$?
[ $rc -eq 0 ] && { echo "$1: OK"; exit 0; }
# drop ISC banner and the bug-report boilerplate, keep "FILE line N: msg" + caret lines
echo "$out" | sed -e '1,4d' -e '/^Configuration file errors/,$d' -e '/^If you think/,$d' -e '/^Config file:/d'
exit 1
