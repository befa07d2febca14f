//! The golden corpus: every folder under `tests/cases/` is one case, read by this one harness.
//!
//! A case holds `fabric.toml` (or `fabric.json`, or a folder `profiles/` of compiled Quattor
//! profiles) and what xenfab must make of it:
//! - `diagnostics.txt`: every diagnostic, one a line, exactly as `xenfab validate` prints
//!   them (absent when there are none);
//! - `expected/`: the rendered tree, file for file (absent when the fabric has errors).
//!
//! Adding a case is adding a folder. `XENFAB_BLESS=1 cargo test --test golden` writes what
//! xenfab makes now into the cases; review the diff before committing it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use xenfab_core::output::Entry;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

fn bless() -> bool {
    std::env::var_os("XENFAB_BLESS").is_some_and(|v| v == "1")
}

/// What xenfab makes of a case: its diagnostics text and its rendered tree.
struct Outcome {
    diagnostics: String,
    tree: Option<BTreeMap<String, Entry>>,
}

fn run(input: &Path) -> Outcome {
    let name = input.file_name().unwrap().to_str().unwrap();
    let loaded = if input.is_dir() {
        xenfab_core::input::quattor::load_dir(input)
    } else {
        xenfab_core::load(&fs::read_to_string(input).unwrap(), name)
    };
    // Diagnostics name a profile folder by its full path: show it by its name, as for files.
    let shown = |text: String| text.replace(&input.display().to_string(), name);
    match loaded {
        Ok(loaded) => {
            let tree = xenfab_core::render(&loaded.fabric).expect("a valid fabric renders");
            let again = xenfab_core::render(&loaded.fabric).expect("a valid fabric renders");
            assert_eq!(
                tree,
                again,
                "{}: rendering is not deterministic",
                input.display()
            );
            Outcome {
                diagnostics: shown(loaded.warnings.to_string()),
                tree: Some(
                    tree.iter()
                        .map(|(p, e)| (p.to_string(), e.clone()))
                        .collect(),
                ),
            }
        }
        Err(xenfab_core::Error::Invalid(d)) => Outcome {
            diagnostics: shown(d.to_string()),
            tree: None,
        },
        Err(e) => Outcome {
            diagnostics: shown(format!("{e}\n")),
            tree: None,
        },
    }
}

/// Reads `dir` as a tree: files with their contents, symlinks with their targets.
fn read_tree(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, Entry::Symlink { target });
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                use std::os::unix::fs::PermissionsExt;
                let executable = meta.permissions().mode() & 0o111 != 0;
                out.insert(
                    rel,
                    Entry::File {
                        contents: fs::read_to_string(&path).unwrap(),
                        executable,
                    },
                );
            }
        }
    }
    out
}

fn write_tree(dir: &Path, tree: &BTreeMap<String, Entry>) {
    if dir.exists() {
        fs::remove_dir_all(dir).unwrap();
    }
    for (rel, entry) in tree {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match entry {
            Entry::File {
                contents,
                executable,
            } => {
                use std::os::unix::fs::PermissionsExt;
                fs::write(&path, contents).unwrap();
                let mode = if *executable { 0o755 } else { 0o644 };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            }
            Entry::Symlink { target } => std::os::unix::fs::symlink(target, &path).unwrap(),
        }
    }
}

fn input_of(case: &Path) -> PathBuf {
    ["fabric.toml", "fabric.json", "profiles"]
        .iter()
        .map(|n| case.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{}: no fabric.toml, fabric.json or profiles/",
                case.display()
            )
        })
}

/// Compares two trees, naming the first difference.
fn compare(
    case: &str,
    expected: &BTreeMap<String, Entry>,
    actual: &BTreeMap<String, Entry>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => problems.push(format!("{case}: `{path}` is expected but was not rendered")),
            Some(got) if got != want => {
                let diff = match (want, got) {
                    (Entry::File { contents: a, .. }, Entry::File { contents: b, .. }) => {
                        similar::TextDiff::from_lines(a, b)
                            .unified_diff()
                            .header("expected", "rendered")
                            .to_string()
                    }
                    _ => format!("expected {want:?}, rendered {got:?}"),
                };
                problems.push(format!("{case}: `{path}` differs:\n{diff}"));
            }
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        problems.push(format!("{case}: `{path}` was rendered but is not expected"));
    }
    problems
}

