#!/bin/bash
# dom0-image.sh - build (once) and cache the Debian dom0 root file system the
# end-to-end test boots: Debian's own packages only, from this machine's apt
# sources, by debootstrap. The cache is keyed on this script's package list:
# change the list (or the suite) and the next run rebuilds.
#
# Usage (as root):  tests/e2e/dom0-image.sh [CACHE_DIR]
#   CACHE_DIR defaults to tests/e2e/cache (git-ignored). Prints the path of the
#   root file system on stdout. REBUILD=1 forces a fresh debootstrap.
#
# Learnt from /work/shared/e2e/xen-in-qemu.sh (its header lists the facts).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${1:-$HERE/cache}
SUITE=${SUITE:-bookworm}
NICE=${NICE:-10}
# What a Debian bookworm dom0 runs (Xen 4.17 is bookworm's only Xen):
# the hypervisor, the xl toolstack (xen-utils-4.17 brings pygrub), LVM,
# ifupdown with bridge-utils' bridge_ports hooks (/etc/network/if-pre-up.d/bridge),
# busybox-static for the test guests' initramfs, and debootstrap, with which provision.sh
# installs a Debian guest (a preseeded dom0 gets it too).
PACKAGES="linux-image-amd64 xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
lvm2 iproute2 bridge-utils ifupdown kmod udev procps e2fsprogs busybox-static debootstrap"

apt_uri() { # the first URI of this machine's apt sources matching $1 (deb822 or one-line)
  { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
    grep -oE '(URIs:[[:space:]]*|^deb[[:space:]]+)[a-z]+://[^[:space:]]+' | grep -oE '[a-z]+://[^[:space:]]+' |
    grep -E "$1" | head -1; }
MIRROR=${MIRROR:-$(apt_uri '/debian/?$')}
SECURITY_MIRROR=${SECURITY_MIRROR:-$(apt_uri 'security')}
[ -n "$MIRROR" ] && [ -n "$SECURITY_MIRROR" ] || { echo "dom0-image: no Debian mirror in the apt sources: set MIRROR and SECURITY_MIRROR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "dom0-image: must run as root (debootstrap, chroot)" >&2; exit 2; }

# shellcheck disable=SC2086 # one word a package
key=$(printf '%s\n' "$SUITE" $PACKAGES | sha256sum | cut -c1-16)
R=$CACHE/rootfs-$SUITE-$key
if [ "${REBUILD:-0}" = 1 ] || [ ! -e "$R.stamp" ]; then
  mkdir -p "$CACHE"
  rm -rf "$R" "$R.stamp"
  # older images (another package list) are of no further use
  for old in "$CACHE"/rootfs-*; do
    case $old in "$R"|"$R".*) ;; *) rm -rf "$old" ;; esac
  done
  echo "dom0-image: debootstrap $SUITE into $R" >&2
  nice -n "$NICE" debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" >&2
  cat > "$R/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SRC
  mount -t proc proc "$R/proc"
  trap 'umount "$R/proc" 2>/dev/null || true' EXIT
  nice -n "$NICE" chroot "$R" apt-get update -q >&2
  # shellcheck disable=SC2086 # one word a package
  DEBIAN_FRONTEND=noninteractive nice -n "$NICE" chroot "$R" \
    apt-get install -y -q --no-install-recommends $PACKAGES >&2
  chroot "$R" apt-get clean
  umount "$R/proc"
  trap - EXIT
  touch "$R.stamp"
fi
echo "$R"
