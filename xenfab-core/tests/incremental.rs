//! `output::plan_fabric`: a rerun renders only the parts whose inputs changed, and plans what
//! a render of the whole fabric would, whether the tree is surveyed before the fabric is known
//! or not. On the example site (three dom0s, four parts).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

#[path = "support/bench_site.rs"]
mod bench_site;

use xenfab_core::Fabric;
use xenfab_core::fingerprint::{Fingerprinted, fingerprints};
use xenfab_core::output::{
    ChangeKind, Entry, MANIFEST_DELTA_FILE, MANIFEST_FILE, Plan, PlanOptions, Progress, SiteStamp,
    Step, Survey, UNFINISHED_FILE, plan_fabric, plan_streamed, plan_streamed_with, plan_surveyed,
    plan_with,
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
        untouched: Vec::new(),
        hosts: Vec::new(),
    }
}

/// `plan_fabric`'s plan, after checking that it is the plan made from a survey of every
/// entry taken before the fabric is known (as `xenfab render` does while it loads the fabric).
fn plan_of(root: &Path, fabric: &Fabric) -> Plan {
    let plan = plan_fabric(root, fabric, &options(fabric)).unwrap();
    let surveyed = plan_surveyed(Survey::checked(root).unwrap(), fabric, &options(fabric)).unwrap();
    assert_eq!(changes(&surveyed), changes(&plan));
    assert_eq!(surveyed.parts_rendered(), plan.parts_rendered());
    assert_eq!(surveyed.sections_kept(), plan.sections_kept());
    assert_eq!(surveyed.diff(), plan.diff());
    assert_eq!(surveyed.manifest_changed(), plan.manifest_changed());
    // and that a streamed plan (no contents held) plans the same, and shows the same diff,
    // in its own order (part by part)
    let fingerprinted = Fingerprinted::new(fabric.clone());
    assert_eq!(fingerprinted.fingerprints(), &fingerprints(fabric));
    let streamed =
        plan_streamed(Survey::of(root).unwrap(), &fingerprinted, &options(fabric)).unwrap();
    assert_eq!(streamed.summary(), plan.summary());
    assert_eq!(streamed.parts_rendered(), plan.parts_rendered());
    assert_eq!(streamed.sections_kept(), plan.sections_kept());
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

#[test]
fn a_guests_sizes_changed_render_the_site_without_its_sections() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    let dhcp = root.join("dhcp/dhcpd-hosts.conf");
    let before = fs::read(&dhcp).unwrap();
    fabric.dom0s[1].guests[0].memory = xenfab_core::Size::from_mib(1536);
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((2, 4)));
    assert!(plan.sections_kept());
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
    plan.apply().unwrap();
    assert_eq!(on_disk(root), rendered(&fabric));
    settle();
    assert_eq!(parts_rendered(root, &fabric), Some((0, 4)));
    // a section's file edited by hand: rendered again with the site, and put back
    fs::write(&dhcp, "edited\n").unwrap();
    fabric.dom0s[1].guests[0].vcpus += 1;
    // the sections rendered again, their DHCP hosts file written
    let sections_again = |fabric: &Fabric| {
        let plan = plan_of(root, fabric);
        assert!(!plan.sections_kept());
        assert_eq!(changes(&plan), changes(&whole(root, fabric)));
        let changed = plan.summary().changed;
        assert!(
            changed
                .iter()
                .any(|p| p.as_str() == "dhcp/dhcpd-hosts.conf")
        );
        plan.apply().unwrap();
        assert_eq!(on_disk(root), rendered(fabric));
        settle();
    };
    sections_again(&fabric);
    assert_eq!(fs::read(&dhcp).unwrap(), before);
    // a guest's address changed: the sections are rendered again
    let ip = &mut fabric.dom0s[1].guests[0].ip;
    *ip = std::net::Ipv4Addr::from(u32::from(*ip) + 100);
    sections_again(&fabric);
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
    // a run killed after it wrote its manifest, before it removed its marker: the tree is
    // as the next run would leave it, which removes the marker all the same
    fs::write(root.join(UNFINISHED_FILE), "").unwrap();
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((4, 4)));
    assert!(!plan.is_noop());
    assert_eq!(plan.summary(), whole(root, &fabric).summary());
    assert!(plan.summary().changed.is_empty() && plan.summary().created.is_empty());
    plan.apply().unwrap();
    assert!(!root.join(UNFINISHED_FILE).exists());
    settle();
    assert_eq!(parts_rendered(root, &fabric), Some((0, 4)));
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

