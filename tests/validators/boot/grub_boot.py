#!/usr/bin/env python3
"""grub_boot.py grub2|legacy CFG --probe PATH [--file PATH ...] [options]
Really boot a generated GRUB config (GRUB2 grub.cfg or legacy menu.lst) in QEMU.

Builds a 64 MiB disk: MBR, partition 1 = ext2 holding CFG (/boot/grub/grub.cfg or
/boot/grub/menu.lst), a gzip'd *probe* multiboot kernel at --probe (e.g. /xen.gz-...)
and dummy files at each --file (content "DUMMY:<path>"). GRUB2 (Debian grub-pc-bin,
i386-pc core.img started via lnxboot with -kernel, prefix (hd0,msdos1)/boot/grub) or
GRUB 0.97 (Debian grub-legacy, installed into the image's MBR with the grub shell)
then runs the entry the config selects, loads the probe through multiboot/multiboot2
and the modules; the probe prints what it received on COM1 and exits QEMU:
  proto 1|2, cmdline (what Xen would see), loader, modules [{cmdline, head, size}]
Paths are relative to that partition (as with a separate /boot). With --label gpt --part N
the disk is GPT instead, the file system on partition N (N-1 small partitions before it). For legacy GRUB,
if CFG has no `serial` line, "serial --unit=0 --speed=115200 / terminal serial" is
prepended so errors are visible. QEMU has two serial ports, COM1 and COM2, each logged:
GRUB writes where the config's `serial --unit=N` says (the JSON's "ports": the text each port
got), the probe always on COM1. options: --expect-cmdline RE, --expect-modules N,
--timeout S (default 60), --json FILE. ~6-10 s (most of it the config's own timeout).
Exit 0: probe ran and expectations met; 1: not (serial tail printed); 2: setup.

A copy of the xenfab test oracle, changed only in its docs and install hint. The probe is
built from mbprobe.c/mbprobe.ld into build/mbprobe.elf (git-ignored) by
scripts/install-validators, or here on first use (gcc -m32, freestanding: no multilib needed).
test_grub_boot.py runs it on every GRUB artefact of the golden corpus.
"""
import argparse, gzip, json, os, re, shutil, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
G2MODS = "/usr/lib/grub/i386-pc"
G1STAGES = "/usr/lib/grub/x86_64-pc"


def probe_elf():
    out = os.path.join(BUILD, "mbprobe.elf")
    src = os.path.join(HERE, "mbprobe.c")
    if not os.path.exists(out) or os.path.getmtime(src) > os.path.getmtime(out):
        os.makedirs(BUILD, exist_ok=True)
        subprocess.run(["gcc", "-m32", "-O2", "-ffreestanding", "-fno-pic", "-fno-pie",
                        "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib",
                        "-static", "-no-pie", "-Wl,-T," + os.path.join(HERE, "mbprobe.ld"),
                        "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments", "-o", out, src], check=True)
    return out


