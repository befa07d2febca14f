use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;

fn tree(files: &[(&str, &str)]) -> Tree {
    let mut tree = Tree::new();
    for (path, contents) in files {
        tree.insert_file(path, *contents).unwrap();
    }
    tree
}

fn apply(root: &Path, tree: &Tree) -> Summary {
    plan(root, tree.clone()).unwrap().apply().unwrap()
}

/// [`apply`] for a tree that removes more than half of what the directory holds.
fn apply_forced(root: &Path, tree: &Tree) -> Summary {
    let options = PlanOptions {
        site: None,
        force: true,
        untouched: Vec::new(),
        hosts: Vec::new(),
    };
    plan_with(root, tree.clone(), &options)
        .unwrap()
        .apply()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn mtime(path: &Path) -> SystemTime {
    fs::symlink_metadata(path).unwrap().modified().unwrap()
}

/// Sets the mtime of a regular file to a fixed time in the past.
fn age(path: &Path) -> SystemTime {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    old
}

fn paths(list: &[RelPath]) -> Vec<&str> {
    list.iter().map(RelPath::as_str).collect()
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn relpath_accepts_valid_paths() {
    for ok in [
        "a",
        "a/b/c.cfg",
        "xen/dom0@host=1+2_x-y.cfg",
        "a.b",
        "a..b",
        &"x".repeat(255),
    ] {
        let path = RelPath::new(ok).unwrap();
        assert_eq!(path.as_str(), ok);
        assert_eq!(path.to_string(), ok);
        assert_eq!(ok.parse::<RelPath>().unwrap(), path);
    }
    let path = RelPath::new("a/b/c").unwrap();
    assert_eq!(path.file_name(), "c");
    assert_eq!(path.parent().unwrap().as_str(), "a/b");
    assert_eq!(
        path.ancestors().map(String::from).collect::<Vec<_>>(),
        ["a", "a/b"]
    );
    assert!(RelPath::new("a").unwrap().parent().is_none());
}

#[test]
fn relpath_refuses_invalid_paths() {
    let long_component = "x".repeat(300);
    let long_path = vec!["y"; 2100].join("/");
    for bad in [
        "",
        "../x",
        "a/../b",
        "..",
        ".",
        "./a",
        "/abs",
        "a//b",
        "a/",
        ".hidden",
        "a/.hidden",
        "a b",
        "a;b",
        "a\\b",
        "ä",
        &long_component,
        &long_path,
    ] {
        let err = RelPath::new(bad).unwrap_err();
        assert!(
            matches!(&err, OutputError::InvalidPath { path, .. } if path == bad),
            "{bad:?} gave {err:?}"
        );
    }
    let message = RelPath::new("a;b").unwrap_err().to_string();
    assert!(
        message.starts_with("invalid output path `a;b`: "),
        "{message}"
    );
}

#[test]
fn relpath_serde_validates() {
    let path: RelPath = serde_json::from_str("\"a/b\"").unwrap();
    assert_eq!(serde_json::to_string(&path).unwrap(), "\"a/b\"");
    assert!(serde_json::from_str::<RelPath>("\"../b\"").is_err());
}

#[test]
fn tree_refuses_duplicates_and_file_dir_conflicts() {
    let mut tree = Tree::new();
    tree.insert_file("a/b", "x").unwrap();
    tree.insert_file("a+", "x").unwrap();
    tree.insert_file("a-b/c", "x").unwrap();
    assert!(matches!(
        tree.insert_file("a/b", "y"),
        Err(OutputError::DuplicatePath { .. })
    ));
    assert!(matches!(
        tree.insert_file("a", "y"),
        Err(OutputError::FileDirConflict { path, child }) if path.as_str() == "a" && child.as_str() == "a/b"
    ));
    assert!(matches!(
        tree.insert_symlink("a/b/c", "x"),
        Err(OutputError::FileDirConflict { path, child }) if path.as_str() == "a/b" && child.as_str() == "a/b/c"
    ));
    assert!(matches!(
        tree.insert_file("bad/../x", "y"),
        Err(OutputError::InvalidPath { .. })
    ));
    assert_eq!(tree.len(), 3);
    assert_eq!(
        tree.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["a+", "a-b/c", "a/b"]
    );
    assert!(!tree.is_empty());
    assert!(Tree::new().is_empty());
    let key = RelPath::new("a/b").unwrap();
    assert_eq!(
        tree.get(&key),
        Some(&Entry::File {
            contents: "x".into(),
            executable: false
        })
    );
}

#[test]
fn symlink_targets_are_validated() {
    let mut tree = Tree::new();
    tree.insert_symlink("a/l", "../b/c").unwrap();
    tree.insert_symlink("a/m", "..").unwrap();
    tree.insert_symlink("top", "a/l").unwrap();
    for (link, target) in [("x", "../y"), ("a/x", "../../y"), ("a/b/x", "../../../..")] {
        assert!(
            matches!(
                tree.insert_symlink(link, target),
                Err(OutputError::SymlinkEscapes { .. })
            ),
            "{link} -> {target}"
        );
    }
    for (link, target) in [
        ("x", "/etc/passwd"),
        ("x", ""),
        ("a/x", "b/../../.."),
        ("x", "a//b"),
        ("x", "./a"),
        ("x", ".xenfab-manifest.json"),
        ("x", "a b"),
    ] {
        assert!(
            matches!(
                tree.insert_symlink(link, target),
                Err(OutputError::InvalidSymlinkTarget { .. })
            ),
            "{link} -> {target}"
        );
    }
    assert_eq!(tree.len(), 3);
}

#[test]
fn create_into_missing_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("out/deeper");
    let mut tree = tree(&[("b/c.cfg", "c\n"), ("a.cfg", "a\n")]);
    tree.insert_executable("bin/run", "#!/bin/sh\n").unwrap();
    tree.insert_symlink("cur", "b/c.cfg").unwrap();

    let planned = plan(&root, tree.clone()).unwrap();
    assert!(!root.exists(), "plan must not write");
    assert!(!planned.is_noop());
    let summary = planned.apply().unwrap();
    assert_eq!(
        paths(&summary.created),
        ["a.cfg", "b/c.cfg", "bin/run", "cur"]
    );
    assert_eq!(
        summary.to_string(),
        "4 created, 0 changed, 0 unchanged, 0 removed"
    );

    assert_eq!(fs::read_to_string(root.join("a.cfg")).unwrap(), "a\n");
    assert_eq!(fs::read_to_string(root.join("b/c.cfg")).unwrap(), "c\n");
    assert_eq!(mode(&root.join("a.cfg")), 0o644);
    assert_eq!(mode(&root.join("bin/run")), 0o755);
    assert_eq!(mode(&root.join("bin")), 0o755);
    assert_eq!(
        fs::read_link(root.join("cur")).unwrap(),
        Path::new("b/c.cfg")
    );
    // One entry a line; each file with its stamp, as it is on disk now.
    let text = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["format"], MANIFEST_FORMAT);
    assert_eq!(manifest["generator"], "xenfab");
    assert_eq!(manifest["site"], serde_json::Value::Null);
    let entries = manifest["entries"].as_object().unwrap();
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["a.cfg", "b/c.cfg", "bin/run", "cur"]
    );
    assert_eq!(entries["bin/run"]["executable"], true);
    assert_eq!(
        entries["cur"],
        serde_json::json!({"kind": "symlink", "target": "b/c.cfg"})
    );
    let stamp = &entries["b/c.cfg"]["stamp"];
    let meta = fs::symlink_metadata(root.join("b/c.cfg")).unwrap();
    {
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(stamp["size"], 2);
        assert_eq!(stamp["ino"], meta.ino());
        assert_eq!(
            stamp["mtime"],
            meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
        );
        assert_eq!(
            stamp["xxh3"],
            format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"c\n"))
        );
    }
    // No temporary files are left behind.
    assert_eq!(
        dir_listing(&root),
        [MANIFEST_FILE, "a.cfg", "b", "bin", "cur"]
    );
}

