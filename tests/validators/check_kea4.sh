#!/bin/sh
# check_kea4.sh FILE -- check a Kea DHCPv4 JSON config with `kea-dhcp4 -t` (no server
# started). Kea checks semantics too: duplicate MAC/IP reservations, reservation
# outside the subnet, bad MAC, unknown keywords. Kea *accepts* trailing commas with
# a DHCP4_CONFIG_SYNTAX_WARNING; we treat that warning as a failure.
# Exit 0 = valid, 1 = invalid (error lines printed).
# Copied from the xenfab test oracles (check_kea4.sh); only docs and hints changed.
[ $# -eq 1 ] || { echo "usage: $0 kea-dhcp4.json" >&2; exit 2; }
command -v kea-dhcp4 >/dev/null || { echo "kea-dhcp4 missing (kea-dhcp4-server): run scripts/install-validators" >&2; exit 2; }
out=$(kea-dhcp4 -t "$1" 2>&1); rc=$?
warn=$(echo "$out" | grep 'SYNTAX_WARNING' | sed 's/^.*\] //')
if [ $rc -eq 0 ] && [ -z "$warn" ]; then echo "$1: OK"; exit 0; fi
echo "$out" | grep -E 'Syntax check failed|Error encountered|_FAIL|ERROR|FATAL' | sed 's/^.*\] //'
[ -n "$warn" ] && echo "$warn"
exit 1