def make_disk(img, root, label="msdos", part=1):
    """The disk: msdos, the file system on partition 1 (the seed's /boot); or gpt, PART-1
    partitions of 1 MiB (a BIOS boot partition, an ESP: what xenfab puts first) and the file
    system on partition PART, written by util-linux's sfdisk."""
    start, size = 2048, 63 * 2048
    with open(img, "wb") as f:
        f.truncate(64 << 20)
        if label == "msdos":
            f.seek(446)
            f.write(bytes([0x80, 0xfe, 0xff, 0xff, 0x83, 0xfe, 0xff, 0xff]) + struct.pack("<II", 2048, 63 * 2048))
            f.seek(510)
            f.write(b"\x55\xaa")
    if label == "gpt":
        start = 2048 * part
        size = (64 << 11) - start - 2048  # room for the backup GPT at the end
        script = "label: gpt\n" + "".join(
            "start=%d, size=2048, type=21686148-6449-6E6F-744E-656564454649\n" % (2048 * n) for n in range(1, part)
        ) + "start=%d, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n" % (start, size)
        subprocess.run(["sfdisk", "-q", img], input=script, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-I", "128", "-O", "^dir_index,^resize_inode,^ext_attr",
                    "-d", root, "-E", "offset=%d" % (start * 512), img, "%dk" % (size // 2)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("kind", choices=["grub2", "legacy"]); ap.add_argument("cfg")
    ap.add_argument("--probe", required=True); ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--expect-cmdline"); ap.add_argument("--expect-modules", type=int)
    ap.add_argument("--timeout", type=float, default=60); ap.add_argument("--json")
    ap.add_argument("--label", choices=["msdos", "gpt"], default="msdos")
    ap.add_argument("--part", type=int, default=1)
    a = ap.parse_args()
    need = ["qemu-system-x86_64", "mke2fs", "gcc"] + (["grub-mkimage"] if a.kind == "grub2" else ["grub"])
    missing = [c for c in need if not shutil.which(c)]
    if missing or not os.path.isdir(G2MODS if a.kind == "grub2" else G1STAGES):
        print("missing %s / GRUB files: run scripts/install-validators" % missing); return 2
    tmp = tempfile.mkdtemp(prefix="grub_boot.")
    try:
        root, img = os.path.join(tmp, "root"), os.path.join(tmp, "disk.img")
        os.makedirs(os.path.join(root, "boot", "grub"))
        cfg = open(a.cfg).read()
        injected = False
        if a.kind == "grub2":
            shutil.copytree(G2MODS, os.path.join(root, "boot", "grub", "i386-pc"))
            open(os.path.join(root, "boot", "grub", "grub.cfg"), "w").write(cfg)
        else:
            for s in ("stage1", "stage2", "e2fs_stage1_5"):
                shutil.copy(os.path.join(G1STAGES, s), os.path.join(root, "boot", "grub"))
            if not re.search(r"^\s*serial\b", cfg, re.M):
                cfg, injected = "serial --unit=0 --speed=115200\nterminal serial\n" + cfg, True
            open(os.path.join(root, "boot", "grub", "menu.lst"), "w").write(cfg)
        for rel, data in [(a.probe, gzip.compress(open(probe_elf(), "rb").read()))] + \
                         [(f, ("DUMMY:%s\n" % f).encode()) for f in a.file]:
            dst = os.path.join(root, rel.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "wb").write(data)
        make_disk(img, root, a.label, a.part)
        qemu = ["qemu-system-x86_64", "-accel", "tcg", "-display", "none", "-monitor", "none",
                "-no-reboot", "-m", "256", "-serial", "file:" + os.path.join(tmp, "serial.log"),
                "-serial", "file:" + os.path.join(tmp, "com2.log"),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-drive", "file=%s,format=raw,if=ide" % img]
        if a.kind == "grub2":
            early = os.path.join(tmp, "early.cfg")
            open(early, "w").write("serial --unit=0 --speed=115200\nterminal_output serial console\n"
                                   "terminal_input serial console\n")
            core = os.path.join(tmp, "core.img")
            subprocess.run(["grub-mkimage", "-O", "i386-pc", "-o", core, "-p",
                            "(hd0,%s%d)/boot/grub" % (a.label, a.part),
                            "-c", early, "biosdisk", "part_msdos", "part_gpt", "ext2", "normal", "configfile",
                            "multiboot", "multiboot2", "gzio", "serial", "terminal", "echo", "test"], check=True)
            lnx = os.path.join(tmp, "grub.lnx")
            open(lnx, "wb").write(open(os.path.join(G2MODS, "lnxboot.img"), "rb").read() + open(core, "rb").read())
            qemu += ["-kernel", lnx]
        else:
            open(os.path.join(tmp, "map"), "w").write("(hd0) %s\n" % img)
            r = subprocess.run(["grub", "--batch", "--no-floppy", "--device-map=" + os.path.join(tmp, "map")],
                               input="root (hd0,0)\nsetup (hd0)\nquit\n", capture_output=True, text=True)
            if "Done." not in r.stdout:
                print("grub legacy setup failed:\n" + r.stdout[-1500:]); return 2
            qemu += ["-boot", "c"]
        t0 = time.time()
        q = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ser, why, err_at = "", "timeout", None

        def port_logs():
            return [open(os.path.join(tmp, f), errors="replace").read() if os.path.exists(
                os.path.join(tmp, f)) else "" for f in ("serial.log", "com2.log")]
        while time.time() - t0 < a.timeout:
            time.sleep(0.3)
            ser = "\n".join(port_logs())
            if q.poll() is not None:
                why = "qemu exited"; break
            if err_at is None and re.search(r"\berror: |Error \d+: ", ser):
                err_at = time.time()
            if err_at and time.time() - err_at > 2:
                why = "GRUB reported an error"; break
        if q.poll() is None:
            q.kill()
        q.communicate()
        ports = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", p.replace("\r", "")) for p in port_logs()]
        clean = ports[0]

        def one(k):
            m = re.search(r"XENFAB-MB-%s: (.*)" % k, clean)
            return m.group(1) if m else None
        mods = [dict(zip(("size", "head", "cmdline"), m)) for m in
                re.findall(r"XENFAB-MB-MODULE: size=(\d+) head=(.*?) cmdline=(.*)", clean)]
        res = {"seconds": round(time.time() - t0, 1), "stopped": why, "proto": one("PROTO"),
               "cmdline": one("CMDLINE"), "loader": one("LOADER"), "modules": mods,
               "serial_injected": injected, "ports": [p[-4000:] for p in ports],
               "grub_errors": [e for p in ports for e in re.findall(r"(?:error: |Error \d+: ).*", p)]}
        fails = []
        if "XENFAB-MB-END" not in clean:
            fails.append("probe kernel did not run (%s)" % why)
        if a.expect_cmdline and not re.search(a.expect_cmdline, res["cmdline"] or ""):
            fails.append("cmdline %r does not match %r" % (res["cmdline"], a.expect_cmdline))
        if a.expect_modules is not None and len(mods) != a.expect_modules:
            fails.append("%d modules, expected %d" % (len(mods), a.expect_modules))
        res["failures"] = fails
        if a.json:
            json.dump(res, open(a.json, "w"), indent=1)
        print(json.dumps({k: v for k, v in res.items() if k != "failures"}, indent=1))
        if fails:
            print("FAIL: " + "; ".join(fails) + "\n--- serial tail ---\n" + clean[-1500:])
            return 1
        print("OK")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
