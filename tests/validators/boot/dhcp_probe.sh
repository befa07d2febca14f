#!/bin/sh
# dhcp_probe.sh isc|dnsmasq|kea CONF MAC SERVER_CIDR [UDHCPC_ARG...] -- ask a REAL DHCP server what it
# hands to MAC. Runs the server (ISC dhcpd, dnsmasq or kea-dhcp4) with CONF in a private network
# namespace on one end of a veth pair, and busybox udhcpc with MAC on the other end
# (second namespace); prints the lease as key=value (ip, siaddr = next-server,
# boot_file, hostname, router, subnet, serverid, ...). Nothing touches the host's
# own interfaces. SERVER_CIDR (e.g. 192.168.10.2/24) must lie in a subnet CONF serves.
# Exit 0 = lease obtained, 1 = none (server log printed), 2 = setup problem. ~1-2 s.
# Needs root (ip netns), busybox (udhcpc). Example:
#   dhcp_probe.sh isc dhcpd.conf 00:16:3e:12:34:56 192.168.10.2/24 | grep '^ip='
# UDHCPC_ARG...: more arguments for busybox udhcpc, to make the client look like a kind of
# firmware: `-x 0x5d:0007` sends option 93 (client architecture) 7, `-V HTTPClient:...` the
# vendor class (option 60), `-x 0x4d:69505845` user class (77) "iPXE", `-O 60` asks for option
# 60 back. Options udhcpc has no name for are printed as optNNN=HEX (busybox
# networking/udhcp/dhcpc.c, fill_envp).
# Copied from the xenfab test oracles (dhcp_probe.sh); only docs and hints changed.
# test_netboot.py serves xenfab's rendered dhcp/ files with it.
[ $# -ge 4 ] || { echo "usage: $0 isc|dnsmasq|kea CONF MAC SERVER_CIDR [UDHCPC_ARG...]" >&2; exit 2; }
kind=$1 conf=$(realpath "$2") mac=$3 cidr=$4
shift 4
command -v busybox >/dev/null || { echo "busybox missing (busybox-static): run scripts/install-validators" >&2; exit 2; }
t=$(mktemp -d) s=xfs$$ c=xfc$$
cleanup() { [ -f "$t/pid" ] && kill "$(cat "$t/pid")" 2>/dev/null; ip netns del $s 2>/dev/null
            ip netns del $c 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT INT TERM
ip netns add $s && ip netns add $c && ip -n $s link add eth0 type veth peer name eth0 netns $c &&
ip -n $c link set eth0 address "$mac" && ip -n $s addr add "$cidr" dev eth0 &&
ip -n $s link set eth0 up && ip -n $c link set eth0 up && ip -n $s link set lo up ||
  { echo "netns/veth setup failed (need root)" >&2; exit 2; }
touch "$t/leases"
case $kind in
  isc) ip netns exec $s dhcpd -4 -f -d -cf "$conf" -lf "$t/leases" -pf "$t/dpid" eth0 >"$t/log" 2>&1 &
       echo $! >"$t/pid" ;;
  dnsmasq) ip netns exec $s dnsmasq -k -C "$conf" --port=0 --dhcp-leasefile="$t/leases" \
       --pid-file= --log-dhcp >"$t/log" 2>&1 & echo $! >"$t/pid" ;;
  kea) ip netns exec $s env KEA_PIDFILE_DIR="$t" KEA_LOCKFILE_DIR="$t" kea-dhcp4 -c "$conf" \
       >"$t/log" 2>&1 & echo $! >"$t/pid" ;;  # CONF must listen on "*" or "eth0"
  *) echo "kind must be isc, dnsmasq or kea" >&2; exit 2 ;;
esac
printf '#!/bin/sh\n[ "$1" = bound ] && env | grep -E "^(ip|siaddr|sname|boot_file|hostname|domain|router|dns|subnet|serverid|lease|ntpsrv|tftp|bootfile|vendor|opt[0-9]+)=" | sort > %s/lease\nexit 0\n' "$t" >"$t/script"
chmod +x "$t/script"; sleep 0.5
ip netns exec $c busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 -s "$t/script" "$@" >"$t/client" 2>&1
if [ -s "$t/lease" ]; then cat "$t/lease"; exit 0; fi
echo "no lease for $mac"; echo "--- server log ---"; tail -20 "$t/log"; exit 1
