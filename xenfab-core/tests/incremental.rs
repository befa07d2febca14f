//! `output::plan_fabric`: a rerun renders only the parts whose inputs changed, and plans what
//! a render of the whole fabric would, whether the tree is surveyed before the fabric is known
//! or not. On the example site (three dom0s, four parts).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use xenfab_core::Fabric;
use xenfab_core::output::{
    ChangeKind, Entry, MANIFEST_FILE, Plan, PlanOptions, SiteStamp, Survey, UNFINISHED_FILE,
    plan_fabric, plan_streamed, plan_surveyed, plan_with,
};

fn example() -> Fabric {
    xenfab_core::load(xenfab_core::EXAMPLE, "example.toml")
        .unwrap()
        .fabric
}

fn options(fabric: &Fabric) -> PlanOptions {
    PlanOptions {
        site: Some(SiteStamp::of(fabric, "example.toml")),
        force: false,
    }
}

/// `plan_fabric`'s plan, after checking that it is the plan made from a survey of every
/// entry taken before the fabric is known (as `xenfab render` does while it loads the fabric).
fn plan_of(root: &Path, fabric: &Fabric) -> Plan {
    let plan = plan_fabric(root, fabric, &options(fabric)).unwrap();
    let surveyed = plan_surveyed(Survey::checked(root).unwrap(), fabric, &options(fabric)).unwrap();
    assert_eq!(changes(&surveyed), changes(&plan));
    assert_eq!(surveyed.parts_rendered(), plan.parts_rendered());
    assert_eq!(surveyed.diff(), plan.diff());
    assert_eq!(surveyed.manifest_changed(), plan.manifest_changed());
    // and that a streamed plan (no contents held) plans the same, and shows the same diff,
    // in its own order (part by part)
    let streamed = plan_streamed(Survey::of(root).unwrap(), fabric, &options(fabric)).unwrap();
    assert_eq!(streamed.summary(), plan.summary());
    assert_eq!(streamed.parts_rendered(), plan.parts_rendered());
    assert_eq!(streamed.is_noop(), plan.is_noop());
    let mut diff = Vec::new();
    streamed.write_diff(&mut diff).unwrap();
    assert_eq!(
        per_file(&String::from_utf8(diff).unwrap()),
        per_file(&plan.diff())
    );
    plan
}

/// A diff cut into its files' diffs, sorted.
fn per_file(diff: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for line in diff.split_inclusive('\n') {
        match files.last_mut() {
            Some(file) if !line.starts_with("--- ") => file.push_str(line),
            _ => files.push(line.to_owned()),
        }
    }
    files.sort();
    files
}

/// What a render of the whole fabric would plan for `root` as it is now.
fn whole(root: &Path, fabric: &Fabric) -> Plan {
    plan_with(root, xenfab_core::render(fabric).unwrap(), &options(fabric)).unwrap()
}

fn changes(plan: &Plan) -> Vec<(String, ChangeKind)> {
    plan.changes()
        .iter()
        .map(|c| (c.path.to_string(), c.kind))
        .collect()
}

/// The entries under `root` (not the manifest, the lock or other dot files).
fn on_disk(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for e in fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            if rel.starts_with('.') {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, Entry::Symlink { target });
            } else if meta.is_dir() {
                walk(root, &path, out);
            } else {
                use std::os::unix::fs::PermissionsExt;
                out.insert(
                    rel,
                    Entry::File {
                        contents: fs::read_to_string(&path).unwrap(),
                        executable: meta.permissions().mode() & 0o111 != 0,
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out.retain(|p, _| !is_zone(p));
    out
}

/// Whether `path` is a DNS zone file (xenfab names them `<zone>.zone`).
fn is_zone(path: &str) -> bool {
    Path::new(path).extension().is_some_and(|e| e == "zone")
}

/// The tree a render of the whole fabric gives, without the DNS zones (on disk, their serials
/// move when their records do).
fn rendered(fabric: &Fabric) -> BTreeMap<String, Entry> {
    xenfab_core::render(fabric)
        .unwrap()
        .iter()
        .filter(|(p, _)| !is_zone(p.as_str()))
        .map(|(p, e)| (p.to_string(), e.clone()))
        .collect()
}

/// Makes every file's time older than the manifest's clock tick, so that its stamp is
/// trusted (a file stamped in the manifest's own tick is read again: racily clean).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

fn first_write(root: &Path, fabric: &Fabric) {
    let plan = plan_of(root, fabric);
    assert_eq!(plan.parts_rendered(), Some((4, 4)));
    plan.apply().unwrap();
    settle();
}

#[test]
fn a_rerun_renders_nothing_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    first_write(root, &fabric);
    let manifest = fs::read(root.join(MANIFEST_FILE)).unwrap();
    let again = plan_of(root, &fabric);
    assert_eq!(again.parts_rendered(), Some((0, 4)));
    assert!(again.is_noop(), "{}", again.diff());
    assert_eq!(changes(&again), changes(&whole(root, &fabric)));
    again.apply().unwrap();
    assert_eq!(fs::read(root.join(MANIFEST_FILE)).unwrap(), manifest);
    assert_eq!(on_disk(root), rendered(&fabric));
}

#[test]
fn a_changed_guest_renders_its_dom0_and_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    fabric.dom0s[1].guests[0].memory = xenfab_core::Size::from_mib(1536);
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((2, 4)));
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
    let summary = plan.apply().unwrap();
    assert!(!summary.changed.is_empty());
    // bragi's files, its dom0's, and the site's table of memory
    assert!(
        summary
            .changed
            .iter()
            .all(|p| ["bragi", "xen02", "capacity"]
                .iter()
                .any(|n| p.as_str().contains(n))),
        "{summary:?}"
    );
    assert_eq!(on_disk(root), rendered(&fabric));
    settle();
    assert_eq!(parts_rendered(root, &fabric), Some((0, 4)));
}

