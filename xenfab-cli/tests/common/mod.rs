//! Helpers shared by the integration tests that run the `xenfab` binary.

#![allow(dead_code, reason = "each test file uses some of them")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

pub fn xenfab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(args)
        .output()
        .expect("xenfab runs")
}

/// The fabric file of the test corpus's case `name` (`tests/cases/<name>/fabric.toml`).
pub fn case(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cases")
        .join(name)
        .join("fabric.toml")
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A temporary directory in memory (`/dev/shm`) where there is one: the tests that write
/// tens of thousands of files are about atomicity against a killed process, not against a
/// power cut, and xenfab syncs every file it writes.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("xenfab-test")
            .tempdir_in(shm)
        {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

/// A fabric file of `dom0s` dom0s (the README's PE-1950 dom0, repeated with distinct names,
/// addresses and MACs), each with one guest of `guest_memory`, in site `site`.
pub fn fabric(site: &str, dom0s: usize, guest_memory: &str) -> String {
    let mut out = format!(
        r#"version = 1

[site]
name = "{site}"
domain = "example.org"
mac_scheme = "local-ipv4"

[install]
next_server = "10.1.0.1"
kickstart_url = "http://10.1.0.1/ks"

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
install_url = "http://10.1.0.1/centos/5.2/os/x86_64"
boot_image = "c5"
kernel_version = "2.6.18-92.1.6.el5"

[os.c4]
family = "el4"
install_url = "http://10.1.0.1/centos/4.6/os/i386"
boot_image = "c4-xenU"

[networks.public]
subnet = "10.1.0.0/16"
gateway = "10.1.255.254"

[hardware.pe1950]
ram = "16G"
cpus = 8
disks = [{{ name = "sda", size = "500GB" }}, {{ name = "sdb", size = "500GB" }}]
"#
    );
    for i in 0..dom0s {
        let (hi, lo) = ((2 * i + 10) / 250, (2 * i + 10) % 250);
        let _ = write!(
            out,
            r#"
[[dom0s]]
name = "xen{i:04}"
ip = "10.1.{hi}.{dom0_ip}"
mac = "00:1e:c9:2a:{mac_hi:02x}:{mac_lo:02x}"
hardware = "pe1950"
os = "c5"

  [[dom0s.guests]]
  name = "g{i:04}"
  ip = "10.1.{hi}.{guest_ip}"
  os = "c4"
  memory = "{guest_memory}"
  disks = [{{ size = "20G" }}]
"#,
            dom0_ip = lo + 1,
            guest_ip = lo + 2,
            mac_hi = i >> 8,
            mac_lo = i & 0xff,
        );
    }
    out
}

/// What is at a path of a tree: a file's contents and permission bits, or a symlink's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File(Vec<u8>, u32),
    Symlink(String),
}

/// Every file and symlink under `dir` (dot files included), by relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
            let kind = e.file_type().unwrap();
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_symlink() {
                let target = fs::read_link(&p).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, Node::Symlink(target));
            } else {
                let mode = fs::symlink_metadata(&p).unwrap().permissions().mode() & 0o7777;
                let mut bytes = fs::read(&p).unwrap();
                if rel == ".xenfab-manifest.json" {
                    bytes = without_stamps(&bytes);
                }
                out.insert(rel, Node::File(bytes, mode));
            }
        }
    }
    out
}

/// A manifest without its files' stamps (inodes and times: those of the files on disk, not of
/// what they hold) and its `id` (made afresh each time it is written), as canonical JSON; the
/// bytes as they are if they are not a manifest.
pub fn without_stamps(bytes: &[u8]) -> Vec<u8> {
    let Ok(mut manifest) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return bytes.to_vec();
    };
    if let Some(manifest) = manifest.as_object_mut() {
        manifest.remove("id");
    }
    if let Some(entries) = manifest["entries"].as_object_mut() {
        for entry in entries.values_mut() {
            if let Some(entry) = entry.as_object_mut() {
                entry.remove("stamp");
            }
        }
    }
    serde_json::to_vec(&manifest).unwrap()
}

/// Whether the last component of `path` is one of xenfab's temporary names.
pub fn is_temp(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with('.') && name.ends_with(".xenfab-tmp")
}
