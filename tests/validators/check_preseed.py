#!/usr/bin/env python3
"""check_preseed.py FILE -- a preseed file as both of its readers take it.

1. debconf's own reader: ``debconf-set-selections --checkonly -v FILE`` must exit 0 and warn
   of nothing (an unknown type, a line it cannot parse); ``-v`` prints each (question, type,
   value) it read.
2. The Debian installer's reader: ``/bin/debconf-set-selections`` of the bookworm netboot
   initrd (debian-installer-12-netboot-amd64; scripts/install-validators extracts it to
   tests/validators/boot/build/di-debconf-set-selections), run by busybox sh with its two
   sourced files replaced by stubs that record each ``db_set``: the same questions and values
   as debconf's reader, line for line.
3. partman-auto's own recipe parser: ``decode_recipe`` of partman-auto 162's
   ``lib/partman/lib/recipes.sh`` (the udeb, extracted by scripts/install-validators to
   tests/validators/boot/build/partman-auto/), run by busybox sh on the expert recipe as
   partman-auto-lvm and partman-auto-raid decode it (``lvm``, and for RAID also ``raid``, which
   drops the ``$lvmignore{ }`` and ``$defaultignore{ }`` lines), or partman-auto's regular
   method (``default``, autopartition's): each line it keeps has the
   sizes the file wrote (a size it cannot read becomes 2200000000), every ``$lvmok{ }`` line
   names its volume (``lv_name``) and group (``in_vg``), and every group a volume is in is
   made: by a physical volume line's ``vg_name`` (method lvm) or ``partman-auto-lvm/new_vg_name``
   (method raid). partman-auto-raid's recipe (``<level> <devices> <spares> <fs> <mount>
   <dev>#<dev> .``, example-preseed.txt) has as many devices as it says. For the ``lvm``
   method, partman-auto-lvm 91's own ``auto_lvm_create_vg_map`` (taken from its
   ``lib/partman/lib/auto-lvm.sh``, extracted to tests/validators/boot/build/partman-auto-lvm/)
   maps the physical volume lines to the partitions partman-auto makes (the ``device{ }`` each
   names) and the groups to make: each group must get exactly its own partitions, none twice,
   and no partition may fall into the default group.
4. partman-auto-raid's own ``bin/auto-raidcfg`` (trixie's partman-auto-raid 55, extracted to
   tests/validators/boot/build/partman-auto-raid/: bookworm's udeb is not on this machine's
   mirror) on ``partman-auto-raid/recipe``, as display.d/50initial_auto_raid runs it, with
   mdadm and the debconf calls stubbed: it must ask nothing, run one ``mdadm --create
   /dev/mdN --auto=yes --force -R -l raid<level> -n <n> -x 0 <members>`` a recipe line, and
   each array's members must be one partition number the expert recipe makes, on every disk
   of ``partman-auto/disk``, every member partition in one array.
5. The late command, run as the installer runs it (``preseed_command``: ``sh -c "<value>"``,
   here busybox sh) with ``/target`` and ``/sys/class/block`` moved into a scratch folder and
   ``in-target`` (which runs a command in /target's chroot) replaced by a stub that runs
   ``sh -c`` commands there with ``pvmove``/``vgreduce``/``vgcreate`` stubs and records the
   rest: it must succeed, write each of the dom0's files byte for byte as the rendered tree
   has them (when FILE is in a rendered tree: ``<tree>/dom0s/<fqdn>/``), move the guests'
   arrays (the ones auto-raidcfg made of the member partitions the command names, as sysfs'
   ``holders`` shows them) out of partman's group into their own, and run ``update-grub``
   last but the ack.
6. What xenfab's preseed files must hold for an install without a question: ``#_preseed_V1``
   first, ``partman-auto/method`` and ``partman-auto/expert_recipe`` (a recipe whose every
   line ends with ``.``), ``partman/confirm``, ``passwd/root-password-crypted``,
   ``preseed/late_command``, and each question only once.

Exit 0: accepted; 1: refused (the reasons on stdout); 2: a reader is missing.
"""
import os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DI_DSS = os.environ.get("XENFAB_DI_DSS", os.path.join(HERE, "boot", "build", "di-debconf-set-selections"))
PARTMAN_AUTO_LVM = os.environ.get("XENFAB_PARTMAN_AUTO_LVM", os.path.join(HERE, "boot", "build", "partman-auto-lvm"))
PARTMAN_AUTO = os.environ.get("XENFAB_PARTMAN_AUTO", os.path.join(HERE, "boot", "build", "partman-auto"))
PARTMAN_AUTO_RAID = os.environ.get("XENFAB_PARTMAN_AUTO_RAID", os.path.join(HERE, "boot", "build", "partman-auto-raid"))
BUSYBOX = os.environ.get("XENFAB_PROBE_BUSYBOX", "/bin/busybox")

