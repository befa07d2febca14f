#!/usr/bin/env python3
"""efi_netboot.py TREE --dhcp isc|kea|dnsmasq CONF --mac MAC --server-cidr A.B.C.D/N [options]
-- really network-boot a generated TFTP tree with a real DHCP server and real firmware.

QEMU (TCG, no KVM) runs in a private network namespace, its NIC on a tap device (eth0 in
the namespace) that has the address --server-cidr; there, on that tap, the real DHCP server
serves CONF (ISC dhcpd -4 -f -d -cf, kea-dhcp4 -c, dnsmasq -k -C --port=0, started as
dhcp_probe.sh starts them; Kea's CONF must listen on "*" or "eth0") and dnsmasq, TFTP only
(--port=0, no dhcp-range), serves a temp copy of TREE. Give the tap the next-server address
CONF names (e.g. 192.0.2.1/24): the firmware fetches the boot file from there. A dnsmasq CONF's
own tftp lines (enable-tftp, tftp-*) are left out of the copy the server reads: the harness's
TFTP server serves TREE; a Kea CONF's memfile lease file (its lease-database name) is moved into
the temp dir in the copy Kea reads (its default is /var/lib/kea). Nothing touches the host's own interfaces.

--firmware uefi (default): OVMF 2022.11 (Debian's ovmf: OVMF_CODE_4M.fd read-only pflash, a
  temp copy of OVMF_VARS_4M.fd), q35, virtio-net-pci with romfile= empty, so OVMF's own
  VirtioNetDxe + PxeBcDxe do the PXE boot (DHCP option 93 = 7, x86-64 UEFI), NIC bootindex=1.
--firmware bios: SeaBIOS + iPXE's e1000 ROM (ipxe-qemu), pc machine (option 93 = 0, BIOS).
Every DHCP message on the NIC (message type, option 93 the client sent, the file / option 67
and siaddr the server answered) and every TFTP read request (and whether it succeeded) is
taken from a pcap of the NIC (QEMU's filter-dump).

Boot binaries put into the temp copy of TREE (TREE's own files win, as in pxe_boot.py):
  BIOS: Debian's pxelinux.0 and syslinux's bios *.c32 at the root.
  --grub-efi REL   Debian's signed GRUB netboot image (grub-efi-amd64-signed:
                   /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed) at REL
  --shim REL       shim-unsigned's shimx64.efi at REL, with that GRUB beside it as
                   grubx64.efi (shim loads grubx64.efi from its own directory)
  --kernel REL --initrd REL   the probe Linux of pxe_boot.py (Debian vmlinuz, busybox initrd
                   whose /init prints /proc/cmdline to ttyS0 and powers off)
Debian's grubnetx64 has the prefix /grub on the TFTP server it was loaded from, whatever the
directory of the image: it reads grub/x86_64-efi/*.mod (absent: built in) and then
grub/grub.cfg-01-<mac>, grub/grub.cfg-<HEXIP> shortened one hex digit at a time, grub/grub.cfg
(GRUB 2.06 grub-core/net/net.c grub_net_search_config_file, called from normal/main.c
grub_cmd_normal when the prefix is a tftp device).

options: --expect-config REL    a TFTP file that must have been read (e.g.
                                grub/grub.cfg-01-52-54-00-12-34-56 or pxelinux.cfg/01-...)
         --expect-bootfile NAME the boot file name the DHCP server's answer must carry
         --expect-cmdline RE    searched in the probe's /proc/cmdline
         --timeout S (default 240)  --json FILE (write the result)
         --quiet S (default 60): give up S s after the last TFTP request when no cmdline came
JSON: seconds, stopped, dhcp [{type, op93, file, opt67, siaddr, yiaddr}], bootfile (of the
server's last OFFER/ACK), tftp [[file, ok|error: ...|no reply]], configs (config files read:
grub/grub.cfg*, pxelinux.cfg/*), cmdline, serial_tail, server_log, failures.
Exit 0: the probe's cmdline came (or, without --kernel, a config file was read) and every
--expect held; 1: not; 2: setup (not root, no netns, missing programs/files).
Takes ~15-20 s with OVMF to the probe's line under 2-core TCG, ~25 s BIOS (iPXE waits for
ProxyDHCP offers), ~10 s for a failing OVMF boot (see test_efi_boot.py).
"""
import argparse, glob, json, os, re, shutil, signal, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pxe_boot import PROBE_KERNEL, BUSYBOX, probe_initrd, tftp_log  # noqa: E402

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"  # Debian ovmf 2022.11: 4 MiB, no Secure Boot
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
GRUBNET = "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
SHIM = "/usr/lib/shim/shimx64.efi"  # shim-unsigned (shim-signed cannot be installed beside grub-legacy)
SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"]
DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM"}


