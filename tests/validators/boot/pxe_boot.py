#!/usr/bin/env python3
"""pxe_boot.py TREE --mac MAC [options] -- really PXE-boot a generated TFTP tree.

Boots QEMU (TCG, no KVM needed) with user networking: QEMU's built-in DHCP/TFTP
(slirp) serves a temp copy of TREE, iPXE fetches pxelinux.0, pxelinux looks up
pxelinux.cfg/01-<mac>, <HEXIP>, shorter hex prefixes, default. Every TFTP read
request (and whether it succeeded) is taken from a pcap of the guest NIC.
pxelinux.0/ldlinux.c32/*.c32 come from Debian's pxelinux/syslinux-common unless
TREE has its own. With --kernel/--initrd, a probe Linux (Debian vmlinuz + busybox
initrd whose /init prints /proc/cmdline to ttyS0 and powers off) is put at those
paths, so the APPEND line the chosen label really passes is captured. QEMU has a second
serial port, COM2, logged too (the JSON's "com2_head" and "com2_tail"; COM1's is "serial_tail").

options: --ip A.B.C.D   guest address (default 10.0.2.15); network is A.B.C.0/24
         --other-mac MAC   a second NIC, first on the PCI bus (the kernel's eth0), on a
                           network of its own with no boot file; the --mac NIC boots
                           (bootindex=1), so BOOTIF= must name it, not the first NIC
         --kernel REL --initrd REL   paths (relative to TREE) the config boots
         --expect-config NAME   e.g. pxelinux.cfg/01-52-54-00-12-34-56
         --expect-cmdline REGEX   searched in the probe's /proc/cmdline
         --timeout S (default 90)  --json FILE (write the result)
         --quiet S (default 30): with --kernel, give up S s after the last TFTP request
Without --kernel it stops 3 s after the last TFTP request once a config loaded.
Exit 0: a pxelinux.cfg file was loaded and every --expect matched; 1: not; 2: setup.
Takes ~6 s to the loaded config, ~12 s with the probe kernel (2-core TCG).

A copy of the xenfab test oracle, changed only in its docs and install hints. The probe
kernel build/probe-vmlinuz (git-ignored) is Debian's vmlinuz, extracted by
scripts/install-validators. test_netboot.py boots xenfab's rendered tftpboot/ with it.
"""
import argparse, gzip, glob, json, os, re, shutil, stat, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE_KERNEL = os.environ.get("XENFAB_PROBE_KERNEL", os.path.join(HERE, "build", "probe-vmlinuz"))
BUSYBOX = os.environ.get("XENFAB_PROBE_BUSYBOX", "/bin/busybox")
INIT = b"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
echo "XENFAB-PROBE-CMDLINE: $(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
/bin/busybox poweroff -f
"""


def probe_initrd(path):
    """gzip'd newc cpio with /init + static busybox."""
    out, ino = b"", 1
    ents = [("bin", stat.S_IFDIR | 0o755, b""),
            ("bin/busybox", stat.S_IFREG | 0o755, open(BUSYBOX, "rb").read()),
            ("init", stat.S_IFREG | 0o755, INIT), ("TRAILER!!!", 0, b"")]
    for name, mode, data in ents:
        nb = name.encode() + b"\0"
        f = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        out += b"070701" + "".join("%08X" % v for v in f).encode() + nb
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    with open(path, "wb") as fh:
        fh.write(gzip.compress(out, 6))