/// The manifest without its `id` and its entries' stamps (inodes and times differ between two
/// trees).
fn manifest_entries(root: &Path) -> serde_json::Value {
    let text = fs::read_to_string(root.join(MANIFEST_FILE)).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest.as_object_mut().unwrap().remove("id");
    without_stamps(manifest)
}

#[test]
fn a_streamed_plan_writes_what_a_plan_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let (streamed, whole) = (tmp.path().join("streamed"), tmp.path().join("whole"));
    let mut fabric = example();
    let write = |fabric: &Fabric| {
        let fingerprinted = Fingerprinted::new(fabric.clone());
        let plan = plan_streamed(
            Survey::of(&streamed).unwrap(),
            &fingerprinted,
            &options(fabric),
        );
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

/// A site of `dom0s` dom0s of two guests each, the scale benchmark's: big enough that a
/// change to one dom0 writes a delta on the manifest.
fn wide(dom0s: u32) -> Fabric {
    xenfab_core::load(&bench_site::site_toml(dom0s, 2), "wide.toml")
        .unwrap()
        .fabric
}

/// Sets the memory of the first guest of the dom0 `d`.
fn resize(fabric: &mut Fabric, d: usize, mib: u64) {
    fabric.dom0s[d].guests[0].memory = xenfab_core::Size::from_mib(mib);
}

/// Applies `plan`, then checks that a rerun renders nothing and writes nothing, and that a
/// render of the whole fabric finds every entry on disk as the manifest (with its delta)
/// says: nothing created, changed or removed, and the manifest as it is.
fn apply_and_check(root: &Path, fabric: &Fabric, plan: Plan) {
    plan.apply().unwrap();
    assert_eq!(on_disk(root), rendered(fabric));
    settle();
    let again = plan_of(root, fabric);
    assert_eq!(again.parts_rendered().unwrap().0, 0);
    assert!(again.is_noop(), "{}", again.diff());
    let summary = whole(root, fabric).summary();
    assert!(
        summary.created.is_empty() && summary.changed.is_empty() && summary.removed.is_empty(),
        "{summary:?}"
    );
    // and the manifest with its delta lists what one written whole lists: every entry, in
    // its part, each file stamped with its inode
    let merged = with_delta(root);
    for (path, entry) in merged["entries"].as_object().unwrap() {
        if entry["kind"] == "file" {
            let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(root.join(path)).unwrap());
            assert_eq!(entry["stamp"]["ino"], ino, "{path}");
        }
    }
    let fresh = tempfile::tempdir().unwrap();
    plan_of(fresh.path(), fabric).apply().unwrap();
    assert_eq!(without_stamps(merged), manifest_entries(fresh.path()));
}

/// The manifest of `root` with its delta applied, by hand: the delta's entries for the parts
/// it replaced, the manifest's for the others; without `id`, `base` and `replaced`.
fn with_delta(root: &Path) -> serde_json::Value {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&fs::read(root.join(name)).unwrap()).unwrap()
    };
    let mut manifest = read(MANIFEST_FILE);
    if root.join(MANIFEST_DELTA_FILE).exists() {
        let delta = read(MANIFEST_DELTA_FILE);
        assert_eq!(delta["base"], manifest["id"]);
        let replaced = &delta["replaced"];
        let entries = manifest["entries"].as_object_mut().unwrap();
        entries.retain(|_, e| match e["dom0"].as_str() {
            None => replaced["site"] == false,
            Some(dom0) => !replaced["dom0s"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == dom0),
        });
        entries.extend(delta["entries"].as_object().unwrap().clone());
        manifest["parts"] = delta["parts"].clone();
    }
    manifest.as_object_mut().unwrap().remove("id");
    manifest
}