#[test]
fn empty_tree_into_missing_directory_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("out");
    let planned = plan(&root, Tree::new()).unwrap();
    assert!(planned.is_noop());
    planned.apply().unwrap();
    assert!(!root.exists());
}

#[test]
fn second_apply_is_a_noop() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut tree = tree(&[("a.cfg", "a\n"), ("d/b.cfg", "b\n")]);
    tree.insert_symlink("d/l", "b.cfg").unwrap();
    apply(root, &tree);

    let files = [
        root.join("a.cfg"),
        root.join("d/b.cfg"),
        root.join(MANIFEST_FILE),
    ];
    let times: Vec<SystemTime> = files.iter().map(|f| age(f)).collect();
    let link_time = mtime(&root.join("d/l"));

    let planned = plan(root, tree.clone()).unwrap();
    assert!(planned.is_noop());
    assert!(!planned.manifest_changed());
    assert_eq!(planned.diff(), "");
    let summary = planned.apply().unwrap();
    assert_eq!(paths(&summary.unchanged), ["a.cfg", "d/b.cfg", "d/l"]);
    assert!(summary.created.is_empty() && summary.changed.is_empty() && summary.removed.is_empty());

    for (file, time) in files.iter().zip(&times) {
        assert_eq!(mtime(file), *time, "{} was rewritten", file.display());
    }
    assert_eq!(mtime(&root.join("d/l")), link_time);
}

#[test]
fn changed_content_is_rewritten_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(root, &tree(&[("a.cfg", "a\n"), ("b.cfg", "b\n")]));
    let b_time = age(&root.join("b.cfg"));

    let new = tree(&[("a.cfg", "A\n"), ("b.cfg", "b\n")]);
    let planned = plan(root, new.clone()).unwrap();
    let change = &planned.changes()[0];
    assert_eq!(change.kind, ChangeKind::Change);
    assert_eq!(
        change.old,
        Some(Entry::File {
            contents: "a\n".into(),
            executable: false
        })
    );
    // The manifest records the new file's stamp.
    assert!(planned.manifest_changed());
    let summary = planned.apply().unwrap();
    assert_eq!(paths(&summary.changed), ["a.cfg"]);
    assert_eq!(paths(&summary.unchanged), ["b.cfg"]);
    assert_eq!(fs::read_to_string(root.join("a.cfg")).unwrap(), "A\n");
    assert_eq!(mtime(&root.join("b.cfg")), b_time);
}

#[test]
fn removed_entries_are_deleted_and_only_they() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(
        root,
        &tree(&[
            ("a/keep", "k"),
            ("a/gone", "g"),
            ("b/c/d", "d"),
            ("e/f", "f"),
        ]),
    );
    fs::write(root.join("a/foreign"), "mine").unwrap();
    fs::write(root.join("e/foreign"), "mine").unwrap();

    let new = tree(&[("a/keep", "k")]);
    let summary = apply_forced(root, &new);
    assert_eq!(paths(&summary.removed), ["a/gone", "b/c/d", "e/f"]);
    assert_eq!(paths(&summary.unchanged), ["a/keep"]);

    assert!(!root.join("a/gone").exists());
    assert_eq!(fs::read_to_string(root.join("a/foreign")).unwrap(), "mine");
    assert_eq!(fs::read_to_string(root.join("e/foreign")).unwrap(), "mine");
    assert!(!root.join("b").exists(), "empty directories are pruned");
    assert!(
        root.join("e").is_dir(),
        "a directory still holding a file stays"
    );
    assert_eq!(dir_listing(root), [MANIFEST_FILE, "a", "e"]);

    // Removing everything keeps the root and an empty manifest.
    apply_forced(root, &Tree::new());
    assert_eq!(dir_listing(root), [MANIFEST_FILE, "a", "e"]);
    assert_eq!(dir_listing(&root.join("a")), ["foreign"]);
}

