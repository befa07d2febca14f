#!/usr/bin/env python3
"""Writes realistic compiled Quattor profiles (pan XML, as panc's `pan` formatter writes them)
for benchmarking the profile reader.

Each profile looks like `tests/fixtures/quattor/xenfab-scenario/xen-host.example.org.xml`: a
few hundred to a couple of thousand elements in nested nlists and lists (hardware, accounts,
packages with escaped keys, xen domains, AII kickstart data, block devices, file systems,
network), some long strings with XML entities and some base64 strings (which panc writes
for text with control characters, in lines of 76). A share of them is gzip-compressed
(`.xml.gz`), as AII sites serve them.

    python3 benches/quattor/generate.py [-n 2000] [--seed 1] [--gzip-share 0.25] DIR

The output depends only on the arguments.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import random
import sys
from pathlib import Path
from typing import Any

# A node: ("nlist", [(key, node), ...]), ("list", [node, ...]), ("string", str),
# ("long", int), ("double", float) or ("boolean", bool).
Node = tuple[str, Any]


def nlist(*pairs: tuple[str, Node]) -> Node:
    return ("nlist", list(pairs))


def lst(*items: Node) -> Node:
    return ("list", list(items))


def s(text: str) -> Node:
    return ("string", text)


def n(value: int) -> Node:
    return ("long", value)


def d(value: float) -> Node:
    return ("double", value)


def b(value: bool) -> Node:
    return ("boolean", value)


def escape_key(key: str) -> str:
    """pan's escape(): letters, digits after the first place, else `_` + two hex digits."""
    if key == "":
        return "_"
    out = []
    for i, c in enumerate(key):
        if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)):
            out.append(c)
        else:
            out.append(f"_{ord(c):02x}")
    return "".join(out)


GROUPS = [
    "adm", "amanda", "apache", "audio", "bin", "cdrom", "daemon", "dbus", "dialout", "disk",
    "floppy", "ftp", "games", "gopher", "haldaemon", "kmem", "lock", "lp", "mail", "man",
    "mem", "news", "nfsnobody", "nobody", "ntp", "pcap", "postfix", "root", "rpc", "rpcuser",
    "slocate", "smmsp", "sshd", "sys", "tape", "tty", "users", "utmp", "uucp", "video", "wheel",
    "xfs",
]
PACKAGES = [
    "kernel", "kernel-xen", "kernel-firmware", "xen", "xen-libs", "libvirt", "ncm-accounts",
    "ncm-ccm", "ncm-grub", "ncm-network", "ncm-spma", "ncm-xen", "perl-CAF", "perl-LC",
    "ccm", "openssh-server", "openssh-clients", "ntp", "postfix", "rsyslog", "lvm2", "mdadm",
    "e2fsprogs", "bridge-utils", "dhclient", "yum", "rpm", "bash", "coreutils", "glibc",
    "python", "perl", "vim-minimal", "sudo", "cronie", "logrotate", "tar", "gzip", "wget",
    "curl", "net-tools", "iproute", "iptables", "xinetd", "audit", "selinux-policy",
    "gcc", "make", "nss", "openssl", "zlib", "sysstat", "lsof", "strace", "tcpdump",
]
SHELLS = ["/bin/bash", "/bin/sh", "/sbin/nologin", "/bin/zsh"]
FSTYPES = ["ext3", "ext4", "xfs", "swap"]


def mac(r: random.Random, prefix: str = "00:1c:c4") -> str:
    return prefix + "".join(f":{r.randrange(256):02x}" for _ in range(3))