#[test]
fn golden_cases() {
    let mut cases: Vec<PathBuf> = fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "the corpus went missing: {} cases",
        cases.len()
    );
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap().to_owned();
        let outcome = run(&input_of(case));
        let diag_file = case.join("diagnostics.txt");
        let expected_dir = case.join("expected");
        if bless() {
            if outcome.diagnostics.is_empty() {
                let _ = fs::remove_file(&diag_file);
            } else {
                fs::write(&diag_file, &outcome.diagnostics).unwrap();
            }
            match &outcome.tree {
                Some(tree) => write_tree(&expected_dir, tree),
                None if expected_dir.exists() => fs::remove_dir_all(&expected_dir).unwrap(),
                None => {}
            }
            continue;
        }
        let want_diags = fs::read_to_string(&diag_file).unwrap_or_default();
        if want_diags != outcome.diagnostics {
            let diff = similar::TextDiff::from_lines(&want_diags, &outcome.diagnostics)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            problems.push(format!("{name}: diagnostics differ:\n{diff}"));
        }
        match (&outcome.tree, expected_dir.exists()) {
            (Some(tree), true) => problems.extend(compare(&name, &read_tree(&expected_dir), tree)),
            (Some(_), false) => problems.push(format!(
                "{name}: the fabric is valid but the case has no expected/ tree"
            )),
            (None, true) => problems.push(format!(
                "{name}: the fabric is invalid but the case has an expected/ tree"
            )),
            (None, false) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s); if the change is intended, run with XENFAB_BLESS=1 and review the diff\n\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The JSON form of a fabric file is the same fabric as its TOML form.
#[test]
fn json_and_toml_give_the_same_tree() {
    let from_toml = xenfab_core::load(xenfab_core::EXAMPLE, "example.toml").unwrap();
    let source = xenfab_core::Source::parse(
        xenfab_core::EXAMPLE,
        xenfab_core::Format::Toml,
        "example.toml",
    )
    .unwrap();
    let json = serde_json::to_string_pretty(source.file()).unwrap();
    let from_json = xenfab_core::load(&json, "example.json").unwrap();
    assert_eq!(
        xenfab_core::render(&from_toml.fabric).unwrap(),
        xenfab_core::render(&from_json.fabric).unwrap()
    );
}

/// The fabric file in the README is valid, so that readers can start from it.
#[test]
fn readme_example_is_valid() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("the README has a TOML example")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let loaded = xenfab_core::load(&readme[start..end], "README.md")
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.diagnostics().map(ToString::to_string)));
    assert!(loaded.warnings.is_empty(), "{}", loaded.warnings);
    let ullr = &loaded.fabric.dom0s[0].guests[0];
    assert_eq!(ullr.mac.to_string(), "00:16:3e:a8:60:2b");
}

/// The XML and the JSON of the scenario's profiles make the same fabric, and it is the one
/// the profiles describe: the guest's MAC and volume, and dom0's memory on Xen's line.
#[test]
fn quattor_scenario_matches_its_profiles() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/quattor/xenfab-scenario");
    let dir = tempfile::tempdir().unwrap();
    let (xml, json) = (dir.path().join("xml"), dir.path().join("json"));
    for (sub, ext) in [(&xml, "xml"), (&json, "json")] {
        fs::create_dir_all(sub).unwrap();
        for host in ["xen-host.example.org", "xen-guest.example.org"] {
            fs::copy(
                fixtures.join(format!("{host}.{ext}")),
                sub.join(format!("{host}.{ext}")),
            )
            .unwrap();
        }
    }
    let from_xml = xenfab_core::input::quattor::fabric_file_of_dir(&xml).unwrap();
    let from_json = xenfab_core::input::quattor::fabric_file_of_dir(&json).unwrap();
    assert_eq!(from_xml, from_json);

    let fabric = xenfab_core::input::quattor::load_dir(&xml).unwrap().fabric;
    let guest = &fabric.dom0s[0].guests[0];
    assert_eq!(guest.mac.to_string(), "00:16:3e:a8:00:12");
    assert_eq!(
        (
            guest.disks[0].vg.as_str(),
            guest.disks[0].lv.as_str(),
            guest.disks[0].size.mib()
        ),
        ("xenvg", "xen-guest.example.org", 20480)
    );
    let tree = xenfab_core::render(&fabric).unwrap();
    let menu = tree
        .iter()
        .find(|(p, _)| p.as_str().ends_with("grub/menu.lst"))
        .map(|(_, e)| e.clone())
        .unwrap();
    let xenfab_core::output::Entry::File { contents, .. } = menu else {
        panic!("menu.lst is a file")
    };
    assert!(
        contents.contains("kernel /xen.gz-2.6.18-404.el5 dom0_mem=1024M "),
        "{contents}"
    );
    let xm = tree
        .iter()
        .find(|(p, _)| p.as_str() == "dom0s/xen-host.example.org/xen/xen-guest")
        .map(|(_, e)| e.clone())
        .unwrap();
    let xenfab_core::output::Entry::File { contents, .. } = xm else {
        panic!("the xm config is a file")
    };
    assert!(
        contents.contains("vif = ['mac=00:16:3e:a8:00:12']")
            && contents.contains("\"phy:xenvg/xen-guest.example.org,xvda,w\""),
        "{contents}"
    );
}