#[test]
fn foreign_file_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("conf"), "hand made\n").unwrap();
    let new = tree(&[("aaa/x", "1"), ("conf", "generated\n"), ("zzz", "2")]);

    let err = plan(root, new.clone()).unwrap_err();
    assert!(
        matches!(&err, OutputError::NotOwned { path } if path == &root.join("conf")),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` exists and was not written by xenfab; move it away or remove it",
            root.join("conf").display()
        )
    );
    assert_eq!(dir_listing(root), ["conf"]);
    assert_eq!(
        fs::read_to_string(root.join("conf")).unwrap(),
        "hand made\n"
    );

    // Same size but different mode is refused as well.
    fs::write(root.join("conf"), "generated\n").unwrap();
    fs::set_permissions(root.join("conf"), fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        plan(root, new.clone()),
        Err(OutputError::NotOwned { .. })
    ));
    // So is a foreign directory in the place of a file.
    fs::remove_file(root.join("conf")).unwrap();
    fs::create_dir(root.join("conf")).unwrap();
    fs::write(root.join("conf/x"), "").unwrap();
    assert!(matches!(
        plan(root, new.clone()),
        Err(OutputError::NotOwned { .. })
    ));
    assert_eq!(dir_listing(root), ["conf"]);
}

#[test]
fn identical_foreign_file_is_adopted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let new = tree(&[("a", "x\n"), ("b", "y\n")]);
    // As if a previous run crashed before writing the manifest.
    fs::write(root.join("a"), "x\n").unwrap();
    fs::set_permissions(root.join("a"), fs::Permissions::from_mode(0o644)).unwrap();
    let a_time = age(&root.join("a"));

    let planned = plan(root, new.clone()).unwrap();
    assert!(planned.manifest_changed());
    let summary = planned.apply().unwrap();
    assert_eq!(paths(&summary.unchanged), ["a"]);
    assert_eq!(paths(&summary.created), ["b"]);
    assert_eq!(mtime(&root.join("a")), a_time);
    let manifest = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    assert!(manifest.contains("\"a\""));

    // Now it is owned: dropping it from the tree removes it.
    let summary = apply(root, &tree(&[("b", "y\n")]));
    assert_eq!(paths(&summary.removed), ["a"]);
    assert!(!root.join("a").exists());
}

#[test]
fn identical_foreign_symlink_is_adopted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    symlink("x", root.join("l")).unwrap();
    let mut new = Tree::new();
    new.insert_symlink("l", "x").unwrap();
    let summary = apply(root, &new);
    assert_eq!(paths(&summary.unchanged), ["l"]);

    symlink("y", root.join("m")).unwrap();
    new.insert_symlink("m", "z").unwrap();
    assert!(matches!(
        plan(root, new.clone()),
        Err(OutputError::NotOwned { .. })
    ));
}

#[test]
fn executable_bit_is_set_and_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut exec = Tree::new();
    exec.insert_executable("run.sh", "echo\n").unwrap();
    apply(root, &exec);
    assert_eq!(mode(&root.join("run.sh")), 0o755);

    let plain = tree(&[("run.sh", "echo\n")]);
    let planned = plan(root, plain.clone()).unwrap();
    assert_eq!(planned.changes()[0].kind, ChangeKind::Change);
    assert_eq!(
        planned.diff(),
        "--- a/run.sh\n+++ b/run.sh\nmode 100755 -> 100644\n"
    );
    let summary = planned.apply().unwrap();
    assert_eq!(paths(&summary.changed), ["run.sh"]);
    assert_eq!(mode(&root.join("run.sh")), 0o644);

    // A mode changed behind xenfab's back is restored.
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o600)).unwrap();
    let summary = apply(root, &plain);
    assert_eq!(paths(&summary.changed), ["run.sh"]);
    assert_eq!(mode(&root.join("run.sh")), 0o644);
}

#[test]
fn symlink_is_created_and_retargeted_atomically() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut v1 = tree(&[("data/v1", "1"), ("data/v2", "2")]);
    v1.insert_symlink("links/cur", "../data/v1").unwrap();
    apply(root, &v1);
    let link = root.join("links/cur");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&link).unwrap(), "1");

    let mut v2 = tree(&[("data/v1", "1"), ("data/v2", "2")]);
    v2.insert_symlink("links/cur", "../data/v2").unwrap();
    let planned = plan(root, v2.clone()).unwrap();
    // The link still exists, untouched, before apply.
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("../data/v1"));
    let summary = planned.apply().unwrap();
    assert_eq!(paths(&summary.changed), ["links/cur"]);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("../data/v2"));
    assert_eq!(fs::read_to_string(&link).unwrap(), "2");
    assert_eq!(dir_listing(&root.join("links")), ["cur"]);

    // Symlink -> file and back.
    let file = tree(&[("data/v1", "1"), ("data/v2", "2"), ("links/cur", "plain")]);
    assert_eq!(paths(&apply(root, &file).changed), ["links/cur"]);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
    assert_eq!(paths(&apply(root, &v2).changed), ["links/cur"]);
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("../data/v2"));
}

#[test]
fn parent_that_is_a_symlink_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("out");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&root).unwrap();
    fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, root.join("sub")).unwrap();

    let new = tree(&[("a", "1"), ("sub/x", "2")]);
    let err = plan(&root, new.clone()).unwrap_err();
    assert!(
        matches!(&err, OutputError::UnsafeParent { path } if path == &root.join("sub")),
        "{err:?}"
    );
    assert!(dir_listing(&elsewhere).is_empty());
    assert_eq!(dir_listing(&root), ["sub"]);
}

#[test]
fn parent_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("sub"), "").unwrap();
    let err = plan(root, tree(&[("sub/x", "2")])).unwrap_err();
    assert!(matches!(err, OutputError::NotADirectory { .. }), "{err:?}");

    let file_root = root.join("sub");
    let err = plan(&file_root, tree(&[("x", "2")])).unwrap_err();
    assert!(matches!(err, OutputError::NotADirectory { .. }), "{err:?}");
}

#[test]
fn removal_does_not_follow_a_replaced_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("out");
    apply(&root, &tree(&[("d/x", "ours")]));
    let elsewhere = tmp.path().join("elsewhere");
    fs::rename(root.join("d"), &elsewhere).unwrap();
    symlink(&elsewhere, root.join("d")).unwrap();

    let summary = apply_forced(&root, &Tree::new());
    assert!(summary.removed.is_empty());
    assert_eq!(fs::read_to_string(elsewhere.join("x")).unwrap(), "ours");
    assert!(
        fs::symlink_metadata(root.join("d"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn file_and_directory_can_swap_places() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(
        root,
        &tree(&[("a", "file"), ("d/x", "1"), ("d/sub/y", "2")]),
    );

    let swapped = tree(&[("a/inner", "now a dir"), ("d", "now a file")]);
    let summary = apply_forced(root, &swapped);
    assert_eq!(paths(&summary.created), ["a/inner", "d"]);
    assert_eq!(paths(&summary.removed), ["a", "d/sub/y", "d/x"]);
    assert_eq!(
        fs::read_to_string(root.join("a/inner")).unwrap(),
        "now a dir"
    );
    assert_eq!(fs::read_to_string(root.join("d")).unwrap(), "now a file");

    // Not when the directory holds something foreign.
    apply_forced(root, &tree(&[("a", "file"), ("d/x", "1")]));
    fs::write(root.join("d/foreign"), "").unwrap();
    let forced = PlanOptions {
        site: None,
        force: true,
        untouched: Vec::new(),
        hosts: Vec::new(),
    };
    let err = plan_with(root, tree(&[("d", "file")]), &forced).unwrap_err();
    assert!(matches!(err, OutputError::NotOwned { path } if path == root.join("d")));
    assert_eq!(dir_listing(&root.join("d")), ["foreign", "x"]);
}

#[test]
fn diff_shows_creations_changes_removals_and_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut old = tree(&[
        ("a.txt", "1\n2\n3\n4\n5\n6\n7\n8\n9\n"),
        ("gone.txt", "bye\n"),
        ("run.sh", "echo\n"),
    ]);
    old.insert_symlink("l", "a.txt").unwrap();
    apply(root, &old);

    let mut new = tree(&[
        ("a.txt", "1\n2\n3\n4\n5\n6\n7\nEIGHT\n9\n"),
        ("new.txt", "hi\n"),
    ]);
    new.insert_executable("run.sh", "echo\n").unwrap();
    new.insert_executable("tool", "#!/bin/sh\n").unwrap();
    new.insert_symlink("l", "new.txt").unwrap();
    let planned = plan(root, new.clone()).unwrap();
    assert_eq!(
        planned.diff(),
        "\
--- a/a.txt
+++ b/a.txt
@@ -5,5 +5,5 @@
 5
 6
 7
-8
+EIGHT
 9
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
--- a/l
+++ b/l
@@ -1 +1 @@
-symlink -> a.txt
+symlink -> new.txt
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hi
--- a/run.sh
+++ b/run.sh
mode 100644 -> 100755
--- /dev/null
+++ b/tool
new file mode 100755
@@ -0,0 +1 @@
+#!/bin/sh
"
    );
    let mut streamed = Vec::new();
    planned.write_diff(&mut streamed).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), planned.diff());
    assert_eq!(
        planned.summary().to_string(),
        "2 created, 3 changed, 0 unchanged, 1 removed"
    );
    assert_eq!(
        serde_json::to_string(&planned.summary()).unwrap(),
        r#"{"created":["new.txt","tool"],"changed":["a.txt","l","run.sh"],"unchanged":[],"removed":["gone.txt"]}"#
    );
}

#[test]
fn corrupt_manifest_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let new = tree(&[("a", "1")]);
    for bad in [
        "{ not json",
        r#"{"format": 6, "generator": "xenfab", "entries": {}}"#,
        r#"{"format": 3, "generator": "xenfab", "entries": {"a": {"kind": "file", "executable": false, "stamp": {"size": 1, "ino": 1, "mtime": 1, "ctime": 1, "xxh3": "12"}}}}"#,
        r#"{"format": 2, "generator": "xenfab", "site": {"name": "a"}, "entries": {}}"#,
        r#"{"format": 1, "generator": "other", "entries": {}}"#,
        r#"{"format": 1, "generator": "xenfab", "entries": {"../etc/passwd": {"kind": "file", "executable": false}}}"#,
        r#"{"format": 1, "generator": "xenfab", "entries": {"a": {"kind": "dir"}}}"#,
    ] {
        fs::write(root.join(MANIFEST_FILE), bad).unwrap();
        let err = plan(root, new.clone()).unwrap_err();
        assert!(
            matches!(&err, OutputError::Manifest { path, .. } if path == &root.join(MANIFEST_FILE)),
            "{bad}: {err:?}"
        );
        assert!(!root.join("a").exists());
    }
    fs::remove_file(root.join(MANIFEST_FILE)).unwrap();
    symlink("elsewhere", root.join(MANIFEST_FILE)).unwrap();
    assert!(matches!(
        plan(root, new.clone()),
        Err(OutputError::Manifest { .. })
    ));
}

#[test]
fn stale_temp_files_are_removed_only_in_the_trees_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let files = tree(&[("a", "old"), ("d/e/f", "old")]);
    apply(root, &files);
    // What a run killed midway leaves: temporary files of either naming, in the root and in
    // a directory of the tree; and what is not xenfab's to remove.
    fs::write(root.join(".a.xenfab-tmp"), "stale").unwrap();
    // Without the marker of an unfinished run, a tree is not searched.
    assert!(plan(root, files.clone()).unwrap().stale_temps().is_empty());
    fs::write(root.join(UNFINISHED_FILE), "").unwrap();
    fs::write(root.join(".f.Ab3xYz.xenfab-tmp"), "stale").unwrap();
    fs::write(root.join("d/e/.f.q1w2e3.xenfab-tmp"), "stale").unwrap();
    fs::create_dir(root.join("other")).unwrap();
    fs::write(root.join("other/.x.q1w2e3.xenfab-tmp"), "not in the tree").unwrap();
    fs::write(root.join("d/e/f.xenfab-tmp"), "no leading dot").unwrap();
    fs::create_dir(root.join("d/.dir.xenfab-tmp")).unwrap();
    let plan = plan(root, files.clone()).unwrap();
    assert_eq!(
        plan.stale_temps(),
        [
            root.join(".a.xenfab-tmp"),
            root.join(".f.Ab3xYz.xenfab-tmp"),
            root.join("d/e/.f.q1w2e3.xenfab-tmp"),
        ]
    );
    assert!(!plan.is_noop(), "stale temporary files are work to do");
    let summary = plan.apply().unwrap();
    assert_eq!(summary.unchanged.len(), 2);
    assert_eq!(dir_listing(root), [MANIFEST_FILE, "a", "d", "other"]);
    assert_eq!(dir_listing(&root.join("d/e")), ["f", "f.xenfab-tmp"]);
    assert_eq!(dir_listing(&root.join("d")), [".dir.xenfab-tmp", "e"]);
    assert_eq!(dir_listing(&root.join("other")), [".x.q1w2e3.xenfab-tmp"]);
    assert!(super::plan(root, files.clone()).unwrap().is_noop());
}

#[test]
fn temp_names_are_unique_recognisable_and_fit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_, prefix) = fsops::temp_builder(&root.join("a"));
    assert_eq!(prefix, ".a.");
    let long = root.join("y".repeat(255));
    let (_, prefix) = fsops::temp_builder(&long);
    assert_eq!(prefix.len() + 6 + TEMP_SUFFIX.len(), 255);
    // A long name is written through a temporary name that fits.
    fsops::write_file_atomic(&long, b"x", 0o644).unwrap();
    assert_eq!(fs::read(&long).unwrap(), b"x");
    assert!(fsops::is_temp_name(".a.xenfab-tmp"));
    assert!(fsops::is_temp_name(".a.Xy12Zq.xenfab-tmp"));
    assert!(!fsops::is_temp_name("a.xenfab-tmp"));
    assert!(!fsops::is_temp_name(".xenfab-tmp"));
    assert!(!fsops::is_temp_name(".a.xenfab-tmp.bak"));
}

#[test]
fn write_error_names_the_path_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Renaming a file over a non-empty directory fails.
    fs::create_dir(root.join("a")).unwrap();
    fs::write(root.join("a/x"), "").unwrap();
    let err = fsops::write_file_atomic(&root.join("a"), b"x", 0o644).unwrap_err();
    assert!(
        matches!(&err, OutputError::Io { path, .. } if path == &root.join("a")),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("cannot write `{}`", root.join("a").display())
    );
    assert_eq!(dir_listing(root), ["a"], "the temporary file is removed");
    let err = fsops::write_symlink_atomic(&root.join("a"), "t").unwrap_err();
    assert!(matches!(&err, OutputError::Io { .. }), "{err:?}");
    assert_eq!(dir_listing(root), ["a"], "the temporary symlink is removed");
}

fn stamp(name: &str, origin: &str) -> SiteStamp {
    SiteStamp {
        name: name.to_owned(),
        domain: "example.org".to_owned(),
        origin: origin.to_owned(),
    }
}

fn with_site(site: &SiteStamp) -> PlanOptions {
    PlanOptions {
        site: Some(site.clone()),
        force: false,
        untouched: Vec::new(),
        hosts: Vec::new(),
    }
}

#[test]
fn manifest_records_the_site_and_another_site_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let grid = stamp("grid", "grid.toml");
    let files = tree(&[("a", "1"), ("b", "2")]);
    plan_with(root, files.clone(), &with_site(&grid))
        .unwrap()
        .apply()
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(MANIFEST_FILE)).unwrap()).unwrap();
    assert_eq!(manifest["format"], MANIFEST_FORMAT);
    assert_eq!(manifest["site"]["name"], "grid");
    assert_eq!(manifest["site"]["domain"], "example.org");
    assert_eq!(manifest["site"]["origin"], "grid.toml");

    // The same site from another file is the same site; the new origin is recorded.
    let moved = stamp("grid", "elsewhere/grid.toml");
    plan_with(root, files.clone(), &with_site(&moved))
        .unwrap()
        .apply()
        .unwrap();
    let text = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    assert!(text.contains("elsewhere/grid.toml"), "{text}");

    // Another site (same files, so no removal) is refused before anything is written.
    let before = fs::read(root.join(MANIFEST_FILE)).unwrap();
    let other = stamp("lab\u{1b}[2J", "<example>");
    let err = plan_with(root, files.clone(), &with_site(&other)).unwrap_err();
    assert!(matches!(err, OutputError::OtherSite { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` holds the artefacts of site `grid` (example.org, from `elsewhere/grid.toml`), not of site `lab\\u{{1b}}[2J` (example.org, from `<example>`)",
            root.display()
        )
    );
    assert_eq!(fs::read(root.join(MANIFEST_FILE)).unwrap(), before);
    // Forced, it is rendered and recorded.
    let forced = PlanOptions {
        site: Some(other.clone()),
        force: true,
        untouched: Vec::new(),
        hosts: Vec::new(),
    };
    plan_with(root, files.clone(), &forced)
        .unwrap()
        .apply()
        .unwrap();
    plan_with(root, files.clone(), &with_site(&other)).unwrap();
    // A plan that names no site keeps the one recorded.
    apply(root, &tree(&[("a", "1"), ("b", "3")]));
    plan_with(root, files.clone(), &with_site(&other)).unwrap();
    assert!(plan_with(root, files.clone(), &with_site(&grid)).is_err());
}

