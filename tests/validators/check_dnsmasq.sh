#!/bin/sh
# check_dnsmasq.sh FILE -- syntax-check a dnsmasq config with `dnsmasq --test -C FILE`.
# Catches unknown options, bad MACs, bad host names (';', ' ', leading '-'), duplicate
# dhcp-host IPs. Does NOT catch e.g. an out-of-range IP like 192.168.10.300 (taken as
# a name) or duplicate MACs. Exit 0 = valid, 1 = invalid.
# Copied from the xenfab test oracles (check_dnsmasq.sh); only docs and hints changed.
[ $# -eq 1 ] || { echo "usage: $0 dnsmasq.conf" >&2; exit 2; }
command -v dnsmasq >/dev/null || { echo "dnsmasq missing (dnsmasq-base): run scripts/install-validators" >&2; exit 2; }
[ -r "$1" ] || { echo "$1: cannot read" ; exit 1; }
out=$(dnsmasq --test -C "$1" 2>&1); rc=$?
[ $rc -eq 0 ] && { echo "$1: OK"; exit 0; }
echo "$out" | sed '/^$/d'; exit 1