def base64_lines(text: str) -> str:
    """What panc writes for a string with control characters: base64 in lines of 76."""
    encoded = base64.b64encode(text.encode()).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def hardware(r: random.Random) -> Node:
    nics = nlist(*(
        (f"eth{i}", nlist(
            ("boot", b(i == 0)),
            ("driver", s(r.choice(["bnx2", "e1000e", "tg3", "igb"]))),
            ("hwaddr", s(mac(r))),
            ("pxe", b(i == 0)),
        ))
        for i in range(r.randint(1, 4))
    ))
    cores = r.choice([2, 4, 6, 8])
    cpus = lst(*(
        nlist(
            ("arch", s("x86_64")),
            ("cores", n(cores)),
            ("model", s("Intel(R) Xeon(R) E5420 2.50GHz")),
            ("speed", n(2500)),
            ("vendor", s("Intel")),
        )
        for _ in range(r.randint(1, 4))
    ))
    disks = nlist(*(
        (f"sd{chr(97 + i)}", nlist(
            ("boot", b(i == 0)),
            ("capacity", n(r.choice([73400, 146800, 300000, 600000]))),
            ("interface", s(r.choice(["sas", "sata", "scsi"]))),
            ("part_prefix", s("")),
        ))
        for i in range(r.randint(1, 4))
    ))
    ram = lst(*(nlist(("size", n(r.choice([2048, 4096, 8192])))) for _ in range(r.randint(2, 12))))
    return nlist(
        ("bios", nlist(("releasedate", s("03/30/2008")), ("version", s(f"P56.{r.randint(1, 9)}")))),
        ("cards", nlist(("nic", nics))),
        ("cpu", cpus),
        ("harddisks", disks),
        ("model", s(r.choice(["ProLiant DL360 G5", "PowerEdge 1950", "PowerEdge 2950"]))),
        ("ram", ram),
        ("serialnumber", s(f"GB87{r.randrange(10**6):06d}")),
    )


def accounts(r: random.Random) -> Node:
    groups = r.sample(GROUPS, r.randint(20, len(GROUPS)))
    users = [f"user{i:03d}" for i in r.sample(range(1000), r.randint(3, 20))]
    return nlist(
        ("active", b(True)),
        ("dependencies", nlist(("pre", lst(s("spma"))))),
        ("dispatch", b(True)),
        ("groups", nlist(*((g, nlist(("gid", n(100 + i)))) for i, g in enumerate(sorted(groups))))),
        ("kept_groups", nlist(*((g, s("")) for g in sorted(groups)))),
        ("users", nlist(*(
            (u, nlist(
                ("comment", s(f"{u.title()} & co <{u}@example.org>")),
                ("groups", lst(*(s(g) for g in r.sample(groups, 3)))),
                ("homeDir", s(f"/home/{u}")),
                ("shell", s(r.choice(SHELLS))),
                ("uid", n(1000 + int(u[4:]))),
            ))
            for u in sorted(users)
        ))),
    )


def xen(r: random.Random, host: int) -> Node:
    domains = []
    for g in range(r.choice([0, 0, 2, 4, 6, 8, 12])):
        name = f"guest{host:04d}-{g}"
        domains.append((name, nlist(
            ("auto", b(True)),
            ("options", nlist(
                ("bootloader", s("/usr/bin/pygrub")),
                ("disk", lst(nlist(
                    ("guestdevice", s("xvda")),
                    ("hostdevice", s("xenvg")),
                    ("hostvol", s(name)),
                    ("size", n(r.choice([10240, 20480, 40960]))),
                    ("type", s("lvm")),
                ))),
                ("memory", n(r.choice([512, 1024, 2048, 4096]))),
                ("on_reboot", s("restart")),
                ("vcpus", n(r.randint(1, 4))),
                ("vif", lst(s(f"mac={mac(r, '00:16:3e')},bridge=xenbr0"))),
            )),
        )))
    return nlist(
        ("active", b(True)),
        ("create_domains", b(True)),
        ("domains", nlist(*domains)),
        ("network", nlist(("bridges", nlist(("xenbr0", nlist(("netdev", s("eth0")))))))),
    )


def packages(r: random.Random) -> Node:
    chosen = sorted(r.sample(PACKAGES, r.randint(15, len(PACKAGES))))
    entries = []
    for p in chosen:
        version = f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}-{r.randint(1, 400)}.el6"
        arches = nlist(*((a, s("")) for a in r.sample(["x86_64", "noarch", "i686"], r.randint(1, 2))))
        entries.append((escape_key(p), nlist((escape_key(version), arches))))
    return ("nlist", entries)