#[test]
fn removing_more_than_half_of_the_owned_entries_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(
        root,
        &tree(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]),
    );
    // Half is allowed.
    let half = tree(&[("a", "1"), ("b", "2"), ("x", "new")]);
    assert_eq!(plan(root, half.clone()).unwrap().summary().removed.len(), 2);
    // More than half is not, and nothing is written.
    let most = tree(&[("a", "1"), ("y", "new")]);
    let err = plan(root, most.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            OutputError::MassRemoval {
                removed: 3,
                owned: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "rendering into `{}` would remove 3 of the 4 entries xenfab wrote there (more than half)",
            root.display()
        )
    );
    assert!(plan(root, Tree::new()).is_err());
    assert_eq!(dir_listing(root), [MANIFEST_FILE, "a", "b", "c", "d"]);
    let forced = PlanOptions {
        site: None,
        force: true,
        untouched: Vec::new(),
        hosts: Vec::new(),
    };
    plan_with(root, most.clone(), &forced)
        .unwrap()
        .apply()
        .unwrap();
    assert_eq!(dir_listing(root), [MANIFEST_FILE, "a", "y"]);
}

#[test]
fn format_1_manifest_is_read_as_site_unknown() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("a"), "1").unwrap();
    fs::write(
        root.join(MANIFEST_FILE),
        r#"{"format": 1, "generator": "xenfab", "entries": {"a": {"kind": "file", "executable": false}}}"#,
    )
    .unwrap();
    let grid = stamp("grid", "grid.toml");
    // No site to compare: rendered, and the site recorded from now on.
    let files = tree(&[("a", "1")]);
    plan_with(root, files.clone(), &with_site(&grid))
        .unwrap()
        .apply()
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(MANIFEST_FILE)).unwrap()).unwrap();
    assert_eq!(manifest["format"], MANIFEST_FORMAT);
    assert_eq!(manifest["site"]["name"], "grid");
    // A format 1 manifest with a site, or a format from the future, is corrupt.
    for text in [
        r#"{"format": 1, "generator": "xenfab", "site": {"name": "a", "domain": "b", "origin": "c"}, "entries": {}}"#,
        r#"{"format": 6, "generator": "xenfab", "entries": {}}"#,
        r#"{"format": 3, "generator": "xenfab", "entries": {"a": {"kind": "file", "executable": false, "stamp": {"size": 1, "ino": 1, "mtime": 1, "ctime": 1, "xxh3": "12"}}}}"#,
    ] {
        fs::write(root.join(MANIFEST_FILE), text).unwrap();
        assert!(
            matches!(plan(root, files.clone()), Err(OutputError::Manifest { .. })),
            "{text}"
        );
    }
}