/// `manifest` without its entries' stamps.
fn without_stamps(mut manifest: serde_json::Value) -> serde_json::Value {
    for entry in manifest["entries"].as_object_mut().unwrap().values_mut() {
        entry.as_object_mut().unwrap().remove("stamp");
    }
    manifest
}

#[test]
fn a_small_change_writes_a_delta_on_the_manifest_until_the_delta_grows_big() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let delta = root.join(MANIFEST_DELTA_FILE);
    let mut fabric = wide(40);
    plan_of(root, &fabric).apply().unwrap();
    settle();
    assert!(!delta.exists());
    let manifest = fs::read(root.join(MANIFEST_FILE)).unwrap();
    // one guest changed: its dom0's part and the site's go into a delta, the manifest stays
    resize(&mut fabric, 3, 1536);
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((2, 41)));
    assert_eq!(changes(&plan), changes(&whole(root, &fabric)));
    apply_and_check(root, &fabric, plan);
    assert_eq!(fs::read(root.join(MANIFEST_FILE)).unwrap(), manifest);
    let first: serde_json::Value = serde_json::from_slice(&fs::read(&delta).unwrap()).unwrap();
    assert_eq!(first["replaced"]["dom0s"], serde_json::json!(["xen0003"]));
    assert_eq!(first["replaced"]["site"], true);
    // another dom0's guest: the delta holds both dom0s' entries (the first carried over)
    resize(&mut fabric, 7, 1536);
    let plan = plan_of(root, &fabric);
    assert_eq!(plan.parts_rendered(), Some((2, 41)));
    apply_and_check(root, &fabric, plan);
    assert_eq!(fs::read(root.join(MANIFEST_FILE)).unwrap(), manifest);
    let second: serde_json::Value = serde_json::from_slice(&fs::read(&delta).unwrap()).unwrap();
    assert_eq!(
        second["replaced"]["dom0s"],
        serde_json::json!(["xen0003", "xen0007"])
    );
    assert_eq!(second["base"], first["base"]);
    assert!(
        second["entries"].as_object().unwrap().len() > first["entries"].as_object().unwrap().len()
    );
    // a dom0 removed: its entries go with it
    let gone = fabric.dom0s.pop().unwrap();
    let plan = plan_of(root, &fabric);
    assert!(
        plan.summary()
            .removed
            .iter()
            .any(|p| p.as_str().contains("xen0039"))
    );
    apply_and_check(root, &fabric, plan);
    assert_eq!(fs::read(root.join(MANIFEST_FILE)).unwrap(), manifest);
    fabric.dom0s.push(gone);
    apply_and_check(root, &fabric, plan_of(root, &fabric));
    // changes to more dom0s, until the delta would list more than an eighth of the entries:
    // the manifest is then written whole, and the delta removed
    let mut d = 10;
    while fs::read(root.join(MANIFEST_FILE)).unwrap() == manifest {
        let stale = fs::read(&delta).unwrap();
        resize(&mut fabric, d, 1536);
        apply_and_check(root, &fabric, plan_of(root, &fabric));
        d += 1;
        if !delta.exists() {
            // a delta on the last manifest, left by a run killed before it removed it, is
            // ignored
            fs::write(&delta, stale).unwrap();
            let plan = plan_of(root, &fabric);
            assert_eq!(plan.parts_rendered().unwrap().0, 0);
            assert!(plan.is_noop(), "{}", plan.diff());
        }
    }
    assert!((12..20).contains(&d), "written whole after {d} dom0s");
    resize(&mut fabric, 0, 2048);
    apply_and_check(root, &fabric, plan_of(root, &fabric));
}

/// What a [`Progress`] was told: each step begun, with its total and the sum of what was
/// said done.
#[derive(Debug, Default)]
struct Told(std::sync::Mutex<Vec<(Step, u64, u64)>>);

impl Progress for Told {
    fn start(&self, step: Step, total: u64) {
        self.0.lock().unwrap().push((step, total, 0));
    }

    fn advance(&self, done: u64) {
        self.0.lock().unwrap().last_mut().unwrap().2 += done;
    }
}

