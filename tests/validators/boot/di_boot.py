#!/usr/bin/env python3
"""di_boot.py OUT --mac MAC --fqdn FQDN --http-port P --syslog-port S [options] -- PXE-boot the
real Debian installer from a rendered xenfab tree and watch it read the host's preseed file.

OUT is a tree ``xenfab render`` wrote for a fabric whose ``install.kickstart_url`` is
``http://10.0.2.2:<P>/ks`` (10.0.2.2 is the host as QEMU's user network sees it) and whose
Debian boot image appends ``log_host=10.0.2.2 log_port=<S>`` (the installer's syslog, sent to
this script over UDP: installation guide 5.3.2, "log_host", "log_port").

* TFTP (QEMU's slirp, ``bootfile=pxelinux.0``): a copy of OUT/tftpboot with the Debian
  installer's own pxelinux.0 and ldlinux.c32 beside it and its netboot ``linux`` and
  ``initrd.gz`` at the paths the boot image names (``debian-installer-12-netboot-amd64``:
  /usr/lib/debian-installer/images/12/amd64/text/).
* HTTP on 127.0.0.1:P: ``/ks/preseed/<fqdn>.cfg`` is OUT/preseed/<fqdn>.cfg, every request
  logged; ``/ack/<fqdn>`` is answered 200.
* QEMU (TCG, ``-m 1024``, an e1000 NIC with MAC, an empty virtio disk of --disk-gib) PXE-boots;
  the installer's serial console and its syslog are recorded.

It stops at the first of: --until REGEX matched in the syslog after the preseed file was
loaded (default: choose-mirror has taken the preseeded mirror and suite, the first step
that needs the network's mirror), an error the installer reports (``Failed to process the preconfiguration file``, ``Failed to retrieve
the preconfiguration file``, a ``preseed/command_failed``), or --timeout.
Writes a JSON report (--json) with the HTTP log, the syslog lines, the serial tail and
timings. Exit 0 when the preseed file was fetched, loaded, and --until matched; 1 otherwise;
2 on setup errors.
"""
import argparse, http.server, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time

DI = os.environ.get("XENFAB_DI_IMAGES", "/usr/lib/debian-installer/images/12/amd64/text")
FAILURES = re.compile(
    r"Failed to (?:process|retrieve) the preconfiguration file|Error parsing preconfiguration file"
    r"|command_failed|autopartitioning_failed|unusable_recipe|no_such_pv|no_pv_in_vg|vg_create_error"
)