#[test]
fn replace_file_keeps_the_mode_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = dir.join("dhcpd.conf");
    replace_file(&path, b"one\n").unwrap();
    assert_eq!(mode(&path), 0o644);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    replace_file(&path, b"two\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"two\n");
    assert_eq!(mode(&path), 0o640);
    // A symlink is replaced by the file, not followed.
    symlink("dhcpd.conf", dir.join("link")).unwrap();
    replace_file(&dir.join("link"), b"three\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"two\n");
    assert_eq!(fs::read(dir.join("link")).unwrap(), b"three\n");
    assert_eq!(dir_listing(dir), ["dhcpd.conf", "link"]);
}

#[test]
fn a_run_stopped_midway_leaves_what_it_wrote_owned() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(root, &tree(&[("a", "1"), ("b", "1")]));
    // The plan creates `c` and `d`; something appears at `d` before it is written, and
    // apply stops before renaming anything: `c` is not there, no temporary file is left,
    // and the manifest written first lists `c` and `d`.
    let planned = plan(
        root,
        tree(&[("a", "1"), ("b", "1"), ("c", "1"), ("d", "1")]),
    )
    .unwrap();
    fs::write(root.join("d"), "foreign").unwrap();
    assert!(matches!(planned.apply(), Err(OutputError::NotOwned { .. })));
    assert!(!root.join("c").exists());
    // The marker of an unfinished run stays: the next one looks for temporary files.
    assert_eq!(
        dir_listing(root),
        [MANIFEST_FILE, UNFINISHED_FILE, "a", "b", "d"]
    );
    // As if the run was killed after writing `c`: the manifest on disk owns it, so a render
    // of other contents changes it instead of refusing it as foreign; `d` is still not
    // xenfab's.
    fs::write(root.join("c"), "1").unwrap();
    fs::remove_file(root.join("d")).unwrap();
    let summary = apply(root, &tree(&[("a", "1"), ("b", "1"), ("c", "2")]));
    assert_eq!(paths(&summary.changed), ["c"]);
    assert_eq!(fs::read_to_string(root.join("c")).unwrap(), "2");
    let manifest = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    assert!(!manifest.contains("\"d\""), "{manifest}");
    assert!(!root.join(UNFINISHED_FILE).exists());
}

