#!/bin/bash
# run.sh - boot what xenfab rendered for a Debian dom0 under real GRUB 2 -> real Xen -> dom0
# in QEMU (TCG: no KVM needed), run the rendered provision.sh there three times and record
# what Xen, xl, LVM and the guests say on the serial console.
#
# Usage (as root):  tests/e2e/run.sh RENDERED_TREE DOM0_FQDN [WORK_DIR]
#   RENDERED_TREE  the output of `xenfab render` (dom0s/<fqdn>/… and inventory/)
#   WORK_DIR       defaults to tests/e2e/cache/work (git-ignored); the serial log is
#                  WORK_DIR/serial.log
# Knobs: TIMEOUT (QEMU wall-clock limit, s; default 2400), GUEST_WAIT (how long dom0 waits
# for its guests' markers, s; default 900), CPU (default qemu64), NICE (default 10).
# Exit status: 0 when the dom0 test driver ran to its end (E2E-DONE), 1 when the run stopped
# early (a GRUB error, a crash, provision.sh failing, a guest that died) or timed out, 2 on a
# usage or host problem. tests/e2e/test_e2e.py checks the log against the fabric.
#
# What the dom0 gets, all from the rendered tree, put where a Debian dom0 reads it:
#   grub/grub.cfg -> /boot/grub/grub.cfg      grub/xen.cfg -> /etc/default/grub.d/xen.cfg
#   kernel-img.conf -> /etc/kernel-img.conf   (then linux-update-symlinks, as a kernel
#                                              package's postinst runs it, makes /boot/vmlinuz)
#   network/interfaces -> /etc/network/interfaces
#   default/xendomains -> /etc/default/xendomains  xen/xl.conf -> /etc/xen/xl.conf
#   the whole dom0s/<fqdn>/ -> /root/xenfab/ (provision.sh installs the guests' configs, and
#                                 runs install/<guest>.sh, the debootstrap install of a Debian
#                                 guest in state install)
#   the OS's debootstrap_tarball (named by install/<guest>.sh) -> that path in dom0: made once
#   on this host with `debootstrap --make-tarball` for the script's suite and --include, and
#   cached beside the dom0 image (tests/e2e/cache/debootstrap-<suite>-<key>.tgz)
# The test driver (/sbin/init) stands in for what a real boot and the Debian installer do:
# mounts, udev, the xen init script, `ifup -a`, and the volume groups of the partition scheme
# on the second disk. Everything else is the rendered files' job.
#
# Facts learnt from /work/shared/e2e/xen-in-qemu.sh: under TCG plain `-cpu max` crashes dom0
# at its first instructions (SMAP), and `max,-smap` or `qemu64` work; xenconsoled needs its log
# folder. Here `max,-smap` also made `xl create` segfault in ld.so once in four runs (TCG's
# emulation of the newer vector instructions glibc picks for `max`), and `qemu64` ran every
# time and faster (158 s against 205 to 250 s): the default. qemu64 has no VMX or SVM, so Xen
# runs PV guests only, which is what the test's guests are.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 RENDERED_TREE DOM0_FQDN [WORK_DIR]" >&2; exit 2; }
TREE=$(cd "$1" && pwd)
FQDN=$2
WORK=${3:-$HERE/cache/work}
TIMEOUT=${TIMEOUT:-2400}
GUEST_WAIT=${GUEST_WAIT:-900}
CPU=${CPU:-qemu64}
NICE=${NICE:-10}
D=$TREE/dom0s/$FQDN
[ -d "$D" ] || { echo "run.sh: no dom0s/$FQDN in $TREE" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (chroot, loop-free mkfs)" >&2; exit 2; }
# QEMU's serial input is /dev/null: were it a regular file (something run as root replaced it),
# GRUB would read its text as keys, stop its countdown and sit in the menu until the limit.
[ -c /dev/null ] || { echo "run.sh: /dev/null is not the null device (ls -l /dev/null): restore it with rm /dev/null; mknod -m 666 /dev/null c 1 3" >&2; exit 2; }
log() { printf '### %s %s\n' "$(date +%T)" "$*" >&2; }

need=()
for p in qemu-system-x86 debootstrap xorriso grub-pc-bin grub-common e2fsprogs fdisk cpio gzip mtools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing host tools: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2; }
fi