def kickstart(r: random.Random, hostname: str) -> Node:
    post = "\n".join(
        f"if [ -e /etc/conf{i} ] && [ $(wc -l < /etc/conf{i}) -gt {i} ]; then echo ok{i} >> /root/ks.log; fi"
        for i in range(r.randint(3, 15))
    )
    return nlist(
        ("bootloader_location", s("mbr")),
        ("clearall", b(True)),
        ("installtype", s("url --url http://192.168.0.1/centos/5.2/os/x86_64")),
        ("keyboard", s("us")),
        ("lang", s("en_US.UTF-8")),
        ("packages", lst(*(s(p) for p in sorted(r.sample(PACKAGES, r.randint(10, 40)))))),
        ("post", s(post)),
        ("rootpw", s("$1$xenfabts$3MnpECyDSxUOqXImm6E4g/")),
        ("timezone", s("Europe/Amsterdam")),
        ("version", s("11.1")),
        ("ksversion", d(11.1)),
        ("hostname", s(hostname)),
    )


def blockdevices(r: random.Random) -> Node:
    disks = ["sda", "sdb"]
    partitions = nlist(*(
        (f"{disk}{i}", nlist(("holding_dev", s(disk)), ("size", n(r.choice([100, 4096, 0]))), ("type", s("primary"))))
        for disk in disks
        for i in (1, 2)
    ))
    md = nlist(*(
        (f"md{i}", nlist(("device_list", lst(s(f"partitions/sda{i + 1}"), s(f"partitions/sdb{i + 1}"))), ("raid_level", s("RAID1"))))
        for i in range(2)
    ))
    lvs = nlist(*(
        (lv, nlist(("size", n(r.choice([2048, 8192, 16384]))), ("volume_group", s("xenvg"))))
        for lv in ["dom0root", "dom0swap", "dom0var"][: r.randint(2, 3)]
    ))
    return nlist(
        ("logical_volumes", lvs),
        ("md", md),
        ("partitions", partitions),
        ("physical_devs", nlist(("md1", nlist(("label", s("none")))))),
        ("volume_groups", nlist(("xenvg", nlist(("device_list", lst(s("md/md1"))))))),
        ("files", nlist((escape_key("/home/images/swap.img"), nlist(("owner", s("root")), ("size", n(1024)))))),
    )


def filesystems(r: random.Random) -> Node:
    mounts = ["/", "/boot", "/var", "/tmp", "/home", "/opt", "/srv", "swap"]
    return lst(*(
        nlist(
            ("block_device", s(f"logical_volumes/lv{i}")),
            ("format", b(True)),
            ("freq", n(0)),
            ("mount", b(True)),
            ("mountopts", s("defaults")),
            ("mountpoint", s(m)),
            ("pass", n(1 if m == "/" else 2)),
            ("preserve", b(False)),
            ("type", s(r.choice(FSTYPES))),
        )
        for i, m in enumerate(mounts[: r.randint(3, len(mounts))])
    ))


def components(r: random.Random, i: int, hostname: str) -> Node:
    ccm = nlist(
        ("active", b(True)),
        ("profile", s(f"https://quattor.example.org/profiles/{hostname}.xml")),
        ("retrieve_wait", n(30)),
    )
    kernel = nlist(
        ("kernelargs", s("max_loop=128 ro console=tty0")),
        ("mbargs", s("dom0_mem=1024M")),
        ("multiboot", s("/xen.gz-3.1.2-92.1.6.el5")),
    )
    return nlist(
        ("accounts", accounts(r)),
        ("ccm", ccm),
        ("grub", nlist(("kernels", lst(kernel)))),
        ("xen", xen(r, i)),
    )


def repositories(r: random.Random) -> Node:
    repos = []
    for k in range(r.randint(2, 6)):
        protocol = nlist(("name", s("http")), ("url", s(f"http://192.168.0.1/repo{k}")))
        repos.append(nlist(
            ("name", s(f"repo{k}")),
            ("owner", s("ops@example.org")),
            ("protocols", lst(protocol)),
        ))
    return lst(*repos)


def aii(r: random.Random, hostname: str) -> Node:
    pxelinux = nlist(
        ("append", s(f"ks=http://192.168.0.1/ks/{hostname}.ks")),
        ("initrd", s("centos-5.2/initrd.img")),
        ("kernel", s("centos-5.2/vmlinuz")),
    )
    return nlist(
        ("dhcp", nlist(("filename", s("pxelinux.0")), ("tftpserver", s("192.168.0.1")))),
        ("nbp", nlist(("pxelinux", pxelinux))),
        ("osinstall", nlist(("ks", kickstart(r, hostname)))),
    )