STUB_CONFMODULE = r'''
db_set () { printf '%s\t%s\n' "$1" "$2" >> "$XENFAB_OUT"; return 0; }
db_register () { return 0; }
db_subst () { return 0; }
db_fset () { return 0; }
'''
STUB_PRESEED = r'''
logfile="$XENFAB_LOG"
log () { echo "$*" >> "$XENFAB_LOG"; }
'''
REQUIRED = ["partman-auto/method", "partman-auto/expert_recipe", "partman/confirm",
            "passwd/root-password-crypted", "preseed/late_command"]


def debconf_reader(path):
    p = subprocess.run(["debconf-set-selections", "--checkonly", "-v", path], capture_output=True, text=True)
    out = p.stdout + p.stderr
    got, problems = [], []
    for line in out.splitlines():
        m = re.match(r"info: Trying to set '([^']*)' \[([^\]]*)\] to '(.*)'$", line)
        if m:
            got.append((m.group(1), m.group(3)))
        elif line.strip() and not line.startswith("info: "):
            problems.append("debconf-set-selections: " + line)
    if p.returncode != 0:
        problems.append("debconf-set-selections --checkonly exited %d" % p.returncode)
    return got, problems


def installer_reader(path):
    tmp = tempfile.mkdtemp(prefix="check_preseed.")
    try:
        conf, pre = os.path.join(tmp, "confmodule"), os.path.join(tmp, "preseed.sh")
        open(conf, "w").write(STUB_CONFMODULE)
        open(pre, "w").write(STUB_PRESEED)
        script = open(DI_DSS).read()
        script = script.replace(". /usr/share/debconf/confmodule", ". " + conf).replace(". /lib/preseed/preseed.sh", ". " + pre)
        s = os.path.join(tmp, "dss")
        open(s, "w").write(script)
        out, log = os.path.join(tmp, "out"), os.path.join(tmp, "log")
        open(out, "w").close()
        p = subprocess.run([BUSYBOX, "sh", s, path], capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "XENFAB_OUT": out, "XENFAB_LOG": log})
        got = [tuple(l.split("\t", 1)) for l in open(out).read().splitlines()]
        problems = []
        if p.returncode != 0:
            problems.append("the installer's debconf-set-selections exited %d: %s %s" % (
                p.returncode, (p.stdout + p.stderr).strip(), open(log).read().strip() if os.path.exists(log) else ""))
        return got, problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


DECODE = r"""
NL="
"
db_get () { RET=""; }
db_metaget () { RET=""; return 1; }
convert_to_megabytes () { expr 0000000"$1" : '0*\(..*\)......$'; }
. "$RECIPES"
decode_recipe "$1" "$2"
printf '%s\n' "$scheme"
"""