ROOTFS=$("$HERE/dom0-image.sh" "$(dirname "$WORK")")
mkdir -p "$WORK"
R=$WORK/root
rm -rf "$R"
log "copying the cached dom0 root file system"
cp -a "$ROOTFS" "$R"
KVER=$(basename "$(ls -d "$R"/lib/modules/*-amd64 | sort -V | tail -1)")

# ------------------------------------------------------------ the rendered files
install -D -m 0644 "$D/grub/grub.cfg" "$R/boot/grub/grub.cfg"
install -D -m 0644 "$D/grub/xen.cfg" "$R/etc/default/grub.d/xen.cfg"
install -D -m 0644 "$D/kernel-img.conf" "$R/etc/kernel-img.conf"
install -D -m 0644 "$D/network/interfaces" "$R/etc/network/interfaces"
install -D -m 0644 "$D/default/xendomains" "$R/etc/default/xendomains"
install -D -m 0644 "$D/xen/xl.conf" "$R/etc/xen/xl.conf"
mkdir -p "$R/root/xenfab"
cp -a "$D"/. "$R/root/xenfab/"
# What the kernel package's postinst does with kernel-img.conf (linux-base).
chroot "$R" linux-update-symlinks install "$KVER" "/boot/vmlinuz-$KVER" >&2

# ------------------------------------------------ what the test needs of the fabric
# The guests (from the rendered inventory), their bridge (their xl config) and dom0's address
# there (the rendered interfaces): one line a guest, NAME MODE IP/PREFIX DOM0_ADDRESS SIZE LV
# HOW, HOW `debootstrap` for a guest provision.sh installs (install/NAME.sh), else `-`.
python3 - "$TREE" "$FQDN" > "$R/root/e2e-guests" <<'PY'
import json, re, sys
from pathlib import Path
tree, fqdn = Path(sys.argv[1]), sys.argv[2]
dom0 = json.loads((tree / "inventory/hosts" / f"{fqdn}.json").read_text())["dom0"]
ifaces = (tree / "dom0s" / fqdn / "network/interfaces").read_text()
addr = dict(re.findall(r"^iface (\S+) inet static\n\taddress (\S+)", ifaces, re.M))
for name in dom0["guests"]:
    g = next(json.loads(p.read_text()) for p in (tree / "inventory/hosts").glob(f"{name}.*.json")
             if json.loads(p.read_text()).get("dom0") == fqdn)
    cfg = (tree / "dom0s" / fqdn / "xen" / f"{name}.cfg").read_text()
    bridge = re.search(r"bridge=([A-Za-z0-9._-]+)", cfg).group(1)
    ip, prefix = addr[bridge].split("/")
    disk = g["disks"][0]
    how = "debootstrap" if (tree / "dom0s" / fqdn / "install" / f"{name}.sh").exists() else "-"
    print(name, g["mode"], f"{g['ip']}/{prefix}", ip, disk["size"], f"/dev/{disk['vg']}/{disk['lv']}", how)