def network(i: int, hostname: str) -> Node:
    bridge = nlist(
        ("ip", s(f"192.168.{i // 250 % 256}.{i % 250 + 1}")),
        ("netmask", s("255.255.255.0")),
        ("type", s("Bridge")),
    )
    return nlist(
        ("default_gateway", s("192.168.0.254")),
        ("domainname", s("example.org")),
        ("hostname", s(hostname)),
        ("interfaces", nlist(("eth0", nlist(("bridge", s("xenbr0")))), ("xenbr0", bridge))),
        ("nameserver", lst(s("192.168.0.1"), s("192.168.0.2"))),
    )


def profile(r: random.Random, i: int) -> Node:
    hostname = f"node{i:05d}"
    # Control characters: panc writes this one in base64.
    motd = f"\x1b[1mWelcome to {hostname}\x1b[0m\n\tmanaged by Quattor\x07\n" + "".join(
        f"\x1b[3{k % 8}m* {r.choice(PACKAGES)} is installed\x1b[0m\n" for k in range(r.randint(1, 8))
    )
    ssh_key = "ssh-rsa " + base64.b64encode(r.randbytes(270)).decode() + f" root@{hostname}"
    software = nlist(
        ("components", components(r, i, hostname)),
        ("packages", packages(r)),
        ("repositories", repositories(r)),
    )
    system = nlist(
        ("aii", aii(r, hostname)),
        ("blockdevices", blockdevices(r)),
        ("filesystems", filesystems(r)),
        ("kernel", nlist(("version", s("2.6.18-92.1.6.el5xen")))),
        ("load_threshold", d(round(r.uniform(0.5, 8.0), 3))),
        ("motd", s(motd)),
        ("network", network(i, hostname)),
        ("ssh_host_key", s(ssh_key)),
    )
    return nlist(("hardware", hardware(r)), ("software", software), ("system", system))


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _text(text).replace('"', "&quot;")


def _is_xml_text(text: str) -> bool:
    return all(c in "\t\n\r" or ord(c) >= 0x20 for c in text)


def write_node(out: list[str], node: Node, name: str | None, depth: int) -> None:
    kind, value = node
    pad = "    " * depth
    attrs = f' name="{_attr(name)}"' if name is not None else ""
    if kind in ("nlist", "list"):
        if not value:
            out.append(f"{pad}<{kind}{attrs}/>\n")
            return
        out.append(f"{pad}<{kind}{attrs}>\n")
        for child in value:
            if kind == "nlist":
                write_node(out, child[1], child[0], depth + 1)
            else:
                write_node(out, child, None, depth + 1)
        out.append(f"{pad}</{kind}>\n")
        return
    if kind == "string":
        if not _is_xml_text(value):
            out.append(f'{pad}<string{attrs} encoding="base64">{base64_lines(value)}</string>\n')
            return
        text = _text(value)
    elif kind == "boolean":
        text = "true" if value else "false"
    else:
        text = repr(value) if kind == "double" else str(value)
    if text == "":
        out.append(f"{pad}<{kind}{attrs}/>\n")
    else:
        out.append(f"{pad}<{kind}{attrs}>{text}</{kind}>\n")


def to_xml(root: Node) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?><nlist format="pan" name="profile">\n']
    for key, child in root[1]:
        write_node(out, child, key, 1)
    out.append("</nlist>\n")
    return "".join(out)


def generate(out_dir: Path, count: int = 2000, seed: int = 1, gzip_share: float = 0.25) -> dict[str, int]:
    """Writes `count` profiles into `out_dir`; returns files, bytes on disk, XML bytes, elements."""
    out_dir.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    stats = {"files": 0, "bytes": 0, "xml_bytes": 0, "elements": 0}
    for i in range(count):
        xml = to_xml(profile(r, i)).encode()
        name = f"node{i:05d}.example.org.xml"
        if r.random() < gzip_share:
            data = gzip.compress(xml, mtime=0)
            name += ".gz"
        else:
            data = xml
        (out_dir / name).write_bytes(data)
        stats["files"] += 1
        stats["bytes"] += len(data)
        stats["xml_bytes"] += len(xml)
        stats["elements"] += xml.count(b"<") - xml.count(b"</") - 1  # less the declaration
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip-share", type=float, default=0.25)
    args = parser.parse_args()
    stats = generate(args.dir, args.count, args.seed, args.gzip_share)
    json.dump(stats, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
