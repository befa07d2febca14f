//! The `xenfab` command as a user runs it: exit codes, streams, and the output tree.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{case, stderr, stdout, xenfab};

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn mac_prints_the_seeds_examples() {
    let o = xenfab(&["mac", "192.168.1.2", "192.168.96.43"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "00:16:3e:a8:01:02\n00:16:3e:a8:60:2b\n");
    let o = xenfab(&["mac", "--boot-names", "192.168.1.2"]);
    assert_eq!(
        stdout(&o),
        "192.168.1.2 00:16:3e:a8:01:02 01-00-16-3e-a8-01-02 C0A80102\n"
    );
    let o = xenfab(&["mac", "--scheme", "local-ipv4", "10.168.1.2"]);
    assert_eq!(stdout(&o), "02:00:0a:a8:01:02\n");
}

#[test]
fn mac_refuses_bad_input() {
    let o = xenfab(&["mac", "192.168.1.300"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("invalid IPv4 address `192.168.1.300`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        xenfab(&["mac", "--scheme", "explicit", "10.0.0.1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(xenfab(&["mac"]).status.code(), Some(2));
}

#[test]
fn validate_the_example() {
    let o = xenfab(&["validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("ok: 3 dom0(s), 5 guest(s), 0 warning(s)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_reports_every_problem_with_paths_and_lines() {
    // The line of the bad gateway, from the fixture itself.
    let text = fs::read_to_string(case("invalid-everything")).unwrap();
    let gateway_line = 1 + text
        .lines()
        .position(|l| l.starts_with("gateway = \"192.168.97.254\""))
        .unwrap();
    let path = case("invalid-everything");
    let o = xenfab(&["validate", &path]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let gateway =
        format!(":{gateway_line}:1: error[gateway-outside-subnet]: networks[public].gateway");
    for needle in [
        gateway.as_str(),
        "error[duplicate-ip]: dom0s[xen01].guests[vali].ip",
        "error[duplicate-name]: dom0s[xen01].guests[ullr].name",
        "error[duplicate-mac]: dom0s[xen03].guests[heimdall].mac",
        "error[ip-outside-network]: dom0s[xen01].guests[bragi].ip",
        "error[vg-full]: dom0s[xen01].guests[vali].disks[0].size",
        "error[memory-exceeded]: dom0s[xen01].guests[vali].memory",
        "warning[save-area-small]: dom0s[xen04].partitioning",
        "warning[vcpu-overcommit]: dom0s[xen01].guests",
        "warning[mac-in-random-range]: dom0s[xen01].guests[hodr].mac",
        "error[raid-same-disk]",
        "error[raid-too-few-members]",
        "error[multiple-grow]",
        "error[duplicate-mount]",
        "error[boot-not-primary]",
        "error[unknown-reference]: dom0s[xen01].guests[ullr].disks[0].vg",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    let json = xenfab(&["validate", "--json", &path]);
    assert_eq!(json.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let gateway = diags
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "networks[public].gateway")
        .unwrap();
    assert_eq!(gateway["code"], "gateway-outside-subnet");
    assert_eq!(gateway["location"]["line"], gateway_line);
}

#[test]
fn render_twice_writes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let first = xenfab(&["render", "--example", "-o", out_s]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("+ inventory/hosts/ullr.example.org.json"));
    let mtimes = |p: &Path| {
        files(p)
            .into_iter()
            .map(|f| fs::metadata(p.join(&f)).unwrap().modified().unwrap())
            .collect::<Vec<_>>()
    };
    let written = stdout(&first).lines().count();
    let before = mtimes(&out);
    let second = xenfab(&["render", "--example", "-o", out_s]);
    assert!(second.status.success());
    assert_eq!(stdout(&second), "");
    assert!(
        stderr(&second).contains(&format!(
            "0 created, 0 changed, {written} unchanged, 0 removed"
        )),
        "{}",
        stderr(&second)
    );
    assert_eq!(before, mtimes(&out));
}

#[test]
fn removing_a_guest_removes_its_files_and_only_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    fs::write(out.join("inventory/hosts/notes.txt"), "mine\n").unwrap(); // not xenfab's

    let fabric = dir.path().join("fabric.toml");
    let without_vali = xenfab_core::EXAMPLE.replace("name = \"vali\"", "name = \"vali-gone\"");
    let start = without_vali
        .find("  [[dom0s.guests]]\n  name = \"vali-gone\"")
        .unwrap();
    let end = start + without_vali[start..].find("\n\n").unwrap();
    fs::write(
        &fabric,
        format!("{}{}", &without_vali[..start], &without_vali[end..]),
    )
    .unwrap();

    let dry = xenfab(&["render", fabric.to_str().unwrap(), "-o", out_s, "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("--- a/inventory/hosts/vali.example.org.json\n+++ /dev/null"),
        "{}",
        stdout(&dry)
    );
    assert!(
        out.join("inventory/hosts/vali.example.org.json").exists(),
        "a dry run wrote"
    );

    let before = files(&out);
    let o = xenfab(&["render", fabric.to_str().unwrap(), "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("- inventory/hosts/vali.example.org.json"));
    let after = files(&out);
    let gone: Vec<_> = before.iter().filter(|f| !after.contains(f)).collect();
    assert_eq!(
        gone,
        [
            "dom0s/xen01.example.org/libvirt/vali.xml",
            "dom0s/xen01.example.org/xen/vali",
            "inventory/hosts/vali.example.org.json",
            "kickstart/vali.example.org.ks",
            "tftpboot/grub2/grub.cfg-01-00-16-3e-a8-60-2c",
            "tftpboot/grub2/grub.cfg-C0A8602C",
            "tftpboot/grub2/vali.example.org.cfg",
            "tftpboot/grub2/vali.example.org.rescue.cfg",
            "tftpboot/ipxe/00-16-3e-a8-60-2c.ipxe",
            "tftpboot/ipxe/vali.example.org.ipxe",
            "tftpboot/ipxe/vali.example.org.rescue.ipxe",
            "tftpboot/pxelinux.cfg/01-00-16-3e-a8-60-2c",
            "tftpboot/pxelinux.cfg/C0A8602C",
            "tftpboot/pxelinux.cfg/vali.example.org.cfg",
            "tftpboot/pxelinux.cfg/vali.example.org.rescue.cfg",
        ]
    );
    assert_eq!(
        fs::read_to_string(out.join("inventory/hosts/notes.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn an_invalid_fabric_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = xenfab(&[
        "render",
        &case("invalid-everything"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nothing written"));
    assert!(!out.exists());
    let o = xenfab(&[
        "render",
        &case("parse-unknown-field"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("fabric.toml:28:1: unknown field `memroy`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_file_xenfab_does_not_own_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(out.join("inventory")).unwrap();
    fs::write(out.join("inventory/hosts.csv"), "somebody else's\n").unwrap();
    let o = xenfab(&["render", "--example", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was not written by xenfab"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read_to_string(out.join("inventory/hosts.csv")).unwrap(),
        "somebody else's\n"
    );
    assert_eq!(files(&out), ["inventory/hosts.csv"]);
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(xenfab(&["render"]).status.code(), Some(2));
    assert_eq!(
        xenfab(&["validate", "/nonexistent/fabric.toml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(xenfab(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn example_and_schema_print_data() {
    let o = xenfab(&["example"]);
    assert_eq!(stdout(&o), xenfab_core::EXAMPLE);
    let o = xenfab(&["schema"]);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(schema["title"], "xenfab fabric file");
}

#[test]
fn standard_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"version = 1\n[site]\nname = \"x\"\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("xenfab: error: <stdin>"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn boot_switches_links_and_render_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let link = |name: &str| fs::read_link(out.join("tftpboot/pxelinux.cfg").join(name)).unwrap();
    assert_eq!(link("01-00-1e-c9-2a-11-01").to_str(), Some("localboot.cfg"));

    // xen01 has guests: a plain install (which wipes their volumes) is refused.
    let o = xenfab(&["boot", "xen01", "install", "--example", "-o", out_s]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "xenfab: error: installing dom0 `xen01.example.org` wipes its disks and the volumes of its 2 guests: \
         use `xenfab boot xen01 reinstall` to keep them, or give --wipe-guests\n"
    );
    assert_eq!(link("01-00-1e-c9-2a-11-01").to_str(), Some("localboot.cfg"));

    let o = xenfab(&["boot", "xen01", "reinstall", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("pxelinux.cfg/C0A8600B -> xen01.example.org.reinstall.cfg"),
        "{}",
        stdout(&o)
    );
    assert_eq!(stderr(&o), "xen01.example.org: reinstall\n");
    assert_eq!(
        link("01-00-1e-c9-2a-11-01").to_str(),
        Some("xen01.example.org.reinstall.cfg")
    );
    assert_eq!(
        link("C0A8600B").to_str(),
        Some("xen01.example.org.reinstall.cfg")
    );
    let state = fs::read_to_string(out.join("tftpboot/.xenfab-boot-state.json")).unwrap();
    assert!(
        state.contains("\"xen01.example.org\": \"reinstall\""),
        "{state}"
    );

    // The next render keeps what `xenfab boot` recorded: no link changes, only the inventory,
    // which records each host's state.
    let o = xenfab(&["render", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        link("01-00-1e-c9-2a-11-01").to_str(),
        Some("xen01.example.org.reinstall.cfg")
    );
    assert_eq!(
        stdout(&o),
        "~ inventory/hosts.csv\n~ inventory/hosts/xen01.example.org.json\n"
    );

    // Rescue, then an install that may wipe the guests.
    let o = xenfab(&["boot", "xen01", "rescue", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        link("C0A8600B").to_str(),
        Some("xen01.example.org.rescue.cfg")
    );
    assert!(
        fs::read_link(out.join("tftpboot/ipxe/00-1e-c9-2a-11-01.ipxe"))
            .unwrap()
            .ends_with("xen01.example.org.rescue.ipxe")
    );
    let o = xenfab(&[
        "boot",
        "xen01",
        "install",
        "--wipe-guests",
        "--example",
        "-o",
        out_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        link("01-00-1e-c9-2a-11-01").to_str(),
        Some("xen01.example.org.cfg")
    );

    // Back to the local disk.
    assert!(
        xenfab(&[
            "boot",
            "xen01.example.org",
            "localboot",
            "--example",
            "-o",
            out_s
        ])
        .status
        .success()
    );
    assert_eq!(link("01-00-1e-c9-2a-11-01").to_str(), Some("localboot.cfg"));
}

#[test]
fn boot_refuses_what_it_cannot_switch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    // Nothing rendered yet: no target to point at.
    assert_eq!(
        xenfab(&["boot", "xen01", "reinstall", "--example", "-o", out_s])
            .status
            .code(),
        Some(2)
    );
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    // A guest has no reinstall.
    let o = xenfab(&["boot", "vali", "reinstall", "--example", "-o", out_s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(
            "xenfab: error: `vali.example.org` cannot be in state `reinstall`: only a dom0 has a reinstall kickstart"
        ),
        "{}",
        stderr(&o)
    );
    // An HVM guest's rescue entry is there.
    let o = xenfab(&["boot", "vali", "rescue", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_link(out.join("tftpboot/pxelinux.cfg/C0A8602C"))
            .unwrap()
            .to_str(),
        Some("vali.example.org.rescue.cfg")
    );
    assert_eq!(
        xenfab(&["boot", "nosuchhost", "install", "--example", "-o", out_s])
            .status
            .code(),
        Some(1)
    );
    // A regular file where a link goes is never replaced.
    let hex = out.join("tftpboot/pxelinux.cfg/C0A8600B");
    fs::remove_file(&hex).unwrap();
    fs::write(&hex, "mine\n").unwrap();
    assert_eq!(
        xenfab(&["boot", "xen01", "reinstall", "--example", "-o", out_s])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(fs::read_to_string(&hex).unwrap(), "mine\n");
    // ... and nothing else was switched either.
    assert_eq!(
        fs::read_link(out.join("tftpboot/pxelinux.cfg/01-00-1e-c9-2a-11-01"))
            .unwrap()
            .to_str(),
        Some("localboot.cfg")
    );
}

#[test]
fn render_warns_of_a_recorded_state_the_host_cannot_be_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    // Edited by hand: a guest has no reinstall.
    fs::write(
        out.join("tftpboot/.xenfab-boot-state.json"),
        "{\"hosts\": {\"vali.example.org\": \"reinstall\", \"xen02.example.org\": \"reinstall\"}}\n",
    )
    .unwrap();
    let o = xenfab(&["render", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: recorded state `reinstall` of `vali.example.org` is not used: only a dom0 has a reinstall kickstart"
        ),
        "{}",
        stderr(&o)
    );
    let link = |name: &str| fs::read_link(out.join("tftpboot/pxelinux.cfg").join(name)).unwrap();
    assert_eq!(link("C0A8602C").to_str(), Some("localboot.cfg"));
    assert_eq!(
        link("C0A8600C").to_str(),
        Some("xen02.example.org.reinstall.cfg")
    );
}

#[test]
fn boot_records_the_state_of_a_guest_that_boots_its_own_disk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let config = || fs::read_to_string(out.join("dom0s/xen02.example.org/xen/skadi")).unwrap();
    let state = || fs::read_to_string(out.join("tftpboot/.xenfab-boot-state.json")).unwrap();
    assert!(config().contains("bootloader"), "{}", config());
    assert!(!config().contains("ks="), "{}", config());

    // skadi is a pv-pygrub guest: no link is switched, its state is recorded.
    let o = xenfab(&["boot", "skadi", "install", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).starts_with(
            "skadi.example.org: install\nskadi.example.org is a pv-pygrub guest: what it boots in this state is in its config; \
             run `xenfab render` to write its config (the installer's kernel with its kickstart) into the provision.sh of `xen02.example.org`"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        state().contains("\"skadi.example.org\": \"install\""),
        "{}",
        state()
    );

    // The next render writes its install variant: the installer's kernel and its kickstart.
    let o = xenfab(&["render", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("~ dom0s/xen02.example.org/xen/skadi\n"),
        "{}",
        stdout(&o)
    );
    assert!(
        config().contains("ks=http://192.168.96.1/ks/skadi.example.org.ks"),
        "{}",
        config()
    );
    assert!(!config().contains("bootloader"), "{}", config());

    // Back to its disk.
    let o = xenfab(&["boot", "skadi", "localboot", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        state().contains("\"skadi.example.org\": \"localboot\""),
        "{}",
        state()
    );
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    assert!(config().contains("bootloader"), "{}", config());
    assert!(!config().contains("ks="), "{}", config());

    // Rescue works the same way: recorded, and the next render boots the installer in rescue
    // mode (no kickstart, no pygrub).
    let o = xenfab(&["boot", "skadi", "rescue", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("(the installer's kernel in rescue mode)"),
        "{}",
        stderr(&o)
    );
    assert!(
        state().contains("\"skadi.example.org\": \"rescue\""),
        "{}",
        state()
    );
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    assert!(
        config().contains("extra = \"rescue method=http://192.168.96.1/centos/5.2/os/x86_64 "),
        "{}",
        config()
    );
    assert!(
        !config().contains("bootloader") && !config().contains("ks="),
        "{}",
        config()
    );

    // A pypxeboot guest (pypxeboot cannot pass the bare word `rescue`): its links go to the
    // local disk, its config boots the installer in rescue mode without pypxeboot.
    let ullr = || fs::read_to_string(out.join("dom0s/xen01.example.org/xen/ullr")).unwrap();
    let o = xenfab(&["boot", "ullr", "rescue", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(" -> localboot.cfg\n"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("ullr.example.org is a pv-pypxeboot guest"),
        "{}",
        stderr(&o)
    );
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    assert!(ullr().contains("extra = \"rescue method="), "{}", ullr());
    assert!(
        !ullr().contains("bootloader") && !ullr().contains("bootargs"),
        "{}",
        ullr()
    );
    let o = xenfab(&["boot", "ullr", "localboot", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    assert!(ullr().contains("bootloader"), "{}", ullr());
}

#[test]
fn boot_records_the_state_of_a_debian_guest_and_render_writes_its_debootstrap_install() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let fabric = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/debian-site.toml");
    assert!(xenfab(&["render", fabric, "-o", out_s]).status.success());
    let script = out.join("dom0s/deb01.example.org/install/vidar.sh");
    assert!(script.exists());
    // vidar (pv-kernel, Debian) boots dom0's kernel: no link, its state is recorded, and the
    // next render has no install script for it.
    let o = xenfab(&[
        "boot",
        "vidar",
        "localboot",
        "--fabric",
        fabric,
        "-o",
        out_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("vidar.example.org is a pv-kernel guest"),
        "{}",
        stderr(&o)
    );
    assert!(xenfab(&["render", fabric, "-o", out_s]).status.success());
    assert!(
        !script.exists(),
        "a Debian guest in localboot has no install script"
    );
    let provision = fs::read_to_string(out.join("dom0s/deb01.example.org/provision.sh")).unwrap();
    assert!(!provision.contains("install/vidar.sh"), "{provision}");
    assert!(provision.contains("install_debootstrap 'saga' 'xenvg' 'saga' 'install/saga.sh'"));
}

/// `--check` writes nothing and exits 1 only when something would change; `--stat` writes
/// nothing and shows a line per changed file with its added and removed lines, and totals.
#[test]
fn check_and_stat_show_what_would_change_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );

    let up_to_date = xenfab(&["render", "--example", "-o", out_s, "--check"]);
    assert_eq!(up_to_date.status.code(), Some(0), "{}", stderr(&up_to_date));
    assert_eq!(stdout(&up_to_date), "");

    // one line of a file edited by hand, another file removed
    let conf = out.join("dhcp/dhcpd.conf");
    let text = fs::read_to_string(&conf).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    fs::write(&conf, text.replacen(&first, "# edited", 1)).unwrap();
    let ks = out.join("kickstart/vali.example.org.ks");
    let ks_lines = fs::read_to_string(&ks).unwrap().lines().count();
    // the bar is not scaled down below 40 lines: one `+` a line
    assert!(
        ks_lines <= 40,
        "{ks_lines}: the expected bar below assumes at most 40"
    );
    fs::remove_file(&ks).unwrap();
    let before = files(&out);

    let check = xenfab(&["render", "--example", "-o", out_s, "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("--- a/dhcp/dhcpd.conf\n+++ b/dhcp/dhcpd.conf\n"),
        "{}",
        stdout(&check)
    );
    assert!(
        stderr(&check).contains("1 created, 1 changed"),
        "{}",
        stderr(&check)
    );

    for args in [&["--stat"][..], &["--stat", "--check"]] {
        let stat = xenfab(&[&["render", "--example", "-o", out_s][..], args].concat());
        let code = i32::from(args.contains(&"--check"));
        assert_eq!(
            stat.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&stat)
        );
        let width = "kickstart/vali.example.org.ks".len();
        let digits = ks_lines.to_string().len().max(1);
        assert_eq!(
            stdout(&stat),
            format!(
                "~ {:width$} | {:>digits$} +-\n+ {:width$} | {ks_lines:>digits$} {}\n\
                 2 files changed, {} insertions(+), 1 deletion(-)\n",
                "dhcp/dhcpd.conf",
                2,
                "kickstart/vali.example.org.ks",
                "+".repeat(ks_lines),
                ks_lines + 1,
            ),
            "{args:?}"
        );
    }
    assert_eq!(files(&out), before, "--check or --stat wrote");
    assert!(fs::read_to_string(&conf).unwrap().starts_with("# edited\n"));
}

/// `xenfab status` lists every host's state and where it comes from; `xenfab boot HOST`
/// without a state prints one host's; a recorded state the host cannot be in is the fabric's,
/// with a warning, as `render` does; a directory that is not there is an error.
#[test]
fn status_and_boot_without_a_state_say_each_hosts_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let status = |extra: &[&str]| {
        let o = xenfab(&[&["status", "--example", "-o", out_s][..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    let table = stdout(&status(&[]));
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["HOST", "DOM0", "STATE", "FROM"]);
    assert_eq!(rows.len(), 1 + 8, "{table}"); // the example's 3 dom0s and 5 guests
    assert!(rows.contains(&vec!["xen01.example.org", "-", "localboot", "fabric"]));
    assert!(rows.contains(&vec![
        "ullr.example.org",
        "xen01.example.org",
        "install",
        "fabric"
    ]));

    let one = xenfab(&["boot", "vali", "--example", "-o", out_s]);
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(stdout(&one), "localboot\n");
    assert!(stderr(&one).contains("the fabric's"), "{}", stderr(&one));

    assert!(
        xenfab(&["boot", "vali", "rescue", "--example", "-o", out_s])
            .status
            .success()
    );
    let one = xenfab(&["boot", "vali.example.org", "--example", "-o", out_s]);
    assert_eq!(stdout(&one), "rescue\n");
    assert!(
        stderr(&one).contains("recorded by `xenfab boot`"),
        "{}",
        stderr(&one)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&status(&["--json"]))).unwrap();
    let vali = json
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "vali.example.org")
        .unwrap();
    assert_eq!(
        vali,
        &serde_json::json!({"host": "vali.example.org", "dom0": "xen01.example.org",
                            "state": "rescue", "recorded": true})
    );

    // a guest has no reinstall: the recorded state is not used
    fs::write(
        out.join("tftpboot/.xenfab-boot-state.json"),
        r#"{"hosts": {"vali.example.org": "reinstall"}}"#,
    )
    .unwrap();
    let o = status(&[]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "vali.example.org",
                    "xen01.example.org",
                    "localboot",
                    "fabric"
                ]),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o)
            .contains("warning: recorded state `reinstall` of `vali.example.org` is not used"),
        "{}",
        stderr(&o)
    );

    let missing = dir.path().join("not-rendered");
    let o = xenfab(&["status", "--example", "-o", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("render the tree first"),
        "{}",
        stderr(&o)
    );
    assert!(!missing.exists());
}

/// `validate` writes nothing, and says only what it found: no "nothing written".
#[test]
fn validate_ends_with_the_count_alone() {
    for json in [false, true] {
        let path = case("invalid-everything");
        let args: &[&str] = if json {
            &["validate", "--json", &path]
        } else {
            &["validate", &path]
        };
        let o = xenfab(args);
        assert_eq!(o.status.code(), Some(1));
        let last = stderr(&o).lines().last().unwrap().to_owned();
        assert!(
            last.starts_with("xenfab: ") && last.ends_with(" error(s), 3 warning(s)"),
            "{last}"
        );
    }
}

/// `quattor validate --json` gives the diagnostics as `validate --json` does.
#[test]
fn quattor_validate_has_json() {
    let profiles = quattor_scenario().to_str().unwrap().to_owned();
    let o = xenfab(&["quattor", "validate", "--profiles", &profiles, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let diags: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["resolvedeps-ignored"]);
    // and a profile that is not one: a parse-error diagnostic, exit 1
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/quattor/bad");
    let o = xenfab(&[
        "quattor",
        "validate",
        "--profiles",
        bad.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(diags[0]["code"], "parse-error");
}

/// An unknown `--scheme` is answered with the schemes `mac` takes, not the fabric's `explicit`.
#[test]
fn an_unknown_scheme_names_only_the_schemes_that_derive() {
    let o = xenfab(&["mac", "--scheme", "bogus", "10.0.0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown MAC scheme `bogus`: expected `xen-last3` or `local-ipv4`\n"),
        "{}",
        stderr(&o)
    );
}

/// `xend-config` without a dom0 keeps `dom0-cpus` as the file has it: absent stays absent, a
/// value it does not read stays as it is.
#[test]
fn xend_config_without_a_dom0_leaves_dom0_cpus_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (file, cpus) in [
        ("(xend-relocation-server no)\n", None),
        ("(dom0-cpus two)\n", Some("(dom0-cpus two)")),
    ] {
        let path = dir.path().join("xend-config.sxp");
        fs::write(&path, file).unwrap();
        let o = xenfab(&["xend-config", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("(dom0-min-mem 0)\n(enable-dom0-ballooning no)\n"),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().filter(|l| l.contains("dom0-cpus")).collect();
        assert_eq!(lines, cpus.into_iter().collect::<Vec<_>>(), "{out}");
    }
}

/// A JSON fabric on standard input is read with `--format json` (TOML by default); a file
/// named otherwise too; and `--fabric FILE` is the same as FILE on `validate`, `report` and
/// `render`, as on the commands that take the fabric as an option.
#[test]
fn format_and_fabric_options_read_any_fabric_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let example: toml::Value = toml::from_str(xenfab_core::EXAMPLE).unwrap();
    let json = serde_json::to_string(&example).unwrap();
    let run_stdin = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), json.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run_stdin(&["validate", "--format", "json", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("<stdin>: ok: 3 dom0(s), 5 guest(s)"),
        "{}",
        stderr(&o)
    );
    let o = run_stdin(&["validate", "-"]); // TOML by default
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let odd = dir.path().join("site.fabric");
    fs::write(&odd, &json).unwrap();
    let odd = odd.to_str().unwrap();
    assert!(
        xenfab(&["validate", "--format", "json", odd])
            .status
            .success()
    );
    let toml_file = dir.path().join("fabric.toml");
    fs::write(&toml_file, xenfab_core::EXAMPLE).unwrap();
    let toml_file = toml_file.to_str().unwrap();
    for args in [
        &["validate", "--fabric", toml_file][..],
        &["report", "--fabric", toml_file],
        &["report", "--fabric", odd, "--format", "json"],
    ] {
        let o = xenfab(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let out = dir.path().join("out");
    let o = xenfab(&["render", "--fabric", toml_file, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("dhcp/dhcpd.conf").is_file());
    // FILE and --fabric together are refused, not guessed between
    let o = xenfab(&["validate", toml_file, "--fabric", toml_file]);
    assert_eq!(o.status.code(), Some(2));
}

/// The example with guest `ullr`'s memory doubled, in `dir`: a change to one guest.
fn example_with_ullr_doubled(dir: &Path) -> String {
    let example = stdout(&xenfab(&["example"]));
    let changed = example.replacen("memory = \"1024M\"", "memory = \"2048M\"", 1);
    assert_ne!(changed, example, "the example has no guest of 1024M");
    let path = dir.join("fabric.toml");
    fs::write(&path, changed).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Every file under `dir` with its contents (a link: its target), for "nothing changed".
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = fs::symlink_metadata(&p).unwrap();
            let name = p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&p).unwrap();
                out.push((name, target.to_str().unwrap().as_bytes().to_vec()));
            } else {
                out.push((name, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// `xenfab show HOST` lists the host's artefacts (`file`, `exec`, `link PATH -> TARGET`);
/// `xenfab show HOST ARTEFACT` prints each byte for byte as `xenfab render` writes it, by its
/// path in the tree, in the dom0's directory or in `tftpboot/`; nothing is written.
#[test]
fn show_lists_a_hosts_artefacts_and_prints_each_as_render_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let before = snapshot(&out);
    for host in ["xen01", "ullr.example.org", "vali"] {
        let o = xenfab(&["show", host, "--example"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let listing = stdout(&o);
        assert!(listing.lines().count() > 3, "{listing}");
        let mut paths = Vec::new();
        for line in listing.lines() {
            let (kind, rest) = line.split_once("  ").unwrap();
            let on_disk = |path: &str| out.join(path);
            match kind {
                "file" | "exec" => {
                    let meta = fs::symlink_metadata(on_disk(rest)).unwrap();
                    assert!(meta.is_file(), "{rest}");
                    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                    assert_eq!(mode & 0o111 != 0, kind == "exec", "{rest}");
                    let shown = xenfab(&["show", host, "--example", rest]);
                    assert!(shown.status.success(), "{rest}: {}", stderr(&shown));
                    assert_eq!(shown.stdout, fs::read(on_disk(rest)).unwrap(), "{rest}");
                    paths.push(rest);
                }
                "link" => {
                    let (path, target) = rest.split_once(" -> ").unwrap();
                    let on_disk = fs::read_link(on_disk(path)).unwrap();
                    assert_eq!(on_disk.to_str(), Some(target), "{path}");
                    let shown = xenfab(&["show", host, "--example", path]);
                    assert_eq!(stdout(&shown), format!("{target}\n"), "{path}");
                    paths.push(path);
                }
                other => panic!("{other}: {line}"),
            }
        }
        // in path order, and no file of the site's (they list every host)
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted);
        for site in [
            "dhcp/",
            "dns/",
            "inventory/hosts.csv",
            "inventory/capacity.txt",
        ] {
            assert!(!paths.iter().any(|p| p.starts_with(site)), "{host}: {site}");
        }
    }
    let shown = |args: &[&str]| {
        let o = xenfab(&[&["show"][..], args, &["--example"]].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        o.stdout
    };
    let read = |path: &str| fs::read(out.join(path)).unwrap();
    // a guest's config is its own artefact and its dom0's, by its path in the dom0's directory
    assert_eq!(
        shown(&["ullr", "xen/ullr"]),
        read("dom0s/xen01.example.org/xen/ullr")
    );
    assert_eq!(
        shown(&["xen01", "xen/ullr"]),
        read("dom0s/xen01.example.org/xen/ullr")
    );
    assert_eq!(
        shown(&["xen03", "grub/grub.cfg"]),
        read("dom0s/xen03.example.org/grub/grub.cfg")
    );
    assert_eq!(
        shown(&["ullr", "pxelinux.cfg/ullr.example.org.cfg"]),
        read("tftpboot/pxelinux.cfg/ullr.example.org.cfg")
    );
    let listing = String::from_utf8(shown(&["ullr"])).unwrap();
    assert!(
        listing
            .contains("link  tftpboot/pxelinux.cfg/01-00-16-3e-a8-60-2b -> ullr.example.org.cfg\n"),
        "{listing}"
    );
    assert!(!listing.contains("xen01.example.org.ks"), "{listing}");
    assert_eq!(snapshot(&out), before, "show wrote into the tree");

    // it needs a fabric, as `boot` and `status` do
    let o = xenfab(&["show", "xen01"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--fabric FILE"), "{}", stderr(&o));
}

/// `show -o DIR` renders the hosts in the states `xenfab boot` recorded there, as `render -o
/// DIR` does: what it prints is what the render wrote.
#[test]
fn show_with_a_tree_uses_its_recorded_boot_states() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let o = xenfab(&["boot", "vali", "rescue", "--example", "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let link = "link  tftpboot/pxelinux.cfg/01-00-16-3e-a8-60-2c -> ";
    let listing = |extra: &[&str]| {
        let o = xenfab(&[&["show", "vali", "--example"][..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    assert!(listing(&[]).contains(&format!("{link}localboot.cfg\n")));
    let recorded = listing(&["-o", out_s]);
    assert!(
        recorded.contains(&format!("{link}vali.example.org.rescue.cfg\n")),
        "{recorded}"
    );
    let tftp = out.join("tftpboot");
    assert_eq!(listing(&["--tftp-root", tftp.to_str().unwrap()]), recorded);
    // the render keeps the state: the tree holds what show printed
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let provision = "dom0s/xen01.example.org/libvirt/vali.xml";
    let o = xenfab(&["show", "vali", provision, "--example", "-o", out_s]);
    assert_eq!(o.stdout, fs::read(out.join(provision)).unwrap());
    // a tree that is not there is an error, not a tree without recorded states
    let o = xenfab(&[
        "show",
        "vali",
        "--example",
        "-o",
        dir.path().join("nope").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// An unknown host or artefact is an error that names it and the ones there are; hostile
/// names are names, never paths: nothing outside the rendered host is read or printed.
#[test]
fn show_refuses_unknown_and_hostile_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    fs::write(dir.path().join("secret"), "SECRET\n").unwrap();
    let before = snapshot(&out);
    let o = xenfab(&["show", "nope", "--example"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no host `nope`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("xen01, ullr, vali"), "{}", stderr(&o));

    let o = xenfab(&["show", "xen01", "nope.cfg", "--example"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("`xen01.example.org` has no artefact `nope.cfg`"),
        "{err}"
    );
    assert!(err.contains("kickstart/xen01.example.org.ks"), "{err}");
    // another host's artefact is not this one's
    let o = xenfab(&[
        "show",
        "ullr",
        "kickstart/xen01.example.org.ks",
        "--example",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // the site's files are no host's
    let o = xenfab(&["show", "xen01", "dhcp/dhcpd.conf", "--example"]);
    assert_eq!(o.status.code(), Some(1));

    for artefact in [
        "../secret",
        "../../secret",
        "dom0s/xen01.example.org/../../../secret",
        "kickstart/../../secret",
        "/etc/passwd",
        "xen/ullr\" ; cat ../secret",
        "xen/ullr\n",
        "",
    ] {
        for tree in [&[][..], &["-o", out_s][..]] {
            let o = xenfab(&[&["show", "xen01", artefact, "--example"][..], tree].concat());
            assert_eq!(o.status.code(), Some(1), "{artefact:?}");
            assert!(stdout(&o).is_empty(), "{artefact:?}");
            let err = stderr(&o);
            assert!(!err.contains("SECRET") && !err.contains("root:"), "{err}");
            // one line: a newline in the name is escaped
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        }
    }
    for host in [
        "../xen01", "xen01/..", "xen01\"", "xen01'", "xen01\n", "*", "",
    ] {
        let o = xenfab(&["show", host, "--example", "-o", out_s]);
        assert_eq!(o.status.code(), Some(1), "{host:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{host:?}");
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
    assert_eq!(snapshot(&out), before, "show wrote into the tree");
}

/// `render --host HOST` writes (or with `--dry-run`, `--check` or `--stat` shows) that host's
/// entries alone, and says what it left out of date; another host's file edited by hand and
/// the site's files stay as they are until a render without `--host`, which makes the tree
/// whole again.
#[test]
fn render_host_writes_one_hosts_entries_and_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    assert!(
        xenfab(&["render", "--example", "-o", out_s])
            .status
            .success()
    );
    let fabric = example_with_ullr_doubled(dir.path());
    let bragi = out.join("kickstart/bragi.example.org.ks");
    let mut edited = fs::read_to_string(&bragi).unwrap();
    edited.push_str("# by hand\n");
    fs::write(&bragi, &edited).unwrap();
    let before = snapshot(&out);
    let render =
        |extra: &[&str]| xenfab(&[&["render", fabric.as_str(), "-o", out_s][..], extra].concat());
    let ullrs = [
        "dom0s/xen01.example.org/libvirt/ullr.xml",
        "dom0s/xen01.example.org/xen/ullr",
        "inventory/hosts/ullr.example.org.json",
        "kickstart/ullr.example.org.ks",
    ];
    // xen01's part holds ullr's config in provision.sh; xen02's, bragi's edited kickstart
    let left = "left as they are, and out of date: the site's files that list every host, and \
                files of xen01.example.org, xen02.example.org or their guests; a render without \
                --host writes them";
    // what stderr says of ullr's four changed files, and of what was left
    let says_ullr_and_left = |o: &std::process::Output, summary: &str| {
        let err = stderr(o);
        let ullr = "for ullr.example.org: 0 created, 4 changed, 3 unchanged, 0 removed";
        assert!(err.contains(&format!("{summary} {ullr}")), "{err}");
        assert!(err.contains(left), "{err}");
    };

    let o = render(&["--host", "ullr", "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let diff = stdout(&o);
    let shown: Vec<&str> = diff
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .collect();
    assert_eq!(shown, ullrs, "{diff}");
    says_ullr_and_left(&o, &format!("dry run: would write {out_s}"));

    let o = render(&["--host", "ullr", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = render(&["--host", "xen03", "--host", "idunn.example.org", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).is_empty());
    // what a render of xen03 alone leaves out of date is ullr's change elsewhere
    assert!(stderr(&o).contains(left), "{}", stderr(&o));
    // the hand edit is bragi's to show
    let o = render(&["--host", "bragi", "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("-# by hand"), "{}", stdout(&o));

    let o = render(&["--host", "xen01", "--stat"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stat = stdout(&o);
    let paths: Vec<&str> = stat
        .lines()
        .filter_map(|l| l.strip_prefix("~ "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "dom0s/xen01.example.org/libvirt/ullr.xml",
            "dom0s/xen01.example.org/provision.sh",
            "dom0s/xen01.example.org/xen/ullr",
            "inventory/hosts/xen01.example.org.json",
        ],
        "{stat}"
    );
    assert!(
        stat.ends_with("4 files changed, 5 insertions(+), 5 deletions(-)\n"),
        "{stat}"
    );

    // an unknown host writes nothing, and makes no directory
    for extra in [&["--dry-run"][..], &[]] {
        let o = render(&[&["--host", "nope"][..], extra].concat());
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("no host `nope`"), "{}", stderr(&o));
    }
    let missing = dir.path().join("missing");
    let o = xenfab(&[
        "render",
        fabric.as_str(),
        "-o",
        missing.to_str().unwrap(),
        "--host",
        "../xen01",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!missing.exists());
    assert_eq!(snapshot(&out), before, "nothing was written so far");

    // the write: ullr's four files, and nothing else
    let o = render(&["--host", "ullr"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = stdout(&o);
    let written: Vec<&str> = lines
        .lines()
        .map(|l| l.strip_prefix("~ ").unwrap())
        .collect();
    assert_eq!(written, ullrs);
    says_ullr_and_left(&o, out_s);
    let files = |snap: Vec<(String, Vec<u8>)>| -> std::collections::BTreeMap<String, Vec<u8>> {
        snap.into_iter()
            .filter(|(path, _)| !path.starts_with('.'))
            .collect()
    };
    let (old, now) = (files(before), files(snapshot(&out)));
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>()
    );
    let differ: Vec<&str> = now
        .iter()
        .filter(|(path, bytes)| old[*path] != **bytes)
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(differ, ullrs);
    assert_eq!(fs::read_to_string(&bragi).unwrap(), edited);
    // ullr is up to date; the rest is not, as the note said
    let o = render(&["--host", "ullr", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stderr(&o).contains(left), "{}", stderr(&o));
    let o = render(&["--check", "--stat"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let stat = stdout(&o);
    for path in [
        "inventory/capacity.txt",
        "dom0s/xen01.example.org/provision.sh",
        "kickstart/bragi.example.org.ks",
    ] {
        assert!(stat.contains(path), "{stat}");
    }

    // and the next full render is whole and right
    let o = render(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("left as they are"), "{}", stderr(&o));
    assert!(
        !fs::read_to_string(&bragi).unwrap().contains("# by hand"),
        "the full render put bragi's kickstart back"
    );
    let o = render(&["--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let fresh = dir.path().join("fresh");
    let o = xenfab(&["render", fabric.as_str(), "-o", fresh.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files(snapshot(&out)), files(snapshot(&fresh)));
}

/// `report --host` reports the dom0s named, a guest's name its dom0, in the fabric's order.
#[test]
fn report_host_reports_the_dom0s_named() {
    let dom0s = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains(": hardware "))
            .map(|l| l.split(':').next().unwrap().to_owned())
            .collect()
    };
    let all = xenfab(&["report", "--example"]);
    assert_eq!(
        dom0s(&stdout(&all)),
        [
            "xen01.example.org",
            "xen02.example.org",
            "xen03.example.org"
        ]
    );
    let o = xenfab(&["report", "--example", "--host", "xen03", "--host", "ullr"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        dom0s(&stdout(&o)),
        ["xen01.example.org", "xen03.example.org"]
    );
    // each section as in the whole report
    let section = |text: &str, dom0: &str| -> String {
        text.split("\n\n")
            .find(|s| s.starts_with(dom0))
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        section(&stdout(&o), "xen01"),
        section(&stdout(&all), "xen01")
    );
    let o = xenfab(&[
        "report",
        "--example",
        "--json",
        "--host",
        "skadi.example.org",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dom0"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["xen02.example.org"]);
    let o = xenfab(&["report", "--example", "--host", "../xen01"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no host `../xen01`"), "{}", stderr(&o));
}

/// The entries of `snapshot(dir)` below `prefix` (`dhcp/`, `tftpboot/`).
fn below(snapshot: &[(String, Vec<u8>)], prefix: &str) -> Vec<(String, Vec<u8>)> {
    snapshot
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .cloned()
        .collect()
}

/// `--no-dhcp` and `--no-tftp` leave `dhcp/` and `tftpboot/` exactly as they are, files edited
/// by hand and those of a guest gone included, in a render and in `--dry-run`, `--check` and
/// `--stat`; a later render without them brings the directories up to date, whatever the
/// runs in between rendered (the parts they rendered are not taken for up to date).
#[test]
fn no_dhcp_and_no_tftp_leave_their_directories_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let render = |fabric: &str, more: &[&str]| {
        let o = xenfab(&[&["render", fabric, "-o", out_s][..], more].concat());
        assert!(o.status.success(), "{more:?}: {}", stderr(&o));
        o
    };
    let example = dir.path().join("example.toml");
    fs::write(&example, xenfab_core::EXAMPLE).unwrap();
    let example = example.to_str().unwrap();
    render(example, &[]);

    // the example without the guest vali: its DHCP entries and network boot files go
    let without_vali = xenfab_core::EXAMPLE.replace("name = \"vali\"", "name = \"vali-gone\"");
    let start = without_vali
        .find("  [[dom0s.guests]]\n  name = \"vali-gone\"")
        .unwrap();
    let end = start + without_vali[start..].find("\n\n").unwrap();
    let fabric = dir.path().join("fabric.toml");
    fs::write(
        &fabric,
        format!("{}{}", &without_vali[..start], &without_vali[end..]),
    )
    .unwrap();
    let fabric = fabric.to_str().unwrap();
    let conf = out.join("dhcp/dhcpd.conf");
    let edited = format!("{}# mine\n", fs::read_to_string(&conf).unwrap());
    fs::write(&conf, &edited).unwrap();
    let dhcp = below(&snapshot(&out), "dhcp/");

    // --no-dhcp: nothing of dhcp/ shown or written; vali's boot files go
    let before = snapshot(&out);
    for show in [
        &["--dry-run"][..],
        &["--check"],
        &["--stat"],
        &["--check", "--stat"],
    ] {
        let o = xenfab(&[&["render", fabric, "-o", out_s, "--no-dhcp"][..], show].concat());
        assert_eq!(
            o.status.code(),
            Some(i32::from(show.contains(&"--check"))),
            "{show:?}: {}",
            stderr(&o)
        );
        assert!(!stdout(&o).contains("dhcp/"), "{show:?}: {}", stdout(&o));
        assert!(
            stdout(&o).contains("tftpboot/pxelinux.cfg/vali.example.org.cfg"),
            "{show:?}: {}",
            stdout(&o)
        );
    }
    assert!(snapshot(&out) == before, "a dry run wrote");
    let o = render(fabric, &["--no-dhcp"]);
    assert!(!stdout(&o).contains("dhcp/"), "{}", stdout(&o));
    assert!(stdout(&o).contains("- tftpboot/pxelinux.cfg/vali.example.org.cfg"));
    assert!(below(&snapshot(&out), "dhcp/") == dhcp);
    let o = xenfab(&["render", fabric, "-o", out_s, "--no-dhcp", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // --no-tftp, back to the example: dhcp/ is rendered (vali back, the edit gone), and
    // tftpboot/ left without vali's files and with a file edited by hand
    let localboot = out.join("tftpboot/pxelinux.cfg/localboot.cfg");
    fs::write(&localboot, "# mine\n").unwrap();
    let tftp = below(&snapshot(&out), "tftpboot/");
    let o = render(example, &["--no-tftp"]);
    assert!(!stdout(&o).contains("tftpboot/"), "{}", stdout(&o));
    assert!(stdout(&o).contains("~ dhcp/dhcpd.conf"), "{}", stdout(&o));
    assert!(below(&snapshot(&out), "tftpboot/") == tftp);
    assert!(!fs::read_to_string(&conf).unwrap().contains("# mine"));
    let o = xenfab(&["render", example, "-o", out_s, "--no-tftp", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = render(example, &["--no-tftp", "--no-dhcp"]);
    assert_eq!(stdout(&o), "");

    // a render of everything puts tftpboot/ right: vali's files back, the edit undone
    let o = xenfab(&["render", example, "-o", out_s, "--check", "--stat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("+ tftpboot/pxelinux.cfg/vali.example.org.cfg"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("~ tftpboot/pxelinux.cfg/localboot.cfg"));
    render(example, &[]);
    let fresh = dir.path().join("fresh");
    let o = xenfab(&["render", example, "-o", fresh.to_str().unwrap()]);
    assert!(o.status.success());
    // the zones' serials moved with their records; the rest is what a first render writes
    let ours = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        snapshot(dir)
            .into_iter()
            .filter(|(name, _)| !name.starts_with('.') && !name.starts_with("dns/"))
            .collect()
    };
    assert!(ours(&out) == ours(&fresh), "the tree is not the fabric's");
    let o = xenfab(&["render", example, "-o", out_s, "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// The compiled profiles of the golden case `quattor-scenario`.
fn quattor_scenario() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/quattor-scenario/profiles")
}

/// `xenfab quattor render --profiles <quattor-scenario> -o OUT EXTRA...`.
fn quattor_render(out: &Path, extra: &[&str]) -> std::process::Output {
    let profiles = quattor_scenario();
    let base = [
        "quattor",
        "render",
        "--profiles",
        profiles.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    xenfab(&[&base[..], extra].concat())
}

/// `xenfab quattor render` takes `--no-dhcp` and `--no-tftp` too: a first render makes
/// neither directory.
#[test]
fn quattor_render_leaves_dhcp_and_tftp_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = quattor_render(&out, &["--no-dhcp", "--no-tftp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("kickstart").is_dir());
    assert!(!out.join("dhcp").exists());
    assert!(!out.join("tftpboot").exists());
}

/// `xenfab quattor render --host` writes that host's artefacts alone, as `render --host` does.
#[test]
fn quattor_render_writes_one_hosts_artefacts() {
    let profiles = quattor_scenario();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let quattor_render = |extra: &[&str]| quattor_render(&out, extra);
    let o = quattor_render(&["--host", "xen-guest"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("for xen-guest.example.org: "),
        "{}",
        stderr(&o)
    );
    // what was written is what `show` lists of xen-guest
    let mut written: Vec<String> = snapshot(&out)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| !path.starts_with('.'))
        .collect();
    written.sort();
    let show = xenfab(&[
        "show",
        "xen-guest",
        "--profiles",
        profiles.to_str().unwrap(),
    ]);
    assert!(show.status.success(), "{}", stderr(&show));
    let listed: Vec<String> = stdout(&show)
        .lines()
        .map(|line| line.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    assert!(!listed.is_empty());
    assert_eq!(written, listed);
    // the whole render after it writes the rest, and is then up to date
    assert!(quattor_render(&[]).status.success());
    assert_eq!(quattor_render(&["--check"]).status.code(), Some(0));
}

/// The example, with ullr given 8 vCPUs: xen01's dom0 and guests then have 10 on its 8 CPUs,
/// a warning.
fn example_with_vcpu_overcommit() -> String {
    let o = xenfab(&["example"]);
    let text = stdout(&o);
    let out = text.replacen(
        "  memory = \"1024M\"\n  disks = [{ size = \"20G\" }]",
        "  memory = \"1024M\"\n  vcpus = 8\n  disks = [{ size = \"20G\" }]",
        1,
    );
    assert_ne!(out, text, "the example's ullr has changed");
    out
}

#[test]
fn report_html_draws_every_dom0_and_guest_the_same_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let out = out.to_str().unwrap();
    let o = xenfab(&["report", "--example", "--html", out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "the page goes to the file alone");
    let first = fs::read(out).unwrap();
    let html = String::from_utf8(first.clone()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for name in [
        "xen01.example.org",
        "xen02.example.org",
        "xen03.example.org",
        "ullr",
        "vali",
        "bragi",
        "skadi",
        "idunn",
    ] {
        assert!(html.contains(name), "{name} missing");
    }
    assert_eq!(html.matches("class=\"card dom0-section\"").count(), 3);
    // self-contained: no script, nothing fetched
    for bad in [
        "<script", "<link", "src=", "url(", "@import", "http://", "https://",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    // the same bytes again, and on standard output with `-`; no temporary file left
    let o = xenfab(&["report", "--example", "--html", out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read(out).unwrap(), first);
    assert_eq!(files(dir.path()), ["report.html"]);
    let o = xenfab(&["report", "--html", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, first);
    // --host keeps the dom0s named
    let o = xenfab(&["report", "--example", "--host", "skadi", "--html", "-"]);
    let one = stdout(&o);
    assert!(one.contains("xen02.example.org") && !one.contains("xen01.example.org"));
}

/// Warnings are shown in their dom0's section, and every string from outside is escaped:
/// here the fabric file's name, which the page and each warning's location show.
#[test]
fn report_html_shows_warnings_and_escapes_what_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let fabric = dir
        .path()
        .join("<script>alert(1)<\\script>\"onload='x'.toml");
    fs::write(&fabric, example_with_vcpu_overcommit()).unwrap();
    let o = xenfab(&["report", fabric.to_str().unwrap(), "--html", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning[vcpu-overcommit]"),
        "{}",
        stderr(&o)
    );
    let html = stdout(&o);
    assert!(!html.contains("<script"), "unescaped name");
    assert!(!html.contains("\"onload"), "unescaped quote");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;\\script&gt;&quot;onload=&#x27;x&#x27;.toml"));
    let xen01 = html
        .split("class=\"card dom0-section\"")
        .skip(1)
        .find(|s| s.contains("xen01.example.org"))
        .unwrap();
    assert!(xen01.contains("vcpu-overcommit"), "{xen01}");
    assert!(xen01.contains("vCPUs over-committed"));
    let xen02 = html
        .split("class=\"card dom0-section\"")
        .skip(1)
        .find(|s| s.contains("xen02.example.org"))
        .unwrap();
    assert!(!xen02.contains("vcpu-overcommit"));
}

#[test]
fn report_html_refuses_a_directory_and_writes_nothing_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = xenfab(&[
        "report",
        "--example",
        "--html",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    assert!(files(dir.path()).is_empty());
    // an invalid fabric: an old page is kept whole, and no temporary file is left
    let out = dir.path().join("report.html");
    fs::write(&out, "old page").unwrap();
    let o = xenfab(&[
        "report",
        &case("hostile-names"),
        "--html",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&out).unwrap(), "old page");
    assert_eq!(files(dir.path()), ["report.html"]);
    // a missing directory: an I/O error, nothing made
    let o = xenfab(&[
        "report",
        "--example",
        "--html",
        dir.path().join("no/such/report.html").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(files(dir.path()), ["report.html"]);
    // --json and --html do not go together
    let o = xenfab(&["report", "--json", "--html", "-"]);
    assert_eq!(o.status.code(), Some(2));
}