/// With AII's `profiles-info.xml`, only the profiles it lists are read.
#[test]
fn quattor_profiles_info_lists_what_is_read() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/quattor/xenfab-scenario");
    let dir = tempfile::tempdir().unwrap();
    for f in ["xen-host.example.org.xml", "xen-guest.example.org.xml"] {
        fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    // A stray profile that is not listed, and would be an error if it were read.
    fs::write(
        dir.path().join("stray.example.org.xml"),
        "<nlist format=\"pan\" name=\"profile\"><broken>",
    )
    .unwrap();
    fs::write(
        dir.path().join("profiles-info.xml"),
        "<?xml version=\"1.0\"?>\n<profiles>\n  <profile mtime=\"1\">xen-host.example.org.xml</profile>\n  <profile mtime=\"1\">xen-guest.example.org.xml</profile>\n</profiles>\n",
    )
    .unwrap();
    let loaded = xenfab_core::input::quattor::load_dir(dir.path()).unwrap();
    assert_eq!(loaded.fabric.dom0s.len(), 1);
    // Without the index, every profile is read, the broken one too: a clear error naming it.
    fs::remove_file(dir.path().join("profiles-info.xml")).unwrap();
    let err = xenfab_core::input::quattor::load_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("stray.example.org.xml"), "{err}");
    // A listed name that is not a plain file name is refused.
    fs::write(
        dir.path().join("profiles-info.xml"),
        "<profiles><profile>../etc/passwd</profile></profiles>",
    )
    .unwrap();
    let err = xenfab_core::input::quattor::load_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a file name"), "{err}");
}

/// A host profile's `/system/aii/osinstall/ks/enable_service` and `disable_service` (the names
/// in aii-ks's schema; aii's `kickstart_pre_blocksize` fixture has both) become that host's
/// own `services`, rendered as the `services` command of its EL5 kickstart; a hostile name is
/// refused at the field it becomes.
#[test]
fn quattor_service_lists_become_the_hosts_services() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/quattor/xenfab-scenario");
    let dir = tempfile::tempdir().unwrap();
    let ks = "<nlist name=\"ks\">";
    let with = |text: &str, enabled: &str, disabled: &str| {
        assert!(text.contains(ks), "the scenario has no ks nlist");
        text.replacen(
            ks,
            &format!(
                "{ks}\n<list name=\"enable_service\">{enabled}</list>\n<list name=\"disable_service\">{disabled}</list>"
            ),
            1,
        )
    };
    let host = fs::read_to_string(fixtures.join("xen-host.example.org.xml")).unwrap();
    let guest = fs::read_to_string(fixtures.join("xen-guest.example.org.xml")).unwrap();
    fs::write(
        dir.path().join("xen-host.example.org.xml"),
        with(
            &host,
            "<string>xendomains</string><string>ntpd</string>",
            "<string>cups</string>",
        ),
    )
    .unwrap();
    fs::write(dir.path().join("xen-guest.example.org.xml"), &guest).unwrap();
    let fabric = xenfab_core::input::quattor::load_dir(dir.path())
        .unwrap()
        .fabric;
    let k = fabric.dom0s[0].kickstart.as_deref().unwrap();
    let names = |l: &Option<Vec<xenfab_core::model::Service>>| {
        l.as_ref()
            .map(|l| l.iter().map(ToString::to_string).collect::<Vec<_>>())
    };
    assert_eq!(
        names(&k.services.enabled),
        Some(vec!["xendomains".to_owned(), "ntpd".to_owned()])
    );
    assert_eq!(names(&k.services.disabled), Some(vec!["cups".to_owned()]));
    assert!(
        fabric.dom0s[0].guests[0]
            .kickstart
            .as_ref()
            .is_none_or(|k| k.services.enabled.is_none() && k.services.disabled.is_none()),
        "the guest's profile lists none"
    );
    let tree = xenfab_core::render(&fabric).unwrap();
    let ks_file = tree
        .iter()
        .find(|(p, _)| p.as_str() == "kickstart/xen-host.example.org.ks")
        .map(|(_, e)| e.clone())
        .unwrap();
    let xenfab_core::output::Entry::File { contents, .. } = ks_file else {
        panic!("the kickstart is a file")
    };
    assert!(
        contents.contains("\nservices --enabled=xendomains,ntpd --disabled=cups\n"),
        "{contents}"
    );

    // A name that would be an option of `services` is refused at the guest's field.
    fs::write(
        dir.path().join("xen-guest.example.org.xml"),
        with(&guest, "", "<string>--enabled=sshd</string>"),
    )
    .unwrap();
    let err = xenfab_core::input::quattor::load_dir(dir.path()).unwrap_err();
    let shown: Vec<String> = err
        .diagnostics()
        .map(|d| d.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    assert!(
        shown
            .iter()
            .any(|d| d.contains("kickstart.services.disabled[0]")
                && d.contains("cannot begin with `-`")),
        "{shown:?}"
    );
}
