#!/usr/bin/env python3
"""grub_efi_boot.py CFG --probe PATH [--file PATH ...] [options] -- really boot a dom0's
GRUB2 config through real GRUB EFI under real UEFI firmware (OVMF) in QEMU.

Builds a 128 MiB GPT disk (sfdisk on a file): partition 1 the EFI system partition (FAT,
mkfs.vfat + mtools) holding EFI/BOOT/BOOTX64.EFI, the removable-media path OVMF boots
(UEFI 2.x section 3.5.1.1); partition --boot-part N (default 2) an ext2 /boot (mke2fs -d,
-E offset=) holding CFG as /grub/grub.cfg, the modules of grub-efi-amd64-bin in
/grub/x86_64-efi, a gzip'd probe multiboot kernel at --probe (e.g. /xen-4.17-amd64.gz) and
dummy files at each --file (content "DUMMY:<path>"); partitions between are 1 MiB and empty.
That is a dom0 with a separate /boot on GPT partition N. BOOTX64.EFI is GRUB 2.06 built with
grub-mkimage -O x86_64-efi from Debian's grub-efi-amd64-bin, prefix (hd0,gptN)/grub, with
serial on COM1. OVMF 2022.11 (Debian's ovmf, OVMF_CODE_4M.fd + a copy of OVMF_VARS_4M.fd, q35)
runs it; GRUB runs the entry the config selects, loads the probe with multiboot2 (or multiboot)
and the modules; the probe (mbprobe.c) prints what it got on COM1 and exits QEMU through
isa-debug-exit (an ISA device, on q35's LPC bridge too):
  proto 1|2, cmdline (what Xen would see), loader, modules [{cmdline, head, size}]
The probe's multiboot2 header has no EFI tags (no EFI boot services tag, no EFI amd64 entry),
so GRUB exits boot services and enters it in 32-bit protected mode, as a BIOS GRUB would
(GRUB 2.06 grub-core/loader/multiboot_mbi2.c: grub_multiboot2_load sets keep_bs only for
MULTIBOOT2_HEADER_TAG_EFI_BS and takes the EFI64 entry only with it; grub_multiboot2_make_mbi
calls grub_efi_finish_boot_services when !keep_bs; grub-core/loader/multiboot.c
grub_multiboot_boot then grub_relocator32_boot, or grub_relocator64_efi_boot with keep_bs).

options: --boot-part N (default 2)  --expect-cmdline RE  --expect-modules N
         --timeout S (default 120)  --json FILE
         --hypervisor XEN_GZ   the real hypervisor at --probe's path instead of the probe: Debian's
             xen-4.17-amd64.gz (build/xen-4.17-amd64.gz, extracted by install-validators). Its
             multiboot2 header has the EFI boot services and EFI64 entry tags, so GRUB keeps boot
             services and enters Xen's EFI entry (grub-core/loader/multiboot_mbi2.c; Xen
             xen/arch/x86/boot/head.S multiboot2_header, xen/arch/x86/efi/efi-boot.h
             efi_multiboot2). Xen prints on COM1 only when its command line says so
             (console=com1 com1=115200,8n1, xen-command-line(7)). The result's cmdline is then
             Xen's own "(XEN) Command line:" echo, "xen" says whether it booted through EFI
             (its "EFI RAM map") and got to building dom0 ("Building a PV Dom0" with loglvl=all,
             or the panic "Could not construct domain 0"; a dummy dom0 kernel ends there:
             "not an ELF binary", Xen panics and QEMU exits); --expect-modules is not checked.
Exit 0: probe (or Xen) ran and expectations met; 1: not (serial tail printed); 2: setup.
~4-8 s under 2-core TCG (OVMF's start most of it), ~12 s with Xen.
"""
import argparse, gzip, json, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from grub_boot import probe_elf  # noqa: E402