#[test]
fn a_streamed_plan_tells_how_far_it_has_got() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("out");
    // more than a batch of parts (256): rendered, written and shown a batch at a time
    let fabric = wide(257);
    let fingerprinted = Fingerprinted::new(fabric.clone());
    let survey = || Survey::of(&root).unwrap();
    let told = Told::default();
    let plan = plan_streamed_with(survey(), &fingerprinted, &options(&fabric), &told).unwrap();
    let entries = plan.summary().created.len() as u64;
    let mut diff = Vec::new();
    plan.write_diff(&mut diff).unwrap();
    assert_eq!(
        *told.0.lock().unwrap(),
        [
            (Step::Render, 258, 258),
            (Step::Plan, 0, 0),
            (Step::Diff, entries, entries)
        ]
    );

    let told = Told::default();
    let plan = plan_streamed_with(survey(), &fingerprinted, &options(&fabric), &told).unwrap();
    plan.apply().unwrap();
    let steps = told.0.into_inner().unwrap();
    let names: Vec<Step> = steps.iter().map(|(step, _, _)| *step).collect();
    assert_eq!(
        names,
        [
            Step::Render,
            Step::Plan,
            Step::Write,
            Step::Sync,
            Step::Rename,
            Step::Sync,
            Step::Manifest
        ]
    );
    // every entry written; the files among them renamed (a new symlink is made in place)
    assert_eq!(steps[2], (Step::Write, entries, entries));
    let (_, renamed, done) = steps[4];
    assert_eq!(renamed, done);
    assert!(0 < renamed && renamed < entries, "{renamed} {entries}");
    for (step, total, done) in &steps {
        assert!(done <= total, "{step:?} {total} {done}");
        assert_eq!(step.unit().is_some(), *total > 0, "{step:?}");
    }
    // nothing to do: nothing rendered, nothing written
    let told = Told::default();
    let plan = plan_streamed_with(survey(), &fingerprinted, &options(&fabric), &told).unwrap();
    assert!(plan.is_noop());
    plan.apply().unwrap();
    assert_eq!(
        *told.0.lock().unwrap(),
        [(Step::Render, 0, 0), (Step::Plan, 0, 0)]
    );
}

/// `options` writing the entries of `hosts` alone (`PlanOptions::hosts`), after checking that
/// a streamed plan of them plans the same.
fn plan_hosts(root: &Path, fabric: &Fabric, hosts: &[&str]) -> Plan {
    let options = PlanOptions {
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        ..options(fabric)
    };
    let plan = plan_fabric(root, fabric, &options).unwrap();
    let fingerprinted = Fingerprinted::new(fabric.clone());
    let streamed = plan_streamed(Survey::of(root).unwrap(), &fingerprinted, &options).unwrap();
    assert_eq!(streamed.summary(), plan.summary());
    assert_eq!(streamed.left_behind(), plan.left_behind());
    plan
}

/// Whether the entry at `path` is an artefact of one of `hosts` (`render::owners`).
fn of_hosts(fabric: &Fabric, path: &str, hosts: &[&str]) -> bool {
    xenfab_core::render::owners::Owners::new(fabric)
        .of(path)
        .iter()
        .any(|h| hosts.contains(&h.name().as_str()))
}