PY
# ------------------------------------------------- the debootstrap tarballs
# What a site does beforehand where the mirror is reachable: the `debootstrap --make-tarball`
# command the rendered install script prints in its header (its suite, --include and
# tarball path; not the script's own SUITE and INCLUDE lines, which a broken script may
# change), the tarball put on dom0 at that path. Made once on this host and cached, keyed on
# the command; older tarballs of the cache are removed.
for script in "$D"/install/*.sh; do
  [ -e "$script" ] || continue
  cmd=$(sed -n 's/^#   \(debootstrap --variant=minbase .* --make-tarball=.*\)$/\1/p' "$script")
  [ -n "$cmd" ] && grep -q '^TARBALL=' "$script" || continue
  # debootstrap --variant=minbase --arch=amd64 --include=LIST --make-tarball=FILE SUITE $(mktemp -d) MIRROR
  read -r -a w <<< "$cmd"
  include=${w[3]#--include=}; tarball=${w[4]#--make-tarball=}; suite=${w[5]}; mirror=${w[8]}
  key=$(printf '%s\n' "$cmd" | sha256sum | cut -c1-16)
  cache=$(dirname "$WORK")
  cached=$cache/debootstrap-$suite-$key.tgz
  if [ ! -e "$cached" ]; then
    for old in "$cache"/debootstrap-*.tgz; do [ -e "$old" ] && rm -f "$old"; done
    log "debootstrap --make-tarball $suite ($include)"
    t=$(mktemp -d)
    nice -n "$NICE" debootstrap --variant=minbase --arch=amd64 --include="$include" \
      --make-tarball="$t/tarball.tgz" "$suite" "$t/target" "${DEBOOTSTRAP_MIRROR:-$mirror}" >&2
    mv "$t/tarball.tgz" "$cached"
    rm -rf "$t"
  fi
  install -D -m 0644 "$cached" "$R$tarball"
done

VGS=$(sed -n "s/^need_volume_group '\([^']*\)'$/\1/p" "$D/provision.sh" | tr '\n' ' ')
[ -n "$VGS" ] || VGS=xenvg

# ---------------------------------------------------------- the guests' initramfs
G=$WORK/guest-initrd
rm -rf "$G"; mkdir -p "$G"/{bin,proc,sys,dev,lib}
cp "$R/bin/busybox" "$G/bin/busybox"
cp "$R/lib/modules/$KVER/kernel/drivers/block/xen-blkfront.ko" \
   "$R/lib/modules/$KVER/kernel/drivers/net/xen-netfront.ko" "$G/lib/"
cat > "$G/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for a in $(cat /proc/cmdline); do
  case $a in xenfab.ip=*) IP=${a#xenfab.ip=};; xenfab.dom0=*) DOM0=${a#xenfab.dom0=};; esac
done
say() { echo "GUEST-E2E ip=${IP%/*} $*"; }
say "start kernel=$(uname -r) vcpus=$(grep -c ^processor /proc/cpuinfo) $(grep MemTotal /proc/meminfo | tr -s ' ')"
insmod /lib/xen-blkfront.ko; insmod /lib/xen-netfront.ko
i=0; while [ ! -b /dev/xvda ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
if [ -b /dev/xvda ]; then say "disk xvda sectors=$(cat /sys/block/xvda/size)"; else say "disk xvda missing"; fi
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
if [ -e /sys/class/net/eth0 ]; then
  say "nic eth0 mac=$(cat /sys/class/net/eth0/address)"
  ip link set eth0 up; ip addr add "$IP" dev eth0; sleep 2
  if ping -c 3 -W 5 "$DOM0" >/dev/null; then say "ping $DOM0 ok"; else say "ping $DOM0 failed"; fi
else
  say "nic eth0 missing"
fi
say "done"
# Keep running: provision.sh's last run must find every guest up and leave it alone.
while :; do sleep 3600; done
INIT
chmod +x "$G/init"
mkdir -p "$R/var/lib/xen/e2e"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -9) > "$R/var/lib/xen/e2e/initrd.gz"

# A pygrub guest boots its own disk, blank until installed: the image of what an install
# would leave there, which the driver writes into the guest's volume once provision.sh made
# it: an ext4 on the whole volume, as xen-tools' debootstrap installs make (no partition
# table: its first sector stays zero, which provision.sh must not take for blank), with
# /boot/grub/grub.cfg, dom0's kernel and the test initrd.
while read -r name mode ip dom0ip size _lv _how; do
  [ "$mode" = pv-pygrub ] || continue
  g=$WORK/disk-$name
  rm -rf "$g"; mkdir -p "$g/boot/grub"
  cp "$R/boot/vmlinuz-$KVER" "$g/boot/"
  cp "$R/var/lib/xen/e2e/initrd.gz" "$g/boot/initrd.gz"
  printf "set default=0\nset timeout=0\nmenuentry 'e2e guest %s' {\n\tlinux /boot/vmlinuz-%s console=hvc0 xenfab.ip=%s xenfab.dom0=%s\n\tinitrd /boot/initrd.gz\n}\n" \
    "$name" "$KVER" "$ip" "$dom0ip" > "$g/boot/grub/grub.cfg"
  img=$R/var/lib/xen/e2e/$name.img
  truncate -s "${size}M" "$img"
  mkfs.ext4 -q -F -L "$name" -d "$g" "$img"
  rm -rf "$g"
done < "$R/root/e2e-guests"

# xenconsoled writes each guest's console to /var/log/xen/console (the driver prints them).
grep -q '^XENCONSOLED_ARGS=' "$R/etc/default/xen" ||
  echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$R/etc/default/xen"

# ------------------------------------------------------- the dom0 test driver
{ echo '#!/bin/bash'; printf 'GUEST_WAIT=%s\nVGS="%s"\nKVER=%s\n' "$GUEST_WAIT" "$VGS" "$KVER"; } > "$R/sbin/init"
cat >> "$R/sbin/init" <<'DRIVER'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "E2E $*"; }
finish() {
  say "DONE at $(up)s"
  sync; mount -o remount,ro / 2>/dev/null
  busybox poweroff -f || echo o > /proc/sysrq-trigger
  sleep 60
}
abort() { say "ABORT $*"; finish; }
block() { echo "E2E-BEGIN $1"; shift; "$@" 2>&1; echo "E2E-END rc=$?"; }
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts
mount -o remount,rw /
mount -t tmpfs tmpfs /run; mkdir -p /run/lock /run/network
mount -t tmpfs tmpfs /tmp
hostname dom0
say "dom0 userspace at $(up)s cmdline: $(cat /proc/cmdline)"
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add; udevadm settle --timeout=300
modprobe dm-mod; modprobe xen-blkback; modprobe xen-netback; modprobe bridge
mkdir -p /var/log/xen/console
/etc/init.d/xen start >/dev/null 2>&1 || abort "/etc/init.d/xen start failed"
say "xen toolstack up at $(up)s"
# A real boot's networking (ifupdown's networking service).
ifup -a 2>&1 | sed 's/^/ifup: /'
# The partition scheme's volume groups: the installer's job on a real dom0.
for vg in $VGS; do pvcreate -q -y /dev/vdb && vgcreate -q "$vg" /dev/vdb || abort "vgcreate $vg"; done
block xl-info xl info
block xl-list-dom0 xl list Domain-0
block bridges sh -c 'for b in /sys/class/net/*/bridge; do b=${b%/bridge}; echo "$(basename $b) $(cat $b/address) ports: $(ls $b/brif | tr "\n" " ")"; ip -4 -o addr show dev $(basename $b); done'