EFIMODS = "/usr/lib/grub/x86_64-efi"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"     # UEFI spec 5.3.3, EFI System Partition
LINUX_GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"   # Linux filesystem data
MIB = 1 << 20


def run(argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stdout[-1500:]))
    return r


def make_disk(tmp, img, root, efi, part):
    """GPT: 1 = ESP (32 MiB FAT) with EFI/BOOT/BOOTX64.EFI, 2..part-1 = 1 MiB empty, part = ext2 ROOT."""
    size = 128 * MIB
    with open(img, "wb") as f:
        f.truncate(size)
    lines = ["label: gpt", "start=2048, size=%d, type=%s" % (32 * MIB // 512, ESP_GUID)]
    start = 2048 + 32 * MIB // 512
    for _ in range(2, part):
        lines.append("start=%d, size=%d, type=%s" % (start, MIB // 512, LINUX_GUID))
        start += MIB // 512
    last = size // 512 - 34 - 2048  # the backup GPT at the end, 1 MiB aligned
    lines.append("start=%d, size=%d, type=%s" % (start, last - start, LINUX_GUID))
    run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img], input="\n".join(lines) + "\n")
    esp = os.path.join(tmp, "esp.img")
    run(["mkfs.vfat", "-C", esp, str(32 * 1024)])
    run(["mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"])
    run(["mcopy", "-i", esp, efi, "::/EFI/BOOT/BOOTX64.EFI"])
    with open(img, "r+b") as f, open(esp, "rb") as e:
        f.seek(MIB)
        f.write(e.read())
    run(["mke2fs", "-q", "-F", "-t", "ext2", "-d", root, "-E", "offset=%d" % (start * 512), img,
         "%dk" % ((last - start) // 2)])


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("cfg"); ap.add_argument("--probe", required=True)
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--boot-part", type=int, default=2); ap.add_argument("--hypervisor")
    ap.add_argument("--expect-cmdline"); ap.add_argument("--expect-modules", type=int)
    ap.add_argument("--timeout", type=float, default=120); ap.add_argument("--json")
    a = ap.parse_args()
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    need = ["qemu-system-x86_64", "mke2fs", "gcc", "grub-mkimage", "sfdisk", "mkfs.vfat", "mmd", "mcopy"]
    missing = [c for c in need if not shutil.which(c, path=path)]
    missing += [f for f in (OVMF_CODE, OVMF_VARS, EFIMODS + "/multiboot2.mod") if not os.path.exists(f)]
    if missing or a.boot_part < 2:
        print("missing %s: run scripts/install-validators (or --boot-part < 2)" % missing); return 2
    os.environ["PATH"] = path
    tmp = tempfile.mkdtemp(prefix="grub_efi_boot.")
    try:
        root, img = os.path.join(tmp, "boot"), os.path.join(tmp, "disk.img")
        os.makedirs(os.path.join(root, "grub"))
        shutil.copytree(EFIMODS, os.path.join(root, "grub", "x86_64-efi"),
                        ignore=shutil.ignore_patterns("*.efi", "*.img", "monolithic"))
        shutil.copy(a.cfg, os.path.join(root, "grub", "grub.cfg"))
        hv = open(a.hypervisor, "rb").read() if a.hypervisor else gzip.compress(open(probe_elf(), "rb").read())
        for rel, data in [(a.probe, hv)] + \
                         [(f, ("DUMMY:%s\n" % f).encode()) for f in a.file]:
            dst = os.path.join(root, rel.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "wb").write(data)
        early = os.path.join(tmp, "early.cfg")
        open(early, "w").write("serial --unit=0 --speed=115200\nterminal_output serial console\n"
                               "terminal_input serial console\n")
        efi = os.path.join(tmp, "BOOTX64.EFI")
        try:
            run(["grub-mkimage", "-O", "x86_64-efi", "-d", EFIMODS, "-o", efi, "-c", early,
                 "-p", "(hd0,gpt%d)/grub" % a.boot_part, "part_gpt", "fat", "ext2", "normal", "configfile",
                 "multiboot", "multiboot2", "gzio", "serial", "terminal", "echo", "test", "efi_gop"])
            make_disk(tmp, img, root, efi, a.boot_part)
        except RuntimeError as e:
            print("building the disk failed: %s" % e); return 2
        vars_ = os.path.join(tmp, "OVMF_VARS.fd")
        shutil.copy(OVMF_VARS, vars_)
        serial = os.path.join(tmp, "serial.log")
        qemu = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-display", "none",
                "-monitor", "none", "-no-reboot", "-m", "1024", "-cpu", "max", "-serial", "file:" + serial, "-net", "none",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,unit=1,file=" + vars_,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-drive", "file=%s,format=raw,if=none,id=d0" % img, "-device", "virtio-blk-pci,drive=d0,bootindex=1"]
        t0 = time.time()
        q = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ser, why, err_at = "", "timeout", None

        def read():
            return open(serial, errors="replace").read() if os.path.exists(serial) else ""
        while time.time() - t0 < a.timeout:
            time.sleep(0.3)
            ser = read()
            if q.poll() is not None:
                why = "qemu exited"; break
            if err_at is None and re.search(r"\berror: |^grub> ", ser, re.M):
                err_at = time.time()
            if err_at and time.time() - err_at > 2:
                why = "GRUB reported an error"; break
        if q.poll() is None:
            q.kill()
        qout = q.communicate()[0].decode(errors="replace")
        clean = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", read().replace("\r", ""))

        def one(k):
            m = re.search(r"XENFAB-MB-%s: (.*)" % k, clean)
            return m.group(1) if m else None
        xen = None
        if a.hypervisor:
            m = re.search(r"\(XEN\) Command line: (.*)", clean)
            b = re.search(r"\(XEN\) Bootloader: (.*)", clean)
            xen = {"cmdline": m.group(1) if m else None, "bootloader": b.group(1) if b else None,
                   "efi": "EFI RAM map:" in clean, "building_dom0": "Building a PV Dom0" in clean or "Could not construct domain 0" in clean,
                   "panic": re.findall(r"\(XEN\) Panic on CPU \d+:\n\(XEN\) (.*)", clean)}
        mods = [dict(zip(("size", "head", "cmdline"), m)) for m in
                re.findall(r"XENFAB-MB-MODULE: size=(\d+) head=(.*?) cmdline=(.*)", clean)]
        res = {"seconds": round(time.time() - t0, 1), "stopped": why, "proto": one("PROTO"),
               "cmdline": xen["cmdline"] if xen else one("CMDLINE"), "loader": one("LOADER"), "modules": mods,
               "xen": xen,
               "boot_part": a.boot_part, "serial_tail": clean[-4000:], "qemu": qout[-1500:],
               "grub_errors": re.findall(r"error: .*", clean)}
        fails = []
        if xen is not None:
            if xen["cmdline"] is None:
                fails.append("Xen printed no command line on COM1 (%s; console=com1?)" % why)
        elif "XENFAB-MB-END" not in clean:
            fails.append("probe kernel did not run (%s)" % why)
        if a.expect_cmdline and not re.search(a.expect_cmdline, res["cmdline"] or ""):
            fails.append("cmdline %r does not match %r" % (res["cmdline"], a.expect_cmdline))
        if a.expect_modules is not None and xen is None and len(mods) != a.expect_modules:
            fails.append("%d modules, expected %d" % (len(mods), a.expect_modules))
        res["failures"] = fails
        if a.json:
            json.dump(res, open(a.json, "w"), indent=1)
        print(json.dumps({k: v for k, v in res.items() if k not in ("failures", "serial_tail")}, indent=1))
        if fails:
            print("FAIL: " + "; ".join(fails) + "\n--- serial tail ---\n" + clean[-1500:])
            return 1
        print("OK")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