def tftp_log(pcap):
    """[[filename, 'ok' | 'error: ...' | 'no reply'], ...] from the guest NIC's pcap."""
    try:
        d = open(pcap, "rb").read()
    except OSError:
        return []
    off, reqs, byport = 24, [], {}
    while off + 16 <= len(d):
        n = struct.unpack_from("<I", d, off + 8)[0]
        p = d[off + 16: off + 16 + n]
        off += 16 + n
        if len(p) < 46 or p[12:14] != b"\x08\x00" or p[23] != 17:
            continue
        ihl = (p[14] & 15) * 4
        sport, dport = struct.unpack_from(">HH", p, 14 + ihl)
        t = p[14 + ihl + 8:]
        op = struct.unpack_from(">H", t)[0] if len(t) >= 2 else 0
        if dport == 69 and op == 1:
            reqs.append([t[2:].split(b"\0")[0].decode("latin1"), "no reply"])
            byport[sport] = reqs[-1]
        elif dport in byport and byport[dport][1] == "no reply" and op in (3, 5, 6):
            byport[dport][1] = "ok" if op != 5 else "error: " + t[4:].split(b"\0")[0].decode("latin1")
    return reqs


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("tree"); ap.add_argument("--mac", required=True)
    ap.add_argument("--ip", default="10.0.2.15"); ap.add_argument("--uuid")
    ap.add_argument("--other-mac")
    ap.add_argument("--kernel"); ap.add_argument("--initrd")
    ap.add_argument("--expect-config"); ap.add_argument("--expect-cmdline")
    ap.add_argument("--timeout", type=float, default=90); ap.add_argument("--json")
    ap.add_argument("--quiet", type=float, default=30)
    a = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu or not os.path.isdir(a.tree):
        print("need qemu-system-x86_64 (run scripts/install-validators) and a TREE dir"); return 2
    if a.kernel and not (os.path.exists(PROBE_KERNEL) and os.path.exists(BUSYBOX)):
        print("probe kernel %s or busybox %s missing: run scripts/install-validators" % (PROBE_KERNEL, BUSYBOX)); return 2
    tmp = tempfile.mkdtemp(prefix="pxe_boot.")
    try:
        root = os.path.join(tmp, "tftp")
        shutil.copytree(a.tree, root)
        for f in ["/usr/lib/PXELINUX/pxelinux.0"] + glob.glob("/usr/lib/syslinux/modules/bios/*.c32"):
            if not os.path.exists(os.path.join(root, os.path.basename(f))):
                shutil.copy(f, root)
        for rel, make in ((a.kernel, lambda p: shutil.copy(PROBE_KERNEL, p)), (a.initrd, probe_initrd)):
            if rel:
                dst = os.path.join(root, rel.lstrip("/"))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                make(dst)
        net = ".".join(a.ip.split(".")[:3]) + ".0/24"
        pcap, serial = os.path.join(tmp, "nic.pcap"), os.path.join(tmp, "serial.log")
        com2 = os.path.join(tmp, "com2.log")  # a second port: pxelinux's `SERIAL 1 …` writes there
        cmd = [qemu, "-accel", "tcg", "-display", "none", "-monitor", "none", "-no-reboot",
               "-m", "256", "-serial", "file:" + serial, "-serial", "file:" + com2]
        if a.other_mac:
            # The other NIC first (lower PCI slot); the boot NIC chosen by bootindex, which
            # QEMU does not take together with -boot's order.
            cmd += ["-netdev", "user,id=n1,net=10.9.9.0/24",
                    "-device", "e1000,netdev=n1,mac=" + a.other_mac]
            boot = ",bootindex=1"
        else:
            cmd += ["-boot", "n"]
            boot = ""
        cmd += ["-netdev", "user,id=n0,net=%s,dhcpstart=%s,tftp=%s,bootfile=pxelinux.0" % (net, a.ip, root),
                "-device", "e1000,netdev=n0,mac=" + a.mac + boot,
                "-object", "filter-dump,id=f0,netdev=n0,file=" + pcap]
        if a.uuid:
            cmd += ["-uuid", a.uuid]
        t0 = time.time()
        q = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        why, nreq, last_new = "timeout", 0, time.time()
        while time.time() - t0 < a.timeout:
            if q.poll() is not None:
                why = "guest powered off / qemu exited (rc %d)" % q.returncode; break
            log = tftp_log(pcap)
            if len(log) != nreq:
                nreq, last_new = len(log), time.time()
            stuck = [f for f, st in log if st.startswith("error") and not f.startswith("pxelinux.cfg/")]
            if stuck and (time.time() - last_new > 3 or any(stuck.count(f) > 1 for f in stuck)):
                why = "stuck: TFTP file(s) not found: " + ", ".join(sorted(set(stuck))); break
            if a.kernel and log and time.time() - last_new > a.quiet:
                why = "probe kernel gave no cmdline %ds after the last TFTP request (no initrd? panic?)" % a.quiet
                break
            cfg_ok = any(f.startswith("pxelinux.cfg/") and st == "ok" for f, st in log)
            if not a.kernel and cfg_ok and time.time() - last_new > 3:
                why = "config loaded, no TFTP activity for 3 s"; break
            time.sleep(0.3)
        if q.poll() is None:
            q.kill()
        qout = q.communicate()[0].decode(errors="replace")
        log = tftp_log(pcap)
        ser = open(serial, errors="replace").read().replace("\r", "") if os.path.exists(serial) else ""
        m = re.search(r"XENFAB-PROBE-CMDLINE: (.*)", ser)
        com2_text = open(com2, errors="replace").read().replace("\r", "") if os.path.exists(com2) else ""
        cfgs = [f for f, st in log if f.startswith("pxelinux.cfg/") and st == "ok"]
        res = {"seconds": round(time.time() - t0, 1), "stopped": why, "tftp": log,
               "config": cfgs[0] if cfgs else None, "cmdline": m.group(1) if m else None,
               "serial_tail": ser[-3000:], "qemu": qout[-2000:],
               "com2_head": com2_text[:3000], "com2_tail": com2_text[-3000:]}
        fails = []
        if not res["config"]:
            fails.append("no pxelinux.cfg file was loaded")
        if a.expect_config and res["config"] != a.expect_config:
            fails.append("config %r != expected %r" % (res["config"], a.expect_config))
        if a.expect_cmdline and not re.search(a.expect_cmdline, res["cmdline"] or ""):
            fails.append("cmdline %r does not match %r" % (res["cmdline"], a.expect_cmdline))
        res["failures"] = fails
        if a.json:
            with open(a.json, "w") as fh:
                json.dump(res, fh, indent=1)
        print("%.1fs, stopped: %s" % (res["seconds"], why))
        for i, (f, st) in enumerate(log):  # collapse retries of the same request
            if i == 0 or [f, st] != log[i - 1]:
                n = next((j for j in range(i, len(log)) if log[j] != [f, st]), len(log)) - i
                print("  tftp %-45s %s%s" % (f, st, " (x%d)" % n if n > 1 else ""))
        print("config:  %s\ncmdline: %s" % (res["config"], res["cmdline"]))
        if fails:
            print("FAIL: " + "; ".join(fails))
            print("--- serial tail ---\n" + ser[-1500:] + ("\n--- qemu ---\n" + qout if qout.strip() else ""))
            return 1
        print("OK")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