VG_MAP = r"""
NL="
"
ORIGINAL_IFS="$IFS"
restore_ifs () { IFS="$ORIGINAL_IFS"; }
bail_out () { echo "BAIL $1"; exit 1; }
eval "$(sed -n '/^VG_MAP_DIR=/p; /^DEFAULT_VG=/p; /^auto_lvm_create_vg_map() {/,/^}/p' "$AUTO_LVM")"
VG_MAP_DIR="$XENFAB_MAP"
lvmscheme="$(printf '%s\n' "$XENFAB_SCHEME" | grep lvmok)"
normalscheme="$(printf '%s\n' "$XENFAB_SCHEME" | grep -v lvmok)"
pvscheme="$(echo "$normalscheme" | grep "method{ lvm }")"
main_pv="$XENFAB_MAIN"
pv_devices="$XENFAB_PVS"
auto_lvm_create_vg_map
for f in "$VG_MAP_DIR"/*; do echo "VG $(basename "$f") $(cat "$f" | tr '\n' ' ')"; done
"""


def vg_map_check(recipe, disks, label="msdos"):
    """partman-auto-lvm's auto_lvm_create_vg_map on the recipe's physical volume lines, with
    the partitions they name as the ones partman-auto made on a LABEL disk label."""
    problems = []
    auto_lvm = os.path.join(PARTMAN_AUTO_LVM, "lib", "partman", "lib", "auto-lvm.sh")
    body = recipe.partition(" :: ")[2]
    lines = [l.strip() + " ." for l in body.split(" .") if l.strip()]
    pvs = [l for l in lines if "method{ lvm }" in l]
    # The partitions partman-auto makes, on an msdos label: on each disk (a line's device{ }
    # without its partition number, else the first disk), the $primary{ } lines first, 1 to
    # 4, then the others as logical partitions from 5 (auto-shared.sh).
    # On a gpt label parted_server reports free space as `primary`, never `pri/log`, so
    # create_primary_partitions does nothing and create_partitions makes every line in recipe
    # order, numbered 1, 2, … on each disk (partman-auto 162, lib/auto-shared.sh).
    made, count = {}, {}
    parts = [l for l in lines if "$lvmok{" not in l]
    for primary in ((None,) if label == "gpt" else (True, False)):
        for l in parts:
            if primary is not None and ("$primary{" in l) != primary:
                continue
            dev = re.search(r"device\{ (\S+) \}", l)
            disk = re.sub(r"[0-9]+$", "", dev.group(1)) if dev else disks[0]
            n = count.get((disk, primary), 0) + 1
            count[(disk, primary)] = n
            made[l] = "%s%d" % (disk, n if primary is not False else n + 4)
    want = {}
    for l in pvs:
        vg = re.search(r"vg_name\{ (\S+) \}", l)
        if not vg:
            problems.append("a physical volume line without vg_name: %r" % l)
            continue
        want.setdefault(vg.group(1), []).append(made[l])
    if problems or not pvs:
        return problems
    tmp = tempfile.mkdtemp(prefix="check_vgmap.")
    try:
        p = subprocess.run([BUSYBOX, "sh", "-c", VG_MAP], capture_output=True, text=True, env={
            "PATH": "/usr/bin:/bin", "AUTO_LVM": auto_lvm, "XENFAB_MAP": os.path.join(tmp, "map"),
            "XENFAB_SCHEME": "\n".join(lines), "XENFAB_MAIN": disks[0],
            "XENFAB_PVS": " ".join(made[l] for l in parts if l in pvs)})
        got = {}
        for l in p.stdout.splitlines():
            if l.startswith("BAIL"):
                problems.append("auto_lvm_create_vg_map: %s" % l)
            elif l.startswith("VG "):
                _, vg, *devs = l.split()
                got[vg] = devs
        if p.returncode != 0 and not problems:
            problems.append("auto_lvm_create_vg_map failed: %s" % (p.stdout + p.stderr).strip()[:300])
        got = {k: sorted(v) for k, v in got.items()}
        want = {k: sorted(v) for k, v in want.items()}
        if not problems and got != want:
            problems.append("partman-auto-lvm maps the physical volumes to %r, not %r" % (got, want))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