/// A zone whose serial is `serial` and whose one host has address `ip`.
fn zone_text(serial: u32, ip: &str) -> String {
    format!(
        "$ORIGIN example.org.\n$TTL 3600\n@\tIN\tSOA\tns.example.org. hostmaster.example.org. (\n\t\t{serial}\t; serial\n\t\t7200 900 1209600 3600 )\n@\tIN\tNS\tns.example.org.\nns\tIN\tA\t192.168.96.1\nullr\tIN\tA\t{ip}\n"
    )
}

fn zone_tree(ip: &str) -> Tree {
    let mut tree = tree(&[("dns/named.conf.xenfab", "zone\n")]);
    tree.insert_zone("dns/example.org.zone", zone_text(1, ip))
        .unwrap();
    tree
}

#[test]
fn a_zone_rendered_again_is_not_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let summary = apply(root, &zone_tree("192.168.96.43"));
    assert_eq!(summary.created.len(), 2);
    let zone = root.join("dns/example.org.zone");
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(1, "192.168.96.43")
    );
    let before = age(&zone);
    let plan = plan(root, zone_tree("192.168.96.43")).unwrap();
    assert!(plan.is_noop());
    plan.apply().unwrap();
    assert_eq!(mtime(&zone), before);
}

#[test]
fn a_changed_zone_gets_the_next_serial() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(root, &zone_tree("192.168.96.43"));
    let summary = apply(root, &zone_tree("192.168.96.44"));
    assert_eq!(paths(&summary.changed), ["dns/example.org.zone"]);
    let zone = root.join("dns/example.org.zone");
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(2, "192.168.96.44")
    );
    // The diff shows the serial moving with the record.
    let planned = plan(root, zone_tree("192.168.96.45")).unwrap();
    let diff = planned.diff();
    assert!(
        diff.contains("-\t\t2\t; serial\n+\t\t3\t; serial\n"),
        "{diff}"
    );
    planned.apply().unwrap();
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(3, "192.168.96.45")
    );
}

#[test]
fn a_serial_edited_by_hand_is_kept_and_raised_from() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply(root, &zone_tree("192.168.96.43"));
    let zone = root.join("dns/example.org.zone");
    fs::write(&zone, zone_text(2_026_112_801, "192.168.96.43")).unwrap();
    let planned = plan(root, zone_tree("192.168.96.43")).unwrap();
    assert!(planned.is_noop());
    planned.apply().unwrap();
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(2_026_112_801, "192.168.96.43")
    );
    apply(root, &zone_tree("192.168.96.44"));
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(2_026_112_802, "192.168.96.44")
    );
    // At the top of the serial space the next one wraps past 0 to 1 (RFC 1982).
    fs::write(&zone, zone_text(u32::MAX, "192.168.96.44")).unwrap();
    apply(root, &zone_tree("192.168.96.43"));
    assert_eq!(
        fs::read_to_string(&zone).unwrap(),
        zone_text(1, "192.168.96.43")
    );
}

#[test]
fn only_zones_get_serials_decided() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The same text as a plain file: rewritten as it is, serial 1.
    apply(
        root,
        &tree(&[("dns/example.org.zone", &zone_text(7, "192.168.96.43"))]),
    );
    apply(
        root,
        &tree(&[("dns/example.org.zone", &zone_text(1, "192.168.96.43"))]),
    );
    assert_eq!(
        fs::read_to_string(root.join("dns/example.org.zone")).unwrap(),
        zone_text(1, "192.168.96.43")
    );
    // A zone file xenfab does not own is not read for its serial: it is refused as before.
    let other = tempfile::tempdir().unwrap();
    fs::create_dir(other.path().join("dns")).unwrap();
    fs::write(
        other.path().join("dns/example.org.zone"),
        zone_text(5, "192.168.96.43"),
    )
    .unwrap();
    assert!(matches!(
        plan(other.path(), zone_tree("192.168.96.43")),
        Err(OutputError::NotOwned { .. })
    ));
}

/// Rewrites the manifest with `edit` applied to its JSON, keeping its modification time.
fn edit_manifest(root: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = root.join(MANIFEST_FILE);
    let written = mtime(&path);
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut manifest);
    fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(written)
        .unwrap();
}

/// Waits until the clock has moved past the manifest's time, so that its stamps are trusted.
fn settle(root: &Path) {
    let written = mtime(&root.join(MANIFEST_FILE));
    while SystemTime::now() <= written + Duration::from_millis(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_stamped_file_is_compared_by_its_stamp_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let new = tree(&[("a", "one\n"), ("b", "two\n")]);
    apply(root, &new);
    // The manifest's hash of `a` is made that of other contents of the same size: a plan
    // that trusts the stamp (and does not read `a`) takes `a` for those contents; one that
    // read it would see the difference.
    let other = tree(&[("a", "ONE\n"), ("b", "two\n")]);
    let lie = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"ONE\n"));
    edit_manifest(root, |m| m["entries"]["a"]["stamp"]["xxh3"] = lie.into());
    let summary = plan(root, other.clone()).unwrap().summary();
    assert_eq!(paths(&summary.unchanged), ["a", "b"]);
    // Its stamp no longer matches once the manifest is as new as the file: read, equal.
    settle(root);
    edit_manifest(root, |m| {
        m["entries"]["a"]["stamp"]["mtime"] = i64::MAX.into();
    });
    assert_eq!(paths(&plan(root, other).unwrap().summary().changed), ["a"]);
}

