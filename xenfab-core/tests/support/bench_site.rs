//! The site of `benches/scale/generate.py` (`benches/python/fabric_gen.py`), written in Rust
//! for the benches (`benches/scale.rs`) and the tests that need a big site
//! (`tests/incremental.rs`).

use std::fmt::Write;

/// `fabric_gen.py`'s site as TOML, `dom0s` x `guests`.
pub fn site_toml(dom0s: u32, guests: u32) -> String {
    let mut s = String::from(
        r#"version = 1

[site]
name = "bench"
domain = "bench.example.org"
mac_scheme = "local-ipv4"

[install]
next_server = "10.0.0.1"
kickstart_url = "http://10.0.0.1/ks"

[kickstart]
root_password = "$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"

[boot_images.c5]
kernel = "centos-5.2/x86_64/vmlinuz"
initrd = "centos-5.2/x86_64/initrd.img"

[boot_images.c4-xenU]
kernel = "xen-domU-c4.6/i386/vmlinuz"
initrd = "xen-domU-c4.6/i386/initrd.img"

[os.c5]
family = "el5"
install_url = "http://10.0.0.1/centos/5.2/os/x86_64"
boot_image = "c5"
kernel_version = "2.6.18-92.1.6.el5"

[os.c4]
family = "el4"
install_url = "http://10.0.0.1/centos/4.6/os/i386"
boot_image = "c4-xenU"
arch = "i386"

[networks.fabric]
subnet = "10.0.0.0/8"
gateway = "10.255.255.254"

[hardware.r710]
ram = "48G"
cpus = 16
disks = [{ name = "sda", size = "500GB" }, { name = "sdb", size = "500GB" }]

[defaults.dom0]
os = "c5"

[defaults.guest]
os = "c4"
"#,
    );
    for i in 0..dom0s {
        let net = format!("10.{}.{}", i / 250, i % 250 + 1);
        let _ = write!(
            s,
            "\n[[dom0s]]\nname = \"xen{i:04}\"\nip = \"{net}.1\"\n\
             mac = \"00:1e:c9:{:02x}:{:02x}:01\"\nhardware = \"r710\"\n",
            (i >> 8) & 0xff,
            i & 0xff
        );
        for j in 0..guests {
            let _ = write!(
                s,
                "\n[[dom0s.guests]]\nname = \"vm{i:04}-{j:02}\"\nip = \"{net}.{}\"\n",
                j + 10
            );
        }
    }
    s
}