def serve(root, port, log):
    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=root, **k)

        def translate_path(self, path):
            # /ks/preseed/<fqdn>.cfg -> OUT/preseed/<fqdn>.cfg; nothing else of the tree.
            p = path.split("?", 1)[0]
            m = re.fullmatch(r"/ks/preseed/([A-Za-z0-9.-]+\.cfg)", p)
            return os.path.join(root, "preseed", m.group(1)) if m else os.path.join(root, ".none")

        def do_GET(self):
            if self.path.startswith("/ack/"):
                self.send_response(200); self.end_headers(); self.wfile.write(b"ok\n")
                log.append([round(time.time(), 1), self.command, self.path, 200])
                return
            super().do_GET()

        do_POST = do_GET

        def log_request(self, code="-", size="-"):
            log.append([round(time.time(), 1), self.command, self.path, int(code) if str(code).isdigit() else code])

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("out"); ap.add_argument("--mac", required=True); ap.add_argument("--fqdn", required=True)
    ap.add_argument("--preseed", help="the preseed file the host's entry names (default: FQDN.cfg; "
                    "FQDN.reinstall.cfg for a reinstall entry)")
    ap.add_argument("--http-port", type=int, required=True); ap.add_argument("--syslog-port", type=int, required=True)
    ap.add_argument("--kernel", default="debian-installer/amd64/linux")
    ap.add_argument("--initrd", default="debian-installer/amd64/initrd.gz")
    ap.add_argument("--until", default=r"choose-mirror\[\d+\]: INFO: suite/codename set to")
    ap.add_argument("--until-count", type=int, default=1)
    ap.add_argument("--disk-gib", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=900); ap.add_argument("--json")
    a = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    for f in (os.path.join(DI, "pxelinux.0"), os.path.join(DI, "ldlinux.c32"),
              os.path.join(DI, "debian-installer/amd64/linux"), os.path.join(DI, "debian-installer/amd64/initrd.gz")):
        if not os.path.exists(f):
            print("missing %s: apt-get install debian-installer-12-netboot-amd64 (scripts/install-validators)" % f)
            return 2
    if not qemu:
        print("need qemu-system-x86_64 (scripts/install-validators)"); return 2
    tmp = tempfile.mkdtemp(prefix="di_boot.")
    http_log, syslog, t0 = [], [], time.time()
    q = None
    try:
        root = os.path.join(tmp, "tftp")
        shutil.copytree(os.path.join(a.out, "tftpboot"), root, symlinks=False)
        for f in ("pxelinux.0", "ldlinux.c32"):
            shutil.copy(os.path.join(DI, f), root)
        for rel, src in ((a.kernel, "debian-installer/amd64/linux"), (a.initrd, "debian-installer/amd64/initrd.gz")):
            dst = os.path.join(root, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(os.path.join(DI, src), dst)
        srv = serve(a.out, a.http_port, http_log)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", a.syslog_port)); udp.settimeout(0.5)
        disk = os.path.join(tmp, "vda.img")  # sparse: only what the installer writes takes room
        with open(disk, "wb") as fh:
            fh.truncate(a.disk_gib << 30)
        serial = os.path.join(tmp, "serial.log")
        cmd = ["nice", "-n", "10", qemu, "-accel", "tcg", "-display", "none", "-monitor", "none", "-no-reboot",
               "-m", "1024", "-serial", "file:" + serial, "-boot", "n",
               "-netdev", "user,id=n0,tftp=%s,bootfile=pxelinux.0" % root,
               "-device", "e1000,netdev=n0,mac=" + a.mac,
               "-drive", "file=%s,if=virtio,format=raw" % disk]
        q = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        why, until = "timeout", re.compile(a.until)
        matched, seen_load = 0, None
        while time.time() - t0 < a.timeout:
            if q.poll() is not None:
                why = "qemu exited (rc %d)" % q.returncode; break
            try:
                data, _ = udp.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace").strip()
            syslog.append([round(time.time() - t0, 1), text])
            if "successfully loaded preseed file" in text and seen_load is None:
                seen_load = round(time.time() - t0, 1)
            if FAILURES.search(text):
                why = "installer error: " + text; break
            if seen_load is not None and until.search(text):
                matched += 1
                if matched >= a.until_count:
                    why = "matched --until: " + text; break
        ser = open(serial, errors="replace").read() if os.path.exists(serial) else ""
        srv.shutdown()
        preseed = a.preseed or "%s.cfg" % a.fqdn
        fetched = [r for r in http_log if r[2] == "/ks/preseed/" + preseed]
        res = {"seconds": round(time.time() - t0, 1), "stopped": why, "http": http_log,
               "preseed_fetched": bool(fetched) and fetched[0][3] == 200, "preseed_loaded_at": seen_load,
               "syslog": [l for _, l in syslog], "serial_tail": re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", ser)[-4000:]}
        fails = []
        if not res["preseed_fetched"]:
            fails.append("the installer did not fetch /ks/preseed/" + preseed)
        if seen_load is None:
            fails.append("no 'successfully loaded preseed file' in the installer's syslog")
        if not why.startswith("matched"):
            fails.append("stopped: " + why)
        res["failures"] = fails
        if a.json:
            with open(a.json, "w") as fh:
                json.dump(res, fh, indent=1)
        print("%.1fs, stopped: %s" % (res["seconds"], why))
        for r in http_log:
            print("  http %s %s %s" % (r[1], r[2], r[3]))
        if fails:
            print("FAIL: " + "; ".join(fails))
            print("--- syslog tail ---\n" + "\n".join(l for _, l in syslog[-40:]))
            print("--- serial tail ---\n" + res["serial_tail"][-1500:])
            return 1
        print("OK")
        return 0
    finally:
        if q is not None and q.poll() is None:
            q.kill(); q.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