#[test]
fn a_file_changed_behind_xenfabs_back_is_found_though_its_size_and_mtime_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let new = tree(&[("a", "one\n"), ("b", "two\n")]);
    apply(root, &new);
    settle(root);
    // Same size, same modification time: only the change time and the contents differ.
    let a = root.join("a");
    let written = mtime(&a);
    fs::write(&a, "ONE\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(written)
        .unwrap();
    let planned = plan(root, new.clone()).unwrap();
    assert_eq!(paths(&planned.summary().changed), ["a"]);
    assert!(
        planned.diff().contains("-ONE\n+one\n"),
        "{}",
        planned.diff()
    );
    planned.apply().unwrap();
    assert_eq!(fs::read_to_string(&a).unwrap(), "one\n");
    // A format 2 manifest (no stamps) is read once, and stamped by the next plan.
    settle(root);
    edit_manifest(root, |m| {
        m["format"] = 2.into();
        for entry in m["entries"].as_object_mut().unwrap().values_mut() {
            entry.as_object_mut().unwrap().remove("stamp");
        }
    });
    let planned = plan(root, new.clone()).unwrap();
    assert!(planned.manifest_changed() && !planned.is_noop());
    assert!(planned.summary().created.is_empty() && planned.summary().changed.is_empty());
    planned.apply().unwrap();
    let manifest = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    assert_eq!(manifest.matches("\"stamp\"").count(), 2, "{manifest}");
    assert!(plan(root, new).unwrap().is_noop());
}

/// A manifest written whole (`id` 7) of no site, parts or entries.
fn empty_manifest() -> manifest::Manifest {
    manifest::Manifest {
        format: MANIFEST_FORMAT,
        generator: "xenfab".to_owned(),
        id: Some(manifest::Fingerprint(7)),
        base: None,
        replaced: None,
        site: None,
        parts: None,
        entries: std::collections::BTreeMap::default(),
    }
}

#[test]
fn a_manifest_is_read_back_line_by_line_or_whole() {
    use manifest::{Fingerprint, Manifest, ManifestEntry, PartStamps};
    let mut manifest = Manifest {
        parts: Some(PartStamps {
            site: Fingerprint(1),
            sections: Some(Fingerprint(5)),
            dom0s: [("xen01".to_owned(), Fingerprint(u128::MAX))].into(),
        }),
        ..empty_manifest()
    };
    for (i, path) in ["a", "b/c", "b/d", "e"].iter().enumerate() {
        let entry = if i % 2 == 0 {
            ManifestEntry::File {
                executable: i == 2,
                stamp: None,
                dom0: Some("xen01".to_owned()),
            }
        } else {
            ManifestEntry::Symlink {
                target: "../a".to_owned(),
                dom0: None,
            }
        };
        manifest.entries.insert(RelPath::new(path).unwrap(), entry);
    }
    let tmp = tempfile::tempdir().unwrap();
    let read = |bytes: &[u8]| {
        fs::write(tmp.path().join(MANIFEST_FILE), bytes).unwrap();
        manifest::read_manifest(tmp.path())
            .unwrap()
            .unwrap()
            .manifest
    };
    let bytes = manifest.to_text().to_vec();
    assert_eq!(read(&bytes), manifest);
    // the same JSON laid out otherwise (pretty, or entries out of order) is read whole
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(read(&serde_json::to_vec_pretty(&value).unwrap()), manifest);
    let text = String::from_utf8(bytes).unwrap();
    let swapped = text.replacen("\n\"a\":", "\n\"zz\":", 1);
    let reread = read(swapped.as_bytes());
    assert!(reread.entries.contains_key(&RelPath::new("zz").unwrap()));
    // an empty tree's manifest
    manifest.entries.clear();
    assert_eq!(read(&manifest.to_text().to_vec()), manifest);
}

#[test]
fn a_manifest_is_read_with_its_delta_on_it_and_not_with_another() {
    use manifest::{Fingerprint, Manifest, ManifestEntry, PartSet, PartStamps};
    let file = |dom0: Option<&str>, executable: bool| ManifestEntry::File {
        executable,
        stamp: None,
        dom0: dom0.map(str::to_owned),
    };
    let stamps = |xen01: u128| PartStamps {
        site: Fingerprint(1),
        sections: None,
        dom0s: [
            ("xen01".to_owned(), Fingerprint(xen01)),
            ("xen02".to_owned(), Fingerprint(3)),
        ]
        .into(),
    };
    let entries = |list: &[(&str, ManifestEntry)]| {
        list.iter()
            .map(|(p, e)| (RelPath::new(p).unwrap(), e.clone()))
            .collect()
    };
    let manifest = Manifest {
        parts: Some(stamps(2)),
        entries: entries(&[
            ("dhcp", file(None, false)),
            ("one/a", file(Some("xen01"), false)),
            ("one/gone", file(Some("xen01"), false)),
            ("two/b", file(Some("xen02"), false)),
        ]),
        ..empty_manifest()
    };
    // xen01 rendered again: its `a` changed, `gone` gone, `new` new
    let replaced = PartSet {
        site: false,
        dom0s: ["xen01".to_owned()].into_iter().collect(),
    };
    let delta = |base: u128| Manifest {
        id: None,
        base: Some(Fingerprint(base)),
        replaced: Some(replaced.clone()),
        parts: Some(stamps(9)),
        entries: entries(&[
            ("one/a", file(Some("xen01"), true)),
            ("one/new", file(Some("xen01"), false)),
        ]),
        ..manifest.clone()
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join(MANIFEST_FILE), manifest.to_text().to_vec()).unwrap();
    let read = || manifest::read_manifest(root).map(|m| m.unwrap().manifest);
    assert_eq!(read().unwrap(), manifest);
    fs::write(root.join(MANIFEST_DELTA_FILE), delta(7).to_text().to_vec()).unwrap();
    let merged = Manifest {
        replaced: Some(replaced.clone()),
        parts: Some(stamps(9)),
        entries: entries(&[
            ("dhcp", file(None, false)),
            ("one/a", file(Some("xen01"), true)),
            ("one/new", file(Some("xen01"), false)),
            ("two/b", file(Some("xen02"), false)),
        ]),
        ..manifest.clone()
    };
    assert_eq!(read().unwrap(), merged);
    // a delta on another manifest (left by a run killed after writing this one) is ignored
    fs::write(root.join(MANIFEST_DELTA_FILE), delta(8).to_text().to_vec()).unwrap();
    assert_eq!(read().unwrap(), manifest);
    // a delta that is not one, of another format, or a symlink, is refused, naming it
    let refused = |text: &[u8]| {
        fs::write(root.join(MANIFEST_DELTA_FILE), text).unwrap();
        let err = read().unwrap_err();
        assert!(
            matches!(&err, OutputError::Manifest { path, .. } if path == &root.join(MANIFEST_DELTA_FILE)),
            "{err}"
        );
    };
    refused(&manifest.to_text().to_vec());
    refused(
        &Manifest {
            format: 4,
            ..delta(7)
        }
        .to_text()
        .to_vec(),
    );
    fs::remove_file(root.join(MANIFEST_DELTA_FILE)).unwrap();
    symlink(MANIFEST_FILE, root.join(MANIFEST_DELTA_FILE)).unwrap();
    assert!(read().is_err());
    // and a manifest that is a delta
    fs::remove_file(root.join(MANIFEST_DELTA_FILE)).unwrap();
    fs::write(root.join(MANIFEST_FILE), delta(7).to_text().to_vec()).unwrap();
    assert!(read().is_err());
}

