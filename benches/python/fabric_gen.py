"""A synthetic fabric for the Python benchmark: N dom0s with G guests each, valid."""

from __future__ import annotations

from typing import Any


def synthetic_fabric(dom0s: int = 200, guests: int = 10) -> dict[str, Any]:
    """The fabric as plain Python values (what `xenfab.Fabric.from_dict` takes).

    Every host is on 10.0.0.0/8; guest MACs are derived with `local-ipv4`, so none collide.
    dom0 i is 10.(i // 250).(i % 250 + 1).1 (i < 62500), its guest j is ….(j + 10).
    Each dom0 is an R710 (48G, 16 cores, two 500GB disks): 10 guests of 1024M, 1 vCPU and 10G fit
    without a warning.
    """
    if guests > 200 or dom0s > 250 * 250:
        raise ValueError("too many hosts for the address plan")
    fabric: dict[str, Any] = {
        "version": 1,
        "site": {"name": "bench", "domain": "bench.example.org", "mac_scheme": "local-ipv4"},
        "install": {"next_server": "10.0.0.1", "kickstart_url": "http://10.0.0.1/ks"},
        "kickstart": {"root_password": "$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"},
        "boot_images": {
            "c5": {"kernel": "centos-5.2/x86_64/vmlinuz", "initrd": "centos-5.2/x86_64/initrd.img"},
            "c4-xenU": {
                "kernel": "xen-domU-c4.6/i386/vmlinuz",
                "initrd": "xen-domU-c4.6/i386/initrd.img",
            },
        },
        "os": {
            "c5": {
                "family": "el5",
                "install_url": "http://10.0.0.1/centos/5.2/os/x86_64",
                "boot_image": "c5",
                "kernel_version": "2.6.18-92.1.6.el5",
            },
            "c4": {
                "family": "el4",
                "install_url": "http://10.0.0.1/centos/4.6/os/i386",
                "boot_image": "c4-xenU",
                "arch": "i386",
            },
        },
        "networks": {"fabric": {"subnet": "10.0.0.0/8", "gateway": "10.255.255.254"}},
        "hardware": {
            "r710": {
                "ram": "48G",
                "cpus": 16,
                "disks": [{"name": "sda", "size": "500GB"}, {"name": "sdb", "size": "500GB"}],
            }
        },
        "defaults": {"dom0": {"os": "c5"}, "guest": {"os": "c4"}},
        "dom0s": [],
    }
    for i in range(dom0s):
        net = f"10.{i // 250}.{i % 250 + 1}"
        fabric["dom0s"].append(
            {
                "name": f"xen{i:04d}",
                "ip": f"{net}.1",
                "mac": f"00:1e:c9:{i >> 8 & 0xFF:02x}:{i & 0xFF:02x}:01",
                "hardware": "r710",
                "guests": [
                    {"name": f"vm{i:04d}-{j:02d}", "ip": f"{net}.{j + 10}"} for j in range(guests)
                ],
            }
        )
    return fabric
