//! What keeps a user's files safe: no command writes without being told which fabric, a tree
//! is never replaced by another site's or mostly emptied by mistake, runs into one tree take
//! turns, and input is bounded and UTF-8.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{fabric, scratch_dir, snapshot, stderr, stdout, xenfab};
use xenfab_core::output::{LOCK_FILE, LockKind, TreeLock};

/// A rendered example tree in `dir/out`, and its path as text.
fn rendered_example(dir: &Path) -> String {
    let out = dir.join("out");
    let o = xenfab(&["render", "--example", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    out.to_str().unwrap().to_owned()
}

#[test]
fn commands_that_write_need_a_fabric_and_write_nothing_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = rendered_example(dir.path());
    let before = snapshot(dir.path());
    let sxp = dir.path().join("xend-config.sxp");
    fs::write(&sxp, "(dom0-min-mem 196)\n").unwrap();
    let dhcpd = dir.path().join("dhcpd.conf");
    fs::write(&dhcpd, "subnet 192.168.96.0 netmask 255.255.255.0 {\n}\n").unwrap();
    let before_files = snapshot(dir.path());
    let fresh = dir.path().join("fresh");
    for (args, wanted) in [
        (
            vec!["render", "-o", fresh.to_str().unwrap()],
            "`xenfab render` writes files and needs a fabric: give a fabric FILE (`-` for standard input), or --example for the built-in example site",
        ),
        (
            vec!["render", "-o", &out],
            "`xenfab render` writes files and needs a fabric",
        ),
        (
            vec!["render", "-o", &out, "--dry-run"],
            "`xenfab render` writes files and needs a fabric",
        ),
        (
            vec!["boot", "ullr", "install", "-o", &out],
            "`xenfab boot` needs a fabric: give --fabric FILE, --profiles DIR (Quattor profiles), or --example for the built-in example site",
        ),
        (
            vec!["dhcpd-config", "-i", dhcpd.to_str().unwrap()],
            "`xenfab dhcpd-config` needs a fabric",
        ),
        (
            vec![
                "xend-config",
                "-i",
                "--dom0",
                "xen01",
                sxp.to_str().unwrap(),
            ],
            "`xenfab xend-config --dom0` needs a fabric",
        ),
    ] {
        let o = xenfab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(wanted), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
        assert!(!fresh.exists(), "{args:?} created the output directory");
        assert!(snapshot(dir.path()) == before_files, "{args:?} wrote");
    }
    // Given explicitly, the example works; a fabric given to xend-config without --dom0 is a
    // mistake, not ignored.
    let o = xenfab(&["xend-config", "--fabric", "x.toml", sxp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("only used with --dom0"),
        "{}",
        stderr(&o)
    );
    let o = xenfab(&["boot", "ullr", "install", "--example", "-o", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(snapshot(dir.path()) != before);
    let o = xenfab(&["dhcpd-config", "--example", dhcpd.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ullr"), "{}", stdout(&o));
    let o = xenfab(&[
        "xend-config",
        "--example",
        "--dom0",
        "xen01",
        sxp.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The dom0's xend makes the bridge of its network.
    assert!(
        stdout(&o).contains("(network-script 'network-bridge bridge=xenbr0 netdev=eth0')\n"),
        "{}",
        stdout(&o)
    );
    // Read-only commands keep the example as their default.
    assert!(xenfab(&["validate"]).status.success());
    assert!(xenfab(&["validate", "--example"]).status.success());
    assert!(xenfab(&["report"]).status.success());
    // `-i -` would replace a file called `-`.
    let o = xenfab(&["dhcpd-config", "--example", "-i", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--in-place needs a file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn another_sites_tree_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = rendered_example(dir.path());
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(Path::new(&out).join(".xenfab-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["format"], 5);
    assert_eq!(
        manifest["site"],
        serde_json::json!({"name": "grid", "domain": "example.org", "origin": "<example>"})
    );
    let lab = dir.path().join("lab.toml");
    fs::write(
        &lab,
        xenfab_core::EXAMPLE.replace("name = \"grid\"", "name = \"lab\""),
    )
    .unwrap();
    let lab = lab.to_str().unwrap();
    let before = snapshot(Path::new(&out));
    for dry in [false, true] {
        let mut args = vec!["render", lab, "-o", &out];
        if dry {
            args.push("--dry-run");
        }
        let o = xenfab(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).trim_end(),
            format!(
                "xenfab: error: `{out}` holds the artefacts of site `grid` (example.org, from `<example>`), not of site `lab` (example.org, from `{lab}`): nothing written; give --force to render anyway"
            )
        );
        assert!(stdout(&o).is_empty());
        assert!(snapshot(Path::new(&out)) == before, "something was written");
    }
    let o = xenfab(&["render", lab, "-o", &out, "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(Path::new(&out).join(".xenfab-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["site"]["name"], "lab");
    assert_eq!(manifest["site"]["origin"], lab);
    // From now on the tree is the lab's: the same site renders without --force, from
    // anywhere.
    let moved = dir.path().join("moved.toml");
    fs::copy(lab, &moved).unwrap();
    assert!(
        xenfab(&["render", moved.to_str().unwrap(), "-o", &out])
            .status
            .success()
    );
    assert_eq!(
        xenfab(&["render", "--example", "-o", &out]).status.code(),
        Some(1)
    );
}

#[test]
fn a_render_that_would_remove_more_than_half_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let ten = dir.path().join("ten.toml");
    fs::write(&ten, fabric("big", 10, "1024M")).unwrap();
    let four = dir.path().join("four.toml");
    fs::write(&four, fabric("big", 4, "1024M")).unwrap();
    let six = dir.path().join("six.toml");
    fs::write(&six, fabric("big", 6, "1024M")).unwrap();
    assert!(
        xenfab(&["render", ten.to_str().unwrap(), "-o", out_s])
            .status
            .success()
    );
    let before = snapshot(&out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join(".xenfab-manifest.json")).unwrap()).unwrap();
    let owned = manifest["entries"].as_object().unwrap().len();
    let o = xenfab(&["render", four.to_str().unwrap(), "-o", out_s]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "xenfab: error: rendering into `{out_s}` would remove "
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            " of the {owned} entries xenfab wrote there (more than half): nothing written; give --force to render anyway"
        )),
        "{err}"
    );
    assert!(snapshot(&out) == before, "something was written");
    // Removing less than half is an ordinary render; more with --force too.
    assert!(
        xenfab(&["render", six.to_str().unwrap(), "-o", out_s])
            .status
            .success()
    );
    let o = xenfab(&["render", four.to_str().unwrap(), "-o", out_s, "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("- dom0s/xen0005.example.org/"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_held_lock_makes_a_render_wait_or_fail_with_no_wait() {
    let dir = tempfile::tempdir().unwrap();
    let out = rendered_example(dir.path());
    let lock = TreeLock::acquire(Path::new(&out), LockKind::Exclusive, |_| false).unwrap();
    let before = snapshot(Path::new(&out));
    for args in [
        vec!["render", "--example", "-o", &out, "--no-wait"],
        vec!["render", "--example", "-o", &out, "--dry-run", "--no-wait"],
        vec![
            "boot",
            "ullr",
            "install",
            "--example",
            "-o",
            &out,
            "--no-wait",
        ],
    ] {
        let o = xenfab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let lock_file = Path::new(&out).join(LOCK_FILE);
        let holder = if Path::new("/proc/self").exists() {
            format!(" (pid {})", std::process::id())
        } else {
            String::new()
        };
        assert_eq!(
            stderr(&o).trim_end(),
            format!(
                "xenfab: error: `{}` is locked by another xenfab run{holder}: try again when it is done, or leave out --no-wait to wait",
                lock_file.display()
            ),
            "{args:?}"
        );
        assert!(snapshot(Path::new(&out)) == before, "{args:?} wrote");
    }
    // Without --no-wait it says once that it waits, and renders once the lock is free.
    let child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(["boot", "ullr", "install", "--example", "-o", &out])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(snapshot(Path::new(&out)) == before, "it did not wait");
    drop(lock);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("waiting for it").count(), 1, "{err}");
    assert!(
        stdout(&o).contains("ullr.example.org.cfg"),
        "{}",
        stdout(&o)
    );
    assert!(
        !Path::new(&out).join(LOCK_FILE).exists(),
        "the lock file stays behind"
    );
}

#[test]
fn a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = rendered_example(dir.path());
    let before = snapshot(dir.path());
    let o = xenfab(&["render", "--example", "-o", &out, "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(snapshot(dir.path()) == before);
    let missing = dir.path().join("missing");
    let o = xenfab(&[
        "render",
        "--example",
        "-o",
        missing.to_str().unwrap(),
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!missing.exists());
}

#[test]
fn two_renders_into_one_directory_both_succeed_and_equal_a_fresh_render() {
    let dir = scratch_dir();
    let file = dir.path().join("fabric.toml");
    fs::write(&file, fabric("pair", 200, "1024M")).unwrap();
    let file = file.to_str().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let fresh = dir.path().join("fresh");
    let mut waited = 0;
    for _ in 0..3 {
        let _ = fs::remove_dir_all(&out);
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_xenfab"))
                .args(["render", file, "-o", out_s])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success(), "{}", stderr(&a));
        assert!(b.status.success(), "{}", stderr(&b));
        waited += [&a, &b]
            .iter()
            .filter(|o| stderr(o).contains("waiting for it"))
            .count();
    }
    // How often one run found the other holding the lock (timing decides; both succeed
    // either way).
    eprintln!("{waited} of 3 pairs had a run wait for the other");
    let o = xenfab(&["render", file, "-o", fresh.to_str().unwrap()]);
    assert!(o.status.success());
    let (got, want) = (snapshot(&out), snapshot(&fresh));
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the tree differs from a fresh render");
}

#[test]
fn validate_json_reports_a_parse_error_as_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fabric.toml");
    fs::write(&file, "version = 1\n[site]\nname = \"x\n").unwrap();
    let o = xenfab(&["validate", "--json", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let diags = diags.as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "parse-error");
    assert_eq!(diags[0]["severity"], "error");
    assert_eq!(diags[0]["location"]["file"], file.to_str().unwrap());
    assert_eq!(diags[0]["location"]["line"], 3);
    assert!(diags[0]["location"]["column"].is_u64(), "{diags:?}");
    assert!(!diags[0]["message"].as_str().unwrap().is_empty());
    // So is an unknown key (a parse error too), and JSON input.
    let json = dir.path().join("fabric.json");
    fs::write(&json, "{\"version\": 1, \"sit\": {}}").unwrap();
    let o = xenfab(&["validate", "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(diags[0]["code"], "parse-error", "{diags}");
    assert_eq!(diags[0]["location"]["line"], 1, "{diags}");
}

#[test]
fn input_is_capped_at_64_mib() {
    // An endless stream, as a file and as standard input: refused after 64 MiB, quickly.
    for args in [
        vec!["validate", "/dev/zero"],
        vec!["validate", "--json", "/dev/zero"],
        vec!["ks", "reinstall", "/dev/zero"],
        vec!["dhcpd-config", "--example", "/dev/zero"],
        vec!["xend-config", "/dev/zero"],
    ] {
        let o = xenfab(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("/dev/zero: larger than 64 MiB: refusing it"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(["render", "-", "-o", "/nonexistent/out"])
        .stdin(fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("<stdin>: larger than 64 MiB"),
        "{}",
        stderr(&o)
    );
    // A sparse file just over the cap is refused too; one at the cap is read (and is not a
    // fabric).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let f = fs::File::create(&big).unwrap();
    f.set_len(64 * 1024 * 1024 + 1).unwrap();
    let o = xenfab(&["validate", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("larger than 64 MiB"), "{}", stderr(&o));
    f.set_len(64 * 1024 * 1024).unwrap();
    let o = xenfab(&["validate", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("larger than"), "{}", stderr(&o));
}

#[test]
fn input_that_is_not_utf8_is_refused_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fabric.toml");
    fs::write(&file, b"version = 1\n[site]\nname = \"gr\xe9d\"\n").unwrap();
    let path = file.to_str().unwrap();
    let wanted = format!(
        "xenfab: error: {path}:3:11: not UTF-8 text: byte 0xe9 at offset 29; xenfab reads UTF-8 only"
    );
    for args in [
        vec!["validate", path],
        vec!["render", path, "-o", "/nonexistent/out"],
        vec!["ks", "reinstall", path],
        vec!["xend-config", path],
        vec!["dhcpd-config", "--example", path],
        vec![
            "boot",
            "ullr",
            "install",
            "--fabric",
            path,
            "-o",
            "/nonexistent",
        ],
    ] {
        let o = xenfab(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim_end(), wanted, "{args:?}");
    }
    // Through standard input too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\xff").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("<stdin>:1:1: not UTF-8 text: byte 0xff"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn in_place_edits_keep_the_mode_and_leave_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let sxp = dir.path().join("xend-config.sxp");
    fs::write(&sxp, "(dom0-min-mem 196)\n").unwrap();
    fs::set_permissions(&sxp, fs::Permissions::from_mode(0o600)).unwrap();
    let o = xenfab(&["xend-config", "-i", sxp.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        fs::read_to_string(&sxp)
            .unwrap()
            .contains("(dom0-min-mem 0)")
    );
    assert_eq!(
        fs::metadata(&sxp).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["xend-config.sxp"]);
}

#[test]
fn quattor_profiles_are_a_fabric_for_writers_too() {
    let profiles =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/quattor-scenario/profiles");
    let profiles = profiles.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = rendered_example(dir.path());
    // `quattor render` of the profiles' site into the example's tree is another site.
    let before = snapshot(Path::new(&out));
    let o = xenfab(&["quattor", "render", "--profiles", profiles, "-o", &out]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds the artefacts of site `grid` (example.org, from `<example>`), not of site `quattor` (example.org, from `"),
        "{}",
        stderr(&o)
    );
    assert!(snapshot(Path::new(&out)) == before);
    let o = xenfab(&[
        "quattor",
        "render",
        "--profiles",
        profiles,
        "-o",
        &out,
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(Path::new(&out).join(".xenfab-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["site"]["name"], "quattor");
    assert_eq!(manifest["site"]["origin"], profiles);
    // dhcpd-config takes the profiles as its fabric.
    let conf = dir.path().join("dhcpd.conf");
    fs::write(&conf, "subnet 192.168.0.0 netmask 255.255.255.0 {\n}\n").unwrap();
    let o = xenfab(&[
        "dhcpd-config",
        "--profiles",
        profiles,
        conf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("# BEGIN xenfab managed hosts"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("xen-guest"), "{}", stdout(&o));
}