#[test]
fn some_hosts_written_leave_the_rest_until_a_whole_render() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    let old = on_disk(root);
    // ullr and bragi changed in the fabric, xen03's kickstart edited by hand
    fabric.dom0s[0].guests[0].memory = xenfab_core::Size::from_mib(1536);
    fabric.dom0s[1].guests[0].vcpus += 1;
    let kickstart = root.join("kickstart/xen03.example.org.ks");
    fs::write(&kickstart, "# by hand\n").unwrap();

    let plan = plan_hosts(root, &fabric, &["ullr"]);
    // what it changes is what a whole render changes of ullr's entries, and nothing else
    let ullrs: Vec<(String, ChangeKind)> = changes(&whole(root, &fabric))
        .into_iter()
        .filter(|(p, _)| of_hosts(&fabric, p, &["ullr"]))
        .collect();
    assert!(!ullrs.is_empty());
    let written: Vec<(String, ChangeKind)> = changes(&plan)
        .into_iter()
        .filter(|(_, k)| *k != ChangeKind::Unchanged)
        .collect();
    let ullrs_changed: Vec<_> = ullrs
        .iter()
        .filter(|(_, k)| *k != ChangeKind::Unchanged)
        .cloned()
        .collect();
    assert_eq!(written, ullrs_changed);
    // only ullr's dom0's part is rendered; the site's files (its memory table), xen01's own
    // (provision.sh holds ullr's config), xen02's part (bragi) and xen03's (a file changed
    // on disk) are left behind
    assert_eq!(plan.parts_rendered(), Some((1, 4)));
    let behind = [None, Some("xen01"), Some("xen02"), Some("xen03")];
    assert_eq!(plan.left_behind(), behind);
    plan.apply().unwrap();
    settle();
    let now = on_disk(root);
    let new = rendered(&fabric);
    for (path, entry) in &now {
        let expected = if of_hosts(&fabric, path, &["ullr"]) {
            &new[path]
        } else if path == "kickstart/xen03.example.org.ks" {
            &Entry::File {
                contents: "# by hand\n".to_owned(),
                executable: false,
            }
        } else {
            &old[path]
        };
        assert_eq!(entry, expected, "{path}");
    }
    assert_eq!(now.len(), old.len());

    // again: nothing of ullr's to write, and the same parts left behind
    let again = plan_hosts(root, &fabric, &["ullr.example.org"]);
    assert!(
        changes(&again)
            .iter()
            .all(|(_, k)| *k == ChangeKind::Unchanged),
        "{}",
        again.diff()
    );
    assert_eq!(again.left_behind(), behind);
    again.apply().unwrap();
    settle();

    // a whole render renders what was left behind, and puts the hand edit back
    let full = plan_of(root, &fabric);
    assert_eq!(full.parts_rendered(), Some((4, 4)));
    assert!(full.left_behind().is_empty());
    assert_eq!(changes(&full), changes(&whole(root, &fabric)));
    full.apply().unwrap();
    assert_eq!(on_disk(root), rendered(&fabric));
    settle();
    let rerun = plan_of(root, &fabric);
    assert_eq!(rerun.parts_rendered(), Some((0, 4)));
    assert!(rerun.is_noop(), "{}", rerun.diff());
}

#[test]
fn some_hosts_written_into_an_empty_directory_are_all_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    let plan = plan_hosts(root, &fabric, &["xen03", "bragi"]);
    // xen03's part holds idunn's entries too
    assert_eq!(
        plan.left_behind(),
        [None, Some("xen01"), Some("xen02"), Some("xen03")]
    );
    plan.apply().unwrap();
    settle();
    let disk = on_disk(root);
    assert!(disk.keys().any(|p| p.contains("xen03")));
    assert!(disk.keys().any(|p| p.contains("bragi")));
    for path in disk.keys() {
        assert!(of_hosts(&fabric, path, &["xen03", "bragi"]), "{path}");
    }
    // the whole render after it writes the rest
    let full = plan_of(root, &fabric);
    assert_eq!(full.parts_rendered(), Some((4, 4)));
    full.apply().unwrap();
    assert_eq!(on_disk(root), rendered(&fabric));
}

#[test]
fn hosts_are_refused_without_a_fabric_or_unknown() {
    use xenfab_core::output::OutputError;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    let options = PlanOptions {
        hosts: vec!["xen01".to_owned()],
        ..options(&fabric)
    };
    let bare = plan_with(root, xenfab_core::render(&fabric).unwrap(), &options);
    assert!(
        matches!(bare, Err(OutputError::HostsOfNoFabric)),
        "{bare:?}"
    );
    let options = PlanOptions {
        hosts: vec!["../xen01".to_owned()],
        ..options
    };
    match plan_fabric(root, &fabric, &options) {
        Err(xenfab_core::Error::Output(OutputError::UnknownHost { name })) => {
            assert_eq!(name, "../xen01");
        }
        other => panic!("{:?}", other.map(|p| p.summary())),
    }
    assert_eq!(fs::read_dir(root).unwrap().count(), 0, "nothing written");
}