fn parts_rendered(root: &Path, fabric: &Fabric) -> Option<(usize, usize)> {
    plan_of(root, fabric).parts_rendered()
}

#[test]
fn a_file_edited_or_removed_by_hand_is_put_back() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    first_write(root, &fabric);
    let provision = root.join("dom0s/xen01.example.org/provision.sh");
    let kickstart = root.join("kickstart/xen03.example.org.ks");
    assert!(provision.exists() && kickstart.exists());
    let text = fs::read_to_string(&provision).unwrap();
    fs::write(&provision, text.replace("lvcreate", "lvcreat")).unwrap();
    fs::remove_file(&kickstart).unwrap();
    let plan = plan_of(root, &fabric);
    // xen01's part and xen03's: the site's and xen02's are carried over
    assert_eq!(plan.parts_rendered(), Some((2, 4)));
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
    let summary = plan.apply().unwrap();
    assert_eq!(
        summary
            .changed
            .iter()
            .map(xenfab_core::output::RelPath::as_str)
            .collect::<Vec<_>>(),
        ["dom0s/xen01.example.org/provision.sh"]
    );
    assert_eq!(
        summary
            .created
            .iter()
            .map(xenfab_core::output::RelPath::as_str)
            .collect::<Vec<_>>(),
        ["kickstart/xen03.example.org.ks"]
    );
    assert_eq!(on_disk(root), rendered(&fabric));
}

#[test]
fn a_removed_dom0_takes_its_files_and_a_new_one_brings_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    let xen03 = fabric.dom0s.pop().unwrap();
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((1, 3)));
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
    let summary = plan.apply().unwrap();
    assert!(summary.removed.iter().any(|p| p.as_str().contains("xen03")));
    assert_eq!(on_disk(root), rendered(&fabric));
    settle();
    fabric.dom0s.push(xen03);
    let again = plan_of(root, &fabric);
    assert_eq!(again.parts_rendered(), Some((2, 4)));
    assert_eq!(changes(&again), changes(&whole(root, &fabric)));
    again.apply().unwrap();
    assert_eq!(on_disk(root), rendered(&fabric));
}

#[test]
fn an_unfinished_run_or_a_tree_without_fingerprints_is_rendered_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    // written from a bare tree: the manifest records no parts
    whole(root, &fabric).apply().unwrap();
    settle();
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((4, 4)));
    let summary = plan.summary();
    assert!(summary.created.is_empty() && summary.changed.is_empty());
    assert!(plan.manifest_changed());
    plan.apply().unwrap();
    settle();
    assert_eq!(parts_rendered(root, &fabric), Some((0, 4)));
    fs::write(root.join(UNFINISHED_FILE), "").unwrap();
    assert_eq!(parts_rendered(root, &fabric), Some((4, 4)));
}

#[test]
fn a_change_to_the_shared_settings_renders_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    fabric.site.hypervisor_memory = xenfab_core::Size::from_mib(1024);
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((4, 4)));
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
}

#[test]
fn a_directory_swapped_for_a_symlink_is_refused_surveyed_or_not() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    first_write(root, &fabric);
    // xen02's directory moved aside, and a symlink to it in its place: nothing may be written
    // through it, whether the survey came first or not
    let dir = root.join("dom0s/xen02.example.org");
    let aside = tmp.path().join("dom0s/aside");
    fs::rename(&dir, &aside).unwrap();
    std::os::unix::fs::symlink(&aside, &dir).unwrap();
    let surveyed = plan_surveyed(Survey::checked(root).unwrap(), &fabric, &options(&fabric));
    let direct = plan_fabric(root, &fabric, &options(&fabric));
    let (Err(surveyed), Err(direct)) = (surveyed, direct) else {
        panic!("a plan through a symlinked directory");
    };
    assert_eq!(surveyed.to_string(), direct.to_string());
    assert!(
        surveyed.to_string().contains("xen02.example.org"),
        "{surveyed}"
    );
}

/// The manifest's entries without their stamps (inodes and times differ between two trees).
fn manifest_entries(root: &Path) -> serde_json::Value {
    let text = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    for entry in manifest["entries"].as_object_mut().unwrap().values_mut() {
        entry.as_object_mut().unwrap().remove("stamp");
    }
    manifest
}

#[test]
fn a_streamed_plan_writes_what_a_plan_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let (streamed, whole) = (tmp.path().join("streamed"), tmp.path().join("whole"));
    let mut fabric = example();
    let write = |fabric: &Fabric| {
        let plan = plan_streamed(Survey::of(&streamed).unwrap(), fabric, &options(fabric));
        let streamed_summary = plan.unwrap().apply().unwrap();
        let summary = plan_of(&whole, fabric).apply().unwrap();
        assert_eq!(streamed_summary, summary);
        assert_eq!(on_disk(&streamed), on_disk(&whole));
        assert_eq!(on_disk(&streamed), rendered(fabric));
        assert_eq!(manifest_entries(&streamed), manifest_entries(&whole));
        settle();
        summary
    };
    let first = write(&fabric);
    assert!(first.changed.is_empty() && !first.created.is_empty());
    // a guest changed, a dom0 removed: each tree changes alike
    fabric.dom0s[1].guests[0].memory = xenfab_core::Size::from_mib(1536);
    let changed = write(&fabric);
    assert!(!changed.changed.is_empty(), "{changed:?}");
    fabric.dom0s.pop();
    let removed = write(&fabric);
    assert!(!removed.removed.is_empty(), "{removed:?}");
    // and a rerun of either renders nothing
    assert_eq!(parts_rendered(&streamed, &fabric), Some((0, 3)));
}