cd /root/xenfab
run_provision() {
  echo "E2E-BEGIN provision-$1"
  ./provision.sh 2>&1; rc=$?
  echo "E2E-END rc=$rc"
  [ $rc = 0 ] || abort "provision.sh run $1 exit $rc"
}
run_provision 1
# A pygrub guest's installer would have written its disk by now: the image run.sh made.
while read -r name mode ip dom0ip size lv _how; do
  [ "$mode" = pv-pygrub ] || continue
  dd if="/var/lib/xen/e2e/$name.img" of="$lv" bs=1M conv=fsync status=none || abort "cannot write $lv"
  say "installed a test system on $lv for $name"
done < /root/e2e-guests
run_provision 2
# Wait for every guest's markers, or its death: a test guest's `done`, a Debian guest's getty
# banner on its console (/etc/issue: `Debian GNU/Linux 12 <host> hvc0`), its own userspace.
t0=$(up); t0=${t0%.*}
while read -r name mode ip dom0ip size lv how; do
  want='GUEST-E2E .* done'
  [ "$how" = debootstrap ] && want="Debian GNU/Linux [0-9]* $name hvc0"
  while :; do
    tr -d '\r' < "/var/log/xen/console/guest-$name.log" 2>/dev/null | grep -q "$want" && break
    if ! xl list "$name" >/dev/null 2>&1; then say "guest $name is not running"; break; fi
    now=$(up); [ $(( ${now%.*} - t0 )) -lt "$GUEST_WAIT" ] || { say "guest $name: no markers after ${GUEST_WAIT}s"; break; }
    sleep 3
  done
  echo "E2E-BEGIN console-$name"; tr -d '\r' < "/var/log/xen/console/guest-$name.log" 2>/dev/null; echo "E2E-END rc=0"
  # dom0 reaches an installed guest at its fabric address, over its bridge.
  if [ "$how" = debootstrap ]; then
    if busybox ping -c 3 -W 5 "${ip%/*}" >/dev/null 2>&1; then say "ping $name ${ip%/*} ok"; else say "ping $name ${ip%/*} failed"; fi
  fi
done < /root/e2e-guests
say "guests done at $(up)s"
snapshot() { lvs --noheadings --units m -o vg_name,lv_name,lv_size; ls -l --time-style=+ /etc/xen /etc/xen/auto; xl list | awk '{print $1, $2}'; }
snapshot > /tmp/before 2>&1
run_provision 3
snapshot > /tmp/after 2>&1
if cmp -s /tmp/before /tmp/after; then say "third run changed nothing"; else say "third run changed:"; diff /tmp/before /tmp/after; fi
block lvs lvs --noheadings --units m --nosuffix -o vg_name,lv_name,lv_size
block autostart ls -l /etc/xen/auto
block xl-list xl list
block xl-list-l xl list -l
block brif sh -c 'for b in /sys/class/net/*/brif/*; do echo "$(basename $b) $(basename $(dirname $(dirname $b)))"; done'
finish
DRIVER
chmod +x "$R/sbin/init"