#[test]
fn some_hosts_written_go_into_a_delta_that_a_whole_render_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = wide(40);
    plan_of(root, &fabric).apply().unwrap();
    settle();
    resize(&mut fabric, 5, 1536);
    resize(&mut fabric, 7, 1536);
    let guest = fabric.dom0s[5].guests[0].name.as_str().to_owned();
    let plan = plan_hosts(root, &fabric, &[guest.as_str()]);
    let (dom0_5, dom0_7) = (fabric.dom0s[5].name.as_str(), fabric.dom0s[7].name.as_str());
    assert_eq!(plan.left_behind(), [None, Some(dom0_5), Some(dom0_7)]);
    assert!(!plan.summary().changed.is_empty());
    plan.apply().unwrap();
    settle();
    // the small write went into a delta, which records the parts left behind as stale
    assert!(root.join(MANIFEST_DELTA_FILE).exists());
    let parts = &with_delta(root)["parts"];
    let stale = "0".repeat(32);
    assert_eq!(parts["site"], stale, "{parts}");
    assert_eq!(parts["dom0s"][dom0_5], stale, "{parts}");
    assert_eq!(parts["dom0s"][dom0_7], stale, "{parts}");
    assert_ne!(
        parts["dom0s"][fabric.dom0s[6].name.as_str()],
        stale,
        "{parts}"
    );
    // the whole render after it renders those three parts, and leaves the tree whole
    let full = plan_of(root, &fabric);
    assert_eq!(full.parts_rendered(), Some((3, 41)));
    apply_and_check(root, &fabric, full);
}

#[test]
fn a_run_that_leaves_entries_still_removes_the_temporary_files_a_killed_run_left_among_them() {
    use xenfab_core::output::Untouched;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fabric = example();
    first_write(root, &fabric);
    let before = on_disk(root);
    // a run killed midway: its marker, and temporary files beside files this run leaves
    fs::write(root.join(UNFINISHED_FILE), "").unwrap();
    let temps = [
        "dhcp/.dhcpd.conf.Ab3xYz.xenfab-tmp",
        "kickstart/.bragi.example.org.ks.q1w2e3.xenfab-tmp",
        "dom0s/xen03.example.org/.provision.sh.Zz9Yy8.xenfab-tmp",
    ];
    for temp in temps {
        fs::write(root.join(temp), "stale").unwrap();
    }
    let options = PlanOptions {
        hosts: vec!["ullr".to_owned()],
        untouched: vec![Untouched::Dhcp],
        ..options(&fabric)
    };
    let plan = plan_fabric(root, &fabric, &options).unwrap();
    let mut found: Vec<String> = plan
        .stale_temps()
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap().to_owned())
        .collect();
    found.sort();
    let mut expected = temps.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(found, expected);
    plan.apply().unwrap();
    for temp in temps {
        assert!(!root.join(temp).exists(), "{temp}");
    }
    assert!(!root.join(UNFINISHED_FILE).exists());
    let after = on_disk(root);
    let differ: Vec<&String> = after
        .keys()
        .chain(before.keys())
        .filter(|p| after.get(*p) != before.get(*p))
        .collect();
    assert!(differ.is_empty(), "{differ:?}");
}

#[test]
fn a_part_of_no_host_written_is_not_rendered_and_its_sections_stay_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut fabric = example();
    first_write(root, &fabric);
    // bragi's memory: xen02's part and the site's memory table, not its DHCP or DNS files
    fabric.dom0s[1].guests[0].memory = xenfab_core::Size::from_mib(1536);
    let plan = plan_hosts(root, &fabric, &["idunn"]);
    // nothing is rendered: xen03's part is clean, the others have none of the hosts
    assert_eq!(plan.parts_rendered(), Some((0, 4)));
    let summary = plan.summary();
    assert!(summary.created.is_empty() && summary.changed.is_empty());
    assert!(!summary.unchanged.is_empty());
    assert_eq!(plan.left_behind(), [None, Some("xen02")]);
    plan.apply().unwrap();
    settle();
    // the next whole render keeps the site's sections, and renders the two parts left
    let full = plan_of(root, &fabric);
    assert!(full.sections_kept());
    assert_eq!(full.parts_rendered(), Some((2, 4)));
    assert_eq!(changes(&full), changes(&whole(root, &fabric)));
    apply_and_check(root, &fabric, full);
}