#[test]
fn a_big_manifest_is_read_block_by_block_as_written_window_by_window() {
    use manifest::{Manifest, ManifestEntry, parse_blocks, parse_lines};
    let mut manifest = Manifest {
        id: None,
        ..empty_manifest()
    };
    // more lines than a window of chunks (16 × 4096) writes at once
    for i in 0..70_000 {
        let entry = if i % 3 == 0 {
            ManifestEntry::Symlink {
                target: format!("../t{i}"),
                dom0: None,
            }
        } else {
            ManifestEntry::File {
                executable: i % 3 == 2,
                stamp: None,
                dom0: Some(format!("xen{:02}", i % 17)),
            }
        };
        let path = RelPath::new(&format!("d{}/f{i:06}", i / 5000)).unwrap();
        manifest.entries.insert(path, entry);
    }
    let bytes = manifest.to_text().to_vec();
    assert!(bytes.ends_with(b"\n}}\n"));
    assert_eq!(bytes.split(|b| *b == b'\n').count(), 70_003);
    // blocks of 997 bytes: lines cut across blocks
    let parse = |bytes: &[u8]| parse_blocks(&mut &bytes[..], 997, 0).unwrap();
    assert_eq!(parse(&bytes).as_ref(), Some(&manifest));
    let file = tempfile::NamedTempFile::new().unwrap();
    fs::write(file.path(), &bytes).unwrap();
    let mut whole = fs::File::open(file.path()).unwrap();
    let len = whole.metadata().unwrap().len();
    assert_eq!(
        parse_lines(&mut whole, len).unwrap().as_ref(),
        Some(&manifest)
    );
    // laid out otherwise: left to serde_json
    assert_eq!(parse(&bytes[..bytes.len() - 1]), None, "no final newline");
    assert_eq!(
        parse(&[&bytes[..], b"x"].concat()),
        None,
        "text after the end"
    );
    let text = String::from_utf8(bytes.clone()).unwrap();
    let last = text.rfind("\n}}").unwrap();
    let extra = format!(
        "{},\n\"zz\":{{\"kind\":\"symlink\",\"target\":\"a\"}}{}",
        &text[..last],
        &text[last..]
    );
    assert!(
        parse(extra.as_bytes()).is_some(),
        "one more entry, well formed"
    );
    let no_comma = text.replacen("},\n", "}\n", 1);
    assert_eq!(
        parse(no_comma.as_bytes()),
        None,
        "an entry after the last one"
    );
    let swapped = text.replacen("\"d0/f000000\"", "\"zzz\"", 1);
    assert_eq!(parse(swapped.as_bytes()), None, "entries out of order");
}

#[test]
fn trees_merged_at_once_are_checked_as_one_by_one() {
    let a = tree(&[("x/y", "1"), ("z", "2")]);
    let b = tree(&[("w", "3")]);
    let mut one_by_one = a.clone();
    one_by_one.merge(b.clone()).unwrap();
    assert_eq!(Tree::merge_all(vec![a.clone(), b]).unwrap(), one_by_one);
    let err = Tree::merge_all(vec![a.clone(), tree(&[("z", "4")])]).unwrap_err();
    assert!(matches!(err, OutputError::DuplicatePath { path } if path.as_str() == "z"));
    let err = Tree::merge_all(vec![a.clone(), tree(&[("z/q", "5")])]).unwrap_err();
    assert!(
        matches!(&err, OutputError::FileDirConflict { path, child } if path.as_str() == "z" && child.as_str() == "z/q"),
        "{err:?}"
    );
    let err = Tree::merge_all(vec![tree(&[("x", "6")]), a]).unwrap_err();
    assert!(
        matches!(&err, OutputError::FileDirConflict { path, child } if path.as_str() == "x" && child.as_str() == "x/y"),
        "{err:?}"
    );
}

#[test]
fn the_site_part_is_rendered_in_a_batch_of_its_own() {
    use super::streamed::batches;
    let parts = [Part::Site, Part::Dom0(0), Part::Dom0(1), Part::Dom0(2)];
    let got: Vec<&[Part]> = batches(&parts, 2).collect();
    assert_eq!(
        got,
        [&parts[..1], &parts[1..3], &parts[3..]],
        "the site alone, then dom0s two at a time"
    );
    let got: Vec<&[Part]> = batches(&parts[1..], 5).collect();
    assert_eq!(got, [&parts[1..]]);
    assert_eq!(batches(&[], 3).count(), 0);
}

#[test]
fn a_directory_is_opened_beneath_the_root_only_through_real_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::write(root.join("a/file"), "").unwrap();
    symlink(root.join("a"), root.join("link")).unwrap();
    symlink("..", root.join("a/up")).unwrap();
    let file = manifest::ManifestEntry::File {
        executable: false,
        stamp: None,
        dom0: None,
    };
    let real = |paths: &[&str]| {
        let paths: Vec<RelPath> = paths.iter().map(|p| RelPath::new(p).unwrap()).collect();
        let entries: Vec<(&RelPath, &manifest::ManifestEntry)> =
            paths.iter().map(|p| (p, &file)).collect();
        incremental::directories_real(root, &entries).unwrap()
    };
    // where `openat2` is not, each directory on the way is inspected
    assert!(real(&["a/b/x", "a/y"]));
    for not in [["link/b/x"], ["a/file/x"], ["a/missing/x"], ["a/up/a/x"]] {
        assert!(!real(&not), "{not:?}");
    }
    // where it is, the opening checks the same
    #[cfg(target_os = "linux")]
    {
        use fsops::Beneath;
        let dir = fsops::OpenDir::open(root).unwrap();
        if dir.opens_beneath() {
            assert!(matches!(dir.open_beneath("a/b"), Beneath::Dir(_)));
            for not in [
                "link/b",
                "link",
                "a/file",
                "a/missing",
                "a/up/a",
                "../x",
                "/tmp",
            ] {
                assert!(matches!(dir.open_beneath(not), Beneath::NotReal), "{not}");
            }
        }
    }
}