# ------------------------------------------------------------- disk images
log "building disk images"
size_mb=$(( $(du -sm "$R" | cut -f1) + 400 ))
rm -f "$WORK/root.img" "$WORK/lvm.img"
truncate -s $(( size_mb + 1 ))M "$WORK/root.img"
echo 'start=2048, type=83, bootable' | sfdisk -q "$WORK/root.img"
mkfs.ext4 -q -F -L dom0root -E offset=1048576 -d "$R" "$WORK/root.img" "${size_mb}M"
truncate -s 1G "$WORK/lvm.img"
rm -rf "$R"

# GRUB from a rescue image whose only job is to read the dom0 disk's /boot/grub/grub.cfg, the
# rendered one (no boot sector is installed on the dom0 disk: that is the installer's job).
rm -rf "$WORK/isotree"; mkdir -p "$WORK/isotree/boot/grub"
cat > "$WORK/isotree/boot/grub/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
insmod part_msdos
insmod ext2
search --no-floppy --label --set=root dom0root
configfile /boot/grub/grub.cfg
CFG
grub-mkrescue -o "$WORK/boot.iso" "$WORK/isotree" >/dev/null 2>&1

# --------------------------------------------------------------- boot it
mac=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dom0"]["mac"])' "$TREE/inventory/hosts/$FQDN.json")
log "booting under QEMU (tcg, -cpu $CPU), limit ${TIMEOUT}s, log $WORK/serial.log"
rm -f "$WORK/serial.fifo"; mkfifo "$WORK/serial.fifo"
set +e
timeout "$TIMEOUT" nice -n "$NICE" qemu-system-x86_64 \
  -machine pc -accel tcg -cpu "$CPU" -smp 2 -m 2048 \
  -display none -vga none -serial stdio -monitor none -parallel none -no-reboot \
  -nic "user,model=virtio-net-pci,mac=$mac" \
  -boot d -cdrom "$WORK/boot.iso" \
  -drive "file=$WORK/root.img,if=virtio,format=raw" \
  -drive "file=$WORK/lvm.img,if=virtio,format=raw" < /dev/null > "$WORK/serial.fifo" 2>&1 &
qpid=$!
start=${EPOCHREALTIME/./}
stopped=
while IFS= read -r line || [ -n "$line" ]; do
  now=${EPOCHREALTIME/./}; d=$(( (now - start) / 100000 ))
  printf '[%5d.%d] %s\n' $((d / 10)) $((d % 10)) "${line//$'\r'/}"
  # Stop at the usual dead ends instead of waiting for the limit.
  stop=
  case $line in
    *'(XEN) Xen version'*) xen_seen=1 ;;
    *'error: '*|*'Press any key to continue'*) [ -z "${xen_seen:-}" ] && stop='GRUB error' ;;
    *'Dropping to a shell'*) stop='dom0 initramfs could not mount root' ;;
    *'Kernel panic'*|*'(XEN) Panic on CPU'*|*'Hardware Dom0 crashed'*) stop='Xen or dom0 crashed' ;;
    *'E2E ABORT'*) stop='the dom0 test driver gave up' ;;
  esac
  if [ -n "$stop" ] && [ -z "$stopped" ]; then
    echo "HARNESS: $stop - stopping QEMU"; stopped=1
    (sleep 5; kill "$qpid" 2>/dev/null) &
  fi
done < "$WORK/serial.fifo" > "$WORK/serial.log"
wait "$qpid"; qrc=$?
set -e
rm -f "$WORK/serial.fifo"
log "QEMU exit status $qrc after $(( (${EPOCHREALTIME/./} - start) / 1000000 ))s"
grep -E 'HARNESS:|E2E ABORT' "$WORK/serial.log" >&2 || true
if grep -q 'E2E DONE' "$WORK/serial.log" && ! grep -q -E 'HARNESS:|E2E ABORT' "$WORK/serial.log"; then
  exit 0
fi
[ "$qrc" = 124 ] && echo "run.sh: QEMU hit the ${TIMEOUT}s limit" >&2
exit 1