def dhcp_log(pcap):
    """Every DHCP message (UDP 67/68) of the pcap: type, op93 (client arch), file, opt67, ..."""
    try:
        d = open(pcap, "rb").read()
    except OSError:
        return []
    off, out = 24, []
    while off + 16 <= len(d):
        n = struct.unpack_from("<I", d, off + 8)[0]
        p = d[off + 16: off + 16 + n]
        off += 16 + n
        if len(p) < 42 or p[12:14] != b"\x08\x00" or p[23] != 17:
            continue
        ihl = (p[14] & 15) * 4
        sport, dport = struct.unpack_from(">HH", p, 14 + ihl)
        if {sport, dport} != {67, 68}:
            continue
        b = p[14 + ihl + 8:]
        if len(b) < 240 or b[236:240] != b"\x63\x82\x53\x63":  # RFC 2131 magic cookie
            continue
        opts, i = {}, 240
        while i < len(b) and b[i] != 255:
            if b[i] == 0:
                i += 1; continue
            if i + 1 >= len(b):
                break
            opts[b[i]] = b[i + 2: i + 2 + b[i + 1]]
            i += 2 + b[i + 1]
        cstr = lambda x: x.split(b"\0")[0].decode("latin1")
        ent = {"type": DHCP_TYPES.get(opts.get(53, b"\0")[0], "BOOTP"),
               "yiaddr": ".".join(map(str, b[16:20])), "siaddr": ".".join(map(str, b[20:24])),
               "file": cstr(b[108:236])}
        if 93 in opts:  # RFC 4578 client system architecture: 0 BIOS, 7 x86-64 UEFI, 16 HTTP
            ent["op93"] = [v for (v,) in struct.iter_unpack(">H", opts[93][: len(opts[93]) // 2 * 2])]
        if 60 in opts:
            ent["op60"] = cstr(opts[60])
        if 67 in opts:
            ent["opt67"] = cstr(opts[67])
        if 66 in opts:
            ent["opt66"] = cstr(opts[66])
        out.append(ent)
    return out


def sh(*argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up (netns, servers) when killed
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("tree")
    ap.add_argument("--dhcp", nargs=2, metavar=("KIND", "CONF"), required=True)
    ap.add_argument("--mac", required=True); ap.add_argument("--server-cidr", required=True)
    ap.add_argument("--firmware", choices=["uefi", "bios"], default="uefi")
    ap.add_argument("--grub-efi"); ap.add_argument("--shim")
    ap.add_argument("--kernel"); ap.add_argument("--initrd")
    ap.add_argument("--expect-config"); ap.add_argument("--expect-bootfile")
    ap.add_argument("--expect-cmdline")
    ap.add_argument("--timeout", type=float, default=240); ap.add_argument("--quiet", type=float, default=60)
    ap.add_argument("--json")
    a = ap.parse_args()
    kind, conf = a.dhcp[0], os.path.abspath(a.dhcp[1])
    path = os.pathsep.join([os.environ.get("PATH", "")] + SBIN)
    server = {"isc": "dhcpd", "kea": "kea-dhcp4", "dnsmasq": "dnsmasq"}.get(kind)
    if server is None:
        print("--dhcp KIND must be isc, kea or dnsmasq"); return 2
    need = ["qemu-system-x86_64", "ip", "dnsmasq", server]
    files = [OVMF_CODE, OVMF_VARS] if a.firmware == "uefi" else ["/usr/share/seabios/bios-256k.bin",
                                                                   "/usr/lib/ipxe/qemu/efi-e1000.rom"]
    files += [GRUBNET] if a.grub_efi or a.shim else []
    files += [SHIM] if a.shim else []
    files += [PROBE_KERNEL, BUSYBOX] if a.kernel else []
    missing = [c for c in need if not shutil.which(c, path=path)] + [f for f in files if not os.path.exists(f)]
    if missing or not os.path.isdir(a.tree) or not os.path.isfile(conf):
        print("missing %s (run scripts/install-validators), or TREE/CONF not found" % missing); return 2
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("needs root and /dev/net/tun (ip netns, tap)"); return 2
    env = dict(os.environ, PATH=path)
    tmp = tempfile.mkdtemp(prefix="efi_netboot.")
    ns = "xfe%d" % os.getpid()
    procs = []
    try:
        root = os.path.join(tmp, "tftp")
        shutil.copytree(a.tree, root, symlinks=True)

        def put(rel, make):
            dst = os.path.join(root, rel.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not os.path.lexists(dst):
                make(dst)
        for f in ["/usr/lib/PXELINUX/pxelinux.0"] + glob.glob("/usr/lib/syslinux/modules/bios/*.c32"):
            if os.path.exists(f):
                put(os.path.basename(f), lambda p, f=f: shutil.copy(f, p))
        if a.grub_efi:
            put(a.grub_efi, lambda p: shutil.copy(GRUBNET, p))
        if a.shim:
            put(a.shim, lambda p: shutil.copy(SHIM, p))
            put(os.path.join(os.path.dirname(a.shim.lstrip("/")), "grubx64.efi"), lambda p: shutil.copy(GRUBNET, p))
        if a.kernel:
            put(a.kernel, lambda p: shutil.copy(PROBE_KERNEL, p))
        if a.initrd:
            put(a.initrd, probe_initrd)
        os.chmod(tmp, 0o755)  # dnsmasq drops to nobody: it must read the tree
        for d, _, fs in os.walk(root):
            os.chmod(d, 0o755)
            for f in fs:
                if not os.path.islink(os.path.join(d, f)):
                    os.chmod(os.path.join(d, f), 0o644)

        # the namespace, the tap with the server address
        tap = "eth0"
        r = sh("ip", "netns", "add", ns)
        if r.returncode:
            print("ip netns add failed: " + r.stdout); return 2
        for cmd in (["ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"],
                    ["ip", "-n", ns, "addr", "add", a.server_cidr, "dev", tap],
                    ["ip", "-n", ns, "link", "set", tap, "up"], ["ip", "-n", ns, "link", "set", "lo", "up"]):
            r = sh(*cmd)
            if r.returncode:
                print("%s failed: %s" % (" ".join(cmd), r.stdout)); return 2
        nsx = ["ip", "netns", "exec", ns]
        pcap, serial = os.path.join(tmp, "nic.pcap"), os.path.join(tmp, "serial.log")
        qemu = ["qemu-system-x86_64", "-accel", "tcg", "-display", "none", "-no-reboot", "-m", "512", "-serial", "file:" + serial,
                # vnet_hdr=off: with a virtio NIC the tap would carry virtio-net headers, which
                # filter-dump writes into the pcap in front of the Ethernet frames
                "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,vnet_hdr=off" % tap,
                "-object", "filter-dump,id=f0,netdev=n0,file=" + pcap]
        if a.firmware == "uefi":
            vars_ = os.path.join(tmp, "OVMF_VARS.fd")
            shutil.copy(OVMF_VARS, vars_)
            qemu += ["-machine", "q35",
                     "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                     "-drive", "if=pflash,format=raw,unit=1,file=" + vars_,
                     # romfile= empty: no iPXE EFI ROM, OVMF's own VirtioNetDxe/PxeBcDxe boot
                     "-device", "virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=" + a.mac]
        else:
            qemu += ["-device", "e1000,netdev=n0,bootindex=1,mac=" + a.mac]
        # QEMU first, stopped (-S): the tap has its carrier only once QEMU holds it, and Kea opens
        # no socket on an interface that is not running (DHCPSRV_OPEN_SOCKET_FAIL "the interface
        # eth0 is not running"); the servers start then, and the monitor's `cont` runs the guest.
        q = subprocess.Popen(nsx + qemu + ["-S", "-monitor", "stdio"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        procs.append(q)
        for _ in range(100):
            if "LOWER_UP" in sh("ip", "-n", ns, "link", "show", tap).stdout or q.poll() is not None:
                break
            time.sleep(0.1)
        leases, slog, tlog = (os.path.join(tmp, f) for f in ("leases", "server.log", "tftp.log"))
        open(leases, "w").close()
        if kind == "isc":
            argv = nsx + ["dhcpd", "-4", "-f", "-d", "-cf", conf, "-lf", leases, "-pf", os.path.join(tmp, "dpid"), tap]
        elif kind == "kea":
            try:  # a memfile lease file (default /var/lib/kea/kea-leases4.csv) moves into the temp dir
                doc = json.load(open(conf))
                db = doc["Dhcp4"].get("lease-database", {})
                if db.get("type") == "memfile":  # no name: /var/lib/kea/kea-leases4.csv
                    db["name"] = leases
                    conf = os.path.join(tmp, "kea-dhcp4.json")
                    json.dump(doc, open(conf, "w"), indent=1)
            except (ValueError, KeyError, AttributeError):
                pass  # not plain JSON (Kea takes comments): served as it is
            argv = nsx + ["env", "KEA_PIDFILE_DIR=" + tmp, "KEA_LOCKFILE_DIR=" + tmp, "kea-dhcp4", "-c", conf]
        else:
            text = open(conf).read()
            kept = re.sub(r"(?m)^\s*(enable-tftp|tftp-[\w-]+)\b.*$", "", text)
            conf = os.path.join(tmp, "dnsmasq.conf")
            open(conf, "w").write(kept)
            argv = nsx + ["dnsmasq", "-k", "-C", conf, "--port=0", "--dhcp-leasefile=" + leases,
                          "--pid-file=", "--log-dhcp", "--log-facility=-"]
        procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(slog, "w"),
                                      stderr=subprocess.STDOUT, env=env))
        # TFTP only: no dhcp-range, so no DHCP; --port=0: no DNS.
        procs.append(subprocess.Popen(nsx + ["dnsmasq", "-k", "--conf-file=/dev/null", "--port=0",
                                             "--enable-tftp", "--tftp-root=" + root, "--interface=" + tap,
                                             "--bind-interfaces", "--pid-file=", "--log-facility=-"],
                                      stdin=subprocess.DEVNULL, stdout=open(tlog, "w"),
                                      stderr=subprocess.STDOUT, env=env))
        time.sleep(1)
        for p in procs:
            if p.poll() is not None:
                print("server exited at start:\n" + open(slog).read()[-2000:] + open(tlog).read()[-1000:])
                return 2

        t0 = time.time()
        q.stdin.write(b"cont\n")
        q.stdin.flush()
        why, nreq, last_new = "timeout", 0, time.time()

        def read(f):
            return open(f, errors="replace").read().replace("\r", "") if os.path.exists(f) else ""
        while time.time() - t0 < a.timeout:
            if q.poll() is not None:
                why = "guest powered off / qemu exited (rc %d)" % q.returncode; break
            ser = read(serial)
            if "XENFAB-PROBE-CMDLINE:" in ser:
                time.sleep(0.5); why = "probe printed its cmdline"; break
            if re.search(r"(?m)^grub> ", ser):  # GRUB found no config: its rescue/normal prompt
                time.sleep(1); why = "GRUB stopped at its prompt (no config file found)"; break
            if "Start PXE over IPv6" in ser:  # OVMF gave up the IPv4 PXE boot (the only one served)
                why = "OVMF's IPv4 PXE boot failed, it went on to IPv6"; break
            if time.time() - t0 > 90 and not any(x["type"] in ("OFFER", "ACK") for x in dhcp_log(pcap)):
                why = "no DHCP answer in 90 s"; break
            log = tftp_log(pcap)
            if len(log) != nreq:
                nreq, last_new = len(log), time.time()
            if log and time.time() - last_new > a.quiet:
                why = "no cmdline %ds after the last TFTP request" % a.quiet; break
            if not a.kernel and any(st == "ok" and cfg_name(f) for f, st in log) and time.time() - last_new > 5:
                why = "config read, no TFTP activity for 5 s"; break
            time.sleep(0.5)
        if q.poll() is None:
            q.kill()
        qout = q.communicate()[0].decode(errors="replace")
        log, dhcp = tftp_log(pcap), dhcp_log(pcap)
        ser = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", read(serial))
        m = re.search(r"XENFAB-PROBE-CMDLINE: (.*)", ser)
        answers = [x for x in dhcp if x["type"] in ("OFFER", "ACK")]
        last = answers[-1] if answers else {}
        res = {"seconds": round(time.time() - t0, 1), "stopped": why, "firmware": a.firmware,
               "dhcp": dhcp, "bootfile": last.get("opt67") or last.get("file") or None,
               "client_arch": next((x["op93"] for x in dhcp if "op93" in x), None),
               "tftp": log, "configs": [f for f, st in log if st == "ok" and cfg_name(f)],
               "cmdline": m.group(1) if m else None, "serial_tail": ser[-3000:], "qemu": qout[-2000:],
               "server_log": read(slog)[-3000:], "tftp_server_log": read(tlog)[-2000:]}
        fails = []
        if a.kernel and res["cmdline"] is None:
            fails.append("the probe kernel printed no cmdline (%s)" % why)
        if not a.kernel and not res["configs"]:
            fails.append("no config file was read over TFTP")
        if a.expect_bootfile and res["bootfile"] != a.expect_bootfile:
            fails.append("DHCP boot file %r != expected %r" % (res["bootfile"], a.expect_bootfile))
        if a.expect_config and [a.expect_config.lstrip("/"), "ok"] not in [[f.lstrip("/"), s] for f, s in log]:
            fails.append("%s was not read over TFTP" % a.expect_config)
        if a.expect_cmdline and not re.search(a.expect_cmdline, res["cmdline"] or ""):
            fails.append("cmdline %r does not match %r" % (res["cmdline"], a.expect_cmdline))
        res["failures"] = fails
        if a.json:
            with open(a.json, "w") as fh:
                json.dump(res, fh, indent=1)
        print("%.1fs (%s), stopped: %s" % (res["seconds"], a.firmware, why))
        for x in dhcp:
            print("  dhcp %-8s %s" % (x["type"], " ".join("%s=%s" % (k, x[k]) for k in
                                                       ("op93", "yiaddr", "siaddr", "file", "opt67") if x.get(k))))
        for i, (f, st) in enumerate(log):  # collapse retries of the same request
            if i == 0 or [f, st] != log[i - 1]:
                n = next((j for j in range(i, len(log)) if log[j] != [f, st]), len(log)) - i
                print("  tftp %-45s %s%s" % (f, st, " (x%d)" % n if n > 1 else ""))
        print("configs: %s\ncmdline: %s" % (res["configs"], res["cmdline"]))
        if fails:
            print("FAIL: " + "; ".join(fails))
            print("--- serial tail ---\n" + ser[-1500:] + ("\n--- qemu ---\n" + qout if qout.strip() else ""))
            print("--- dhcp server log ---\n" + res["server_log"][-1500:])
            return 1
        print("OK")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("XENFAB_KEEP_TMP") == "1":
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def cfg_name(f):
    """A boot loader config file: GRUB's grub.cfg* (any directory) or pxelinux.cfg/*."""
    return bool(re.search(r"(^|/)grub\.cfg($|-)", f) or re.match(r"/?pxelinux\.cfg/", f))


if __name__ == "__main__":
    sys.exit(main())