def partman_check(q):
    """Problems of the recipes in Q (question -> value), by partman-auto's own decode_recipe."""
    problems = []
    method = q.get("partman-auto/method", "")
    recipe = q.get("partman-auto/expert_recipe", "")
    recipes_sh = os.path.join(PARTMAN_AUTO, "lib", "partman", "lib", "recipes.sh")
    tmp = tempfile.mkdtemp(prefix="check_partman.")
    try:
        rfile = os.path.join(tmp, "recipe")
        open(rfile, "w").write(recipe)
        body = recipe.partition(" :: ")[2]
        written = [l.strip() for l in body.split(" .") if l.strip()]

        def decode(ignore):
            p = subprocess.run([BUSYBOX, "sh", "-c", DECODE, "sh", rfile, ignore], capture_output=True, text=True,
                               env={"PATH": "/usr/bin:/bin", "RECIPES": recipes_sh})
            if p.returncode != 0:
                problems.append("decode_recipe %s failed: %s" % (ignore, p.stderr.strip()))
            return [l for l in p.stdout.splitlines() if l.strip()]

        # The type each method decodes with: partman-auto's regular method (autopartition's
        # choose_recipe default), partman-auto-lvm's lvm, partman-auto-raid's lvm and raid.
        kinds = ["default"] if method == "regular" else ["lvm"] + (["raid"] if method == "raid" else [])
        for ignore in kinds:
            kept = [w for w in written if "$%signore{" % ignore not in w]
            got = decode(ignore)
            if len(got) != len(kept):
                problems.append("decode_recipe %s kept %d lines, the file has %d such" % (ignore, len(got), len(kept)))
            for g, w in zip(got, kept):
                gs, ws = g.split(), w.split()
                if "2200000000" in gs[:3] or gs[0] != ws[0] or (ws[2] != "-1" and gs[2] != ws[2]):
                    problems.append("decode_recipe %s read %r for %r" % (ignore, " ".join(gs[:4]), " ".join(ws[:4])))
        lvmok = [w for w in written if "$lvmok{" in w]
        made = set(re.findall(r"vg_name\{ (\S+) \}", recipe))
        if method == "raid" and q.get("partman-auto-lvm/new_vg_name"):
            made.add(q["partman-auto-lvm/new_vg_name"])
        for w in lvmok:
            vg, lv = re.search(r"in_vg\{ (\S+) \}", w), re.search(r"lv_name\{ (\S+) \}", w)
            if not vg or not lv:
                problems.append("a $lvmok line without in_vg or lv_name: %r" % w)
            elif vg.group(1) not in made:
                problems.append("volume %s is in group %s, which nothing makes" % (lv.group(1), vg.group(1)))
        if method == "lvm" and not lvmok:
            problems.append("method lvm and no $lvmok line: partman-auto-lvm refuses the recipe (unusable_recipe)")
        if method == "lvm":
            problems += vg_map_check(recipe, q.get("partman-auto/disk", "").split() or ["/dev/sda"],
                                     q.get("partman-partitioning/default_label", "msdos"))
        if method == "raid":
            raid = q.get("partman-auto-raid/recipe", "")
            for r in [x.strip() for x in raid.split(" .") if x.strip()]:
                f = r.split()
                if len(f) != 6 or not f[0] in ("0", "1", "5", "6", "10") or int(f[1]) != len(f[5].split("#")) or f[2] != "0":
                    problems.append("partman-auto-raid recipe line %r is not <level> <n> 0 <fs> <mount> <dev>#…" % r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


# Where the late command writes each of dom0's files (render/preseed FILES), from the tree.
LATE_FILES = {
    "etc/default/grub.d/xen.cfg": "grub/xen.cfg",
    "etc/kernel-img.conf": "kernel-img.conf",
    "etc/network/interfaces": "network/interfaces",
    "etc/default/xendomains": "default/xendomains",
    "etc/xen/xl.conf": "xen/xl.conf",
}

IN_TARGET = r"""#!/bin/sh
# in-target stub: records its arguments; runs `sh -c SCRIPT …` with the LVM tools stubbed.
printf 'in-target' >> "$XENFAB_CALLS"
for a do printf ' [%s]' "$a" >> "$XENFAB_CALLS"; done
echo >> "$XENFAB_CALLS"
if [ "$1" = sh ] && [ "$2" = -c ]; then
    shift 2
    script=$(printf '%s' "$1" | sed "s#/sys/class/block#$XENFAB_SYS#g")
    shift
    exec "$XENFAB_BUSYBOX" sh -c "$script" "$@"
fi
"""
LVM_STUB = r"""#!/bin/sh
printf '%s' "$(basename "$0")" >> "$XENFAB_CALLS"
for a do printf ' %s' "$a" >> "$XENFAB_CALLS"; done
echo >> "$XENFAB_CALLS"
[ "$(basename "$0")" != pvmove ] || exit 5  # lvm2: "No data to move"
"""


# partman-auto-raid's bin/auto-raidcfg as the installer runs it (display.d/50initial_auto_raid,
# once partman-auto has written the member partitions): its debconf and installer helpers
# stubbed, /proc/mdstat a scratch file, and mdadm a stub that records its arguments and adds
# the array to that file (auto-raidcfg numbers each array after the last one there).
RAID_STUBS = {
    "confmodule": r"""
db_get () { RET=$(sed -n "s|^$1	||p" "$XENFAB_DB"); }
db_set () { printf '%s\t%s\n' "$1" "$2" >> "$XENFAB_DB"; }
db_input () { echo "QUESTION $2" >> "$XENFAB_CALLS"; return 0; }
db_go () { return 0; }
""",
    "log-output": '#!/bin/sh\nshift 2\nexec "$@"\n',
    "mdadm": r"""#!/bin/sh
printf 'mdadm' >> "$XENFAB_CALLS"; for a do printf ' %s' "$a" >> "$XENFAB_CALLS"; done; echo >> "$XENFAB_CALLS"
[ "$1" = --create ] || exit 1
echo "${2#/dev/} : active stub" >> "$XENFAB_MDSTAT"
""",
    "apt-install": "#!/bin/sh\nexit 0\n",
    "logger": "#!/bin/sh\nexit 0\n",
    "depmod": "#!/bin/sh\nexit 0\n",
    "modprobe": "#!/bin/sh\nexit 0\n",
}


def raid_check(q, disks):
    """partman-auto-raid's own auto-raidcfg on the file's partman-auto-raid/recipe: the arrays
    it creates (mdadm's arguments), checked against the member partitions the expert recipe
    makes. Returns (problems, {member partition: array}) for the late command's check."""
    problems, holders = [], {}
    cfg = os.path.join(PARTMAN_AUTO_RAID, "bin", "auto-raidcfg")
    raid = q.get("partman-auto-raid/recipe", "")
    lines = [x.strip() for x in raid.split(" .") if x.strip()]
    tmp = tempfile.mkdtemp(prefix="check_raid.")
    try:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        for name, text in RAID_STUBS.items():
            f = os.path.join(tmp if name == "confmodule" else bindir, name)
            open(f, "w").write(text)
            os.chmod(f, 0o755)
        for tool in ("sed", "grep", "sort", "tail", "wc", "cat", "mkdir", "echo"):
            os.symlink(BUSYBOX, os.path.join(bindir, tool))
        db, calls, mdstat = (os.path.join(tmp, n) for n in ("db", "calls", "mdstat"))
        open(db, "w").write("partman-auto-raid/recipe\t%s\n" % raid)
        open(calls, "w").close()
        open(mdstat, "w").write("Personalities : [raid1]\nunused devices: <none>\n")
        script = open(cfg).read().replace("/usr/share/debconf/confmodule", os.path.join(tmp, "confmodule"))
        script = script.replace("/proc/mdstat", "$XENFAB_MDSTAT").replace("mkdir -p /dev/md", ":")
        p = subprocess.run([BUSYBOX, "sh", "-c", script, "auto-raidcfg"], capture_output=True, text=True, env={
            "PATH": bindir, "XENFAB_DB": db, "XENFAB_CALLS": calls, "XENFAB_MDSTAT": mdstat})
        made = open(calls).read().splitlines()
        if p.returncode != 0:
            problems.append("partman-auto-raid's auto-raidcfg failed (exit %d): %s %s" % (
                p.returncode, (p.stdout + p.stderr).strip()[:300], made[-3:]))
        asked = [c for c in made if c.startswith("QUESTION")]
        if asked:
            problems.append("partman-auto-raid asks %s" % ", ".join(asked))
        creates = [c.split() for c in made if c.startswith("mdadm --create")]
        if len(creates) != len(lines):
            problems.append("partman-auto-raid created %d arrays for %d recipe lines: %r" % (len(creates), len(lines), made))
        # The member partitions partman-auto makes of the expert recipe's `method{ raid }` lines:
        # the same numbers on every disk ($primary{ } ones 1 to 4, then logical ones from 5).
        body = q.get("partman-auto/expert_recipe", "").partition(" :: ")[2]
        parts = [l for l in (x.strip() for x in body.split(" .")) if l and "$lvmok{" not in l]
        numbers = [i + 1 for i, l in enumerate(l for l in parts if "$primary{" in l)]
        numbers += [i + 5 for i, l in enumerate(l for l in parts if "$primary{" not in l)]
        members = {n for n in numbers}
        used = set()
        for line, argv in zip(lines, creates):
            level, count, _spares, fstype, mount, devs = (line.split() + [""] * 6)[:6]
            md = argv[2]
            want = ["--create", md, "--auto=yes", "--force", "-R", "-l", "raid" + level, "-n", count, "-x", "0"] + devs.split("#")
            if argv[1:] != want:
                problems.append("partman-auto-raid ran %r for %r, not %r" % (" ".join(argv), line, " ".join(want)))
            nums = set()
            for d in devs.split("#"):
                m = re.fullmatch(r"(/dev/[a-z]+)([0-9]+)", d)
                if not m or m.group(1) not in disks:
                    problems.append("array %s (%s %s) has member %s, not a partition of %s" % (md, fstype, mount, d, " ".join(disks)))
                    continue
                nums.add(int(m.group(2)))
                holders[d[len("/dev/"):]] = md[len("/dev/"):]
            if len(nums) != 1 or not nums <= members:
                problems.append("array %s (%s %s) is not one partition the recipe makes on every disk: %s" % (md, fstype, mount, devs))
            elif {d.rstrip("0123456789") for d in devs.split("#")} != set(disks):
                problems.append("array %s (%s %s) is not on every disk of partman-auto/disk: %s" % (md, fstype, mount, devs))
            used |= nums
        if not problems and used != members:
            problems.append("the recipe makes partitions %s, the arrays use %s" % (sorted(members), sorted(used)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems, holders


def late_command_check(path, q, holders):
    problems = []
    cmd = q.get("preseed/late_command", "")
    fqdn = os.path.basename(path)[: -len(".cfg")]
    tree = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    rendered = os.path.join(tree, "dom0s", fqdn)
    tmp = tempfile.mkdtemp(prefix="check_late.")
    try:
        target, sysdir, bindir = (os.path.join(tmp, d) for d in ("target", "sys", "bin"))
        for d in (target, sysdir, bindir):
            os.mkdir(d)
        calls = os.path.join(tmp, "calls")
        open(calls, "w").close()
        for name, text in (("in-target", IN_TARGET), ("pvmove", LVM_STUB), ("vgreduce", LVM_STUB),
                           ("vgcreate", LVM_STUB), ("wget", "#!/bin/sh\nexit 0\n")):
            f = os.path.join(bindir, name)
            open(f, "w").write(text)
            os.chmod(f, 0o755)
        for tool in ("base64", "mkdir", "dirname", "ls", "sed", "basename", "cat"):
            os.symlink(BUSYBOX, os.path.join(bindir, tool))
        # The arrays of the guests' groups: each member partition's holder, as sysfs shows it,
        # the array partman-auto-raid made of it (raid_check).
        for m in re.findall(r"' sh \S+ \S+((?: [a-z0-9]+)+);", cmd):
            for part in m.split():
                if part not in holders:
                    problems.append("the late command names %s, which is in no array partman-auto-raid makes" % part)
                    continue
                os.makedirs(os.path.join(sysdir, part, "holders", holders[part]))
        run = cmd.replace("/target", target)
        p = subprocess.run([BUSYBOX, "sh", "-c", run], capture_output=True, text=True,
                           env={"PATH": bindir, "XENFAB_CALLS": calls, "XENFAB_SYS": sysdir, "XENFAB_BUSYBOX": BUSYBOX})
        if p.returncode != 0:
            problems.append("the late command failed (exit %d): %s" % (p.returncode, (p.stdout + p.stderr).strip()[:500]))
        for dest, rel in LATE_FILES.items():
            got = os.path.join(target, dest)
            if not os.path.exists(got):
                problems.append("the late command wrote no /%s" % dest)
            elif os.path.isdir(rendered) and open(got, "rb").read() != open(os.path.join(rendered, rel), "rb").read():
                problems.append("/%s is not dom0s/%s/%s of the tree" % (dest, fqdn, rel))
        lines = open(calls).read().splitlines()
        if not lines or lines[-1] != "in-target [update-grub]":
            problems.append("update-grub in the installed system is not the late command's last call: %r" % lines[-3:])
        for vg, frm in re.findall(r"' sh (\S+) (\S+)(?: [a-z0-9]+)+;", cmd):
            mds = " ".join("/dev/" + holders.get(p, "?") for p in re.search(
                r"' sh %s %s((?: [a-z0-9]+)+);" % (re.escape(vg), re.escape(frm)), cmd).group(1).split())
            if "vgreduce %s %s" % (frm, mds) not in lines or "vgcreate %s %s" % (vg, mds) not in lines:
                problems.append("group %s is not split off %s onto %s: %r" % (vg, frm, mds, lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__); return 2
    path = sys.argv[1]
    recipes_sh = os.path.join(PARTMAN_AUTO, "lib", "partman", "lib", "recipes.sh")
    auto_lvm = os.path.join(PARTMAN_AUTO_LVM, "lib", "partman", "lib", "auto-lvm.sh")
    raidcfg = os.path.join(PARTMAN_AUTO_RAID, "bin", "auto-raidcfg")
    if not shutil.which("debconf-set-selections") or not all(os.path.exists(p) for p in (DI_DSS, BUSYBOX, recipes_sh, auto_lvm, raidcfg)):
        print("missing debconf-set-selections, %s, %s, %s, %s or %s: run scripts/install-validators" % (DI_DSS, BUSYBOX, recipes_sh, auto_lvm, raidcfg))
        return 2
    problems = []
    text = open(path, encoding="utf-8").read()
    if not text.startswith("#_preseed_V1\n"):
        problems.append("the first line is not #_preseed_V1")
    theirs, p1 = debconf_reader(path)
    ours, p2 = installer_reader(path)
    problems += p1 + p2
    if theirs != ours:
        for a, b in zip(theirs + [None] * len(ours), ours + [None] * len(theirs)):
            if a != b:
                problems.append("the readers differ: debconf %r, the installer %r" % (a, b))
                break
    seen = {}
    for q, v in theirs:
        if q in seen:
            problems.append("question %s is set twice" % q)
        seen[q] = v
    for q in REQUIRED:
        if q not in seen:
            problems.append("no %s" % q)
    problems += partman_check(seen)
    holders = {}
    if seen.get("partman-auto/method") == "raid":
        raid_problems, holders = raid_check(seen, seen.get("partman-auto/disk", "").split())
        problems += raid_problems
    problems += late_command_check(path, seen, holders)
    recipe = seen.get("partman-auto/expert_recipe", "")
    if recipe:
        name, sep, body = recipe.partition(" :: ")
        lines = [l.strip() for l in body.split(" . ")]
        if not sep or not body.rstrip().endswith(".") or any(not l for l in lines[:-1]):
            problems.append("partman-auto/expert_recipe is not `<name> :: <line> . <line> .`: %r" % recipe[:200])
    if problems:
        print("\n".join(problems)); return 1
    print("ok: %d questions, both readers alike" % len(theirs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
