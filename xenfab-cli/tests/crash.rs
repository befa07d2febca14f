//! `kill -9` at any moment of a large render leaves no torn file, and the next render
//! finishes the job.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Node, fabric, is_temp, scratch_dir, snapshot, stderr, xenfab};

/// When each run is killed, as a fraction of the time a whole render takes: a fixed list
/// (so that the test is the same every time) spread over the run, its reading and rendering
/// as well as its writing; values above 1 let some runs finish.
const KILL_AT: [f64; 20] = [
    0.35, 0.9, 0.5, 0.75, 0.2, 0.6, 0.95, 0.4, 0.8, 0.55, 0.3, 0.7, 0.45, 0.85, 0.25, 0.65, 1.3,
    0.5, 0.15, 0.6,
];

const DOM0S: usize = 2000;

/// xenfab's own files in the root: a killed run's manifest may list both trees' entries, and
/// it leaves its marker.
const BOOKKEEPING: [&str; 4] = [
    ".xenfab-lock",
    ".xenfab-manifest.json",
    ".xenfab-manifest-delta.json",
    ".xenfab-unfinished",
];

/// `xenfab render FILE -o OUT`, sent SIGKILL after `after`: whether it was killed. A run
/// that was not killed in time must have succeeded, whatever the runs before it left
/// (run `i`, for the message).
fn render_killed(file: &str, out: &str, after: Duration, i: usize) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(["render", file, "-o", out])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let _ = child.kill(); // SIGKILL
    let o = child.wait_with_output().unwrap();
    if o.status.signal() == Some(9) {
        return true;
    }
    assert!(o.status.success(), "run {i}: {}", stderr(&o));
    false
}

#[test]
fn killed_renders_leave_no_torn_file_and_the_next_render_finishes() {
    let dir = scratch_dir();
    let root = dir.path();
    // Two fabrics that differ in every guest's memory: each file is either one's or the
    // other's, so a torn file or a mix within one file shows.
    let a = root.join("a.toml");
    fs::write(&a, fabric("big", DOM0S, "1024M")).unwrap();
    let b = root.join("b.toml");
    fs::write(&b, fabric("big", DOM0S, "2048M")).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    let started = Instant::now();
    let ref_a = root.join("ref-a");
    let o = xenfab(&["render", a, "-o", ref_a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = started.elapsed();
    let ref_b = root.join("ref-b");
    let o = xenfab(&["render", b, "-o", ref_b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (want_a, want_b) = (snapshot(&ref_a), snapshot(&ref_b));
    assert!(want_a.len() > 40_000, "{} entries", want_a.len());
    assert!(
        !want_a
            .keys()
            .any(|p| is_temp(p) || p.ends_with(".xenfab-lock"))
    );

    // A render over an existing tree reads every file and writes only what changed: about
    // 70% of a fresh render's time here.
    let cycle = whole.mul_f64(0.7);
    let out = root.join("out");
    let out_s = out.to_str().unwrap();
    let (mut killed, mut finished, mut with_temps) = (0, 0, 0);
    for (i, at) in KILL_AT.iter().enumerate() {
        let file = if i % 2 == 0 { a } else { b };
        if render_killed(file, out_s, cycle.mul_f64(*at), i) {
            killed += 1;
        } else {
            finished += 1;
        }
        if !out.exists() {
            continue;
        }
        let got = snapshot(&out);
        let mut temps = 0;
        for (path, node) in &got {
            if is_temp(path) {
                temps += 1;
                continue;
            }
            if BOOKKEEPING.contains(&path.as_str()) {
                continue;
            }
            assert!(
                want_a.get(path) == Some(node) || want_b.get(path) == Some(node),
                "run {i} (killed after {:?}): `{path}` is torn or unknown",
                cycle.mul_f64(*at)
            );
        }
        if temps > 0 {
            with_temps += 1;
        }
    }
    eprintln!(
        "a whole render took {whole:?}; {killed} run(s) killed, {finished} finished, {with_temps} left temporary files"
    );
    assert!(killed >= 10, "only {killed} runs were killed");

    // The next render removes every temporary file and the lock file, and leaves exactly a
    // fresh render's tree.
    let o = xenfab(&["render", a, "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = snapshot(&out);
    let stray: Vec<&String> = got.keys().filter(|p| !want_a.contains_key(*p)).collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
    assert_eq!(got.len(), want_a.len());
    let differ: BTreeMap<&String, &Node> = got
        .iter()
        .filter(|(p, n)| want_a.get(*p) != Some(n))
        .collect();
    assert!(
        differ.is_empty(),
        "differ from a fresh render: {:?}",
        differ.keys().take(5).collect::<Vec<_>>()
    );
    assert!(!Path::new(out_s).join(".xenfab-lock").exists());
    eprintln!("the test took {:?}", started.elapsed());
}

/// `text` (made by [`fabric`]) with the guest `g<k>`'s memory set to `memory`.
fn resized(text: &str, k: usize, memory: &str) -> String {
    let at = text.find(&format!("name = \"g{k:04}\"")).unwrap();
    let (head, tail) = text.split_at(at);
    format!(
        "{head}{}",
        tail.replacen("memory = \"1024M\"", &format!("memory = \"{memory}\""), 1)
    )
}

/// The runs that change a few dom0s of a large tree write a delta on its manifest (and those
/// that add a dom0 write one before their entries too): killed at any moment, they leave no
/// torn file either, and the next render finishes the job, owning every file it wrote.
#[test]
fn killed_small_changes_leave_no_torn_file_and_the_next_render_finishes() {
    let dir = scratch_dir();
    let root = dir.path();
    let base = fabric("big", DOM0S, "1024M");
    let one = resized(&base, 5, "1536M");
    let two = resized(&one, 100, "2048M");
    // a dom0 more: its files are created
    let more = resized(
        &resized(&fabric("big", DOM0S + 1, "1024M"), 5, "1536M"),
        100,
        "2048M",
    );
    let mut files = Vec::new();
    let mut wants = Vec::new();
    for (i, text) in [&base, &one, &two, &more].into_iter().enumerate() {
        let file = root.join(format!("v{i}.toml"));
        fs::write(&file, text).unwrap();
        let reference = root.join(format!("ref-{i}"));
        let o = xenfab(&[
            "render",
            file.to_str().unwrap(),
            "-o",
            reference.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        wants.push(comparable(snapshot(&reference)));
        files.push(file.to_str().unwrap().to_owned());
    }
    let out = root.join("out");
    let out_s = out.to_str().unwrap();
    let o = xenfab(&["render", &files[0], "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    // how long a small change takes
    let started = Instant::now();
    let o = xenfab(&["render", &files[1], "-o", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cycle = started.elapsed();
    assert!(out.join(".xenfab-manifest-delta.json").exists());

    let order = [2, 3, 2, 0, 1, 3, 0, 2, 1, 3, 2, 0, 3, 1, 0, 3, 2, 1, 0, 3];
    let (mut killed, mut finished) = (0, 0);
    for (i, (at, v)) in KILL_AT.iter().zip(order).enumerate() {
        if render_killed(&files[v], out_s, cycle.mul_f64(*at), i) {
            killed += 1;
        } else {
            finished += 1;
        }
        for (path, node) in &comparable(snapshot(&out)) {
            if is_temp(path) {
                continue;
            }
            assert!(
                wants.iter().any(|want| want.get(path) == Some(node)),
                "run {i} (killed after {:?}): `{path}` is torn or unknown",
                cycle.mul_f64(*at)
            );
        }
    }
    eprintln!("a small change took {cycle:?}; {killed} run(s) killed, {finished} finished");
    assert!(killed >= 5, "only {killed} runs were killed");

    // Each next render leaves exactly a fresh render's tree: the dom0 added by `more` is
    // removed again, so the manifest owned its files.
    for v in [3, 0, 2] {
        let o = xenfab(&["render", &files[v], "-o", out_s]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got = comparable(snapshot(&out));
        let differ: Vec<&String> = got
            .keys()
            .chain(wants[v].keys())
            .filter(|p| got.get(*p) != wants[v].get(*p))
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "v{v} differs from a fresh render: {differ:?}"
        );
    }
}

/// A tree's `snapshot` without xenfab's own files, and its DNS zones without their serials
/// (which move when the records do, and start at 1 in a fresh render).
fn comparable(tree: BTreeMap<String, Node>) -> BTreeMap<String, Node> {
    tree.into_iter()
        .filter(|(path, _)| !BOOKKEEPING.contains(&path.as_str()))
        .map(|(path, node)| match node {
            Node::File(bytes, mode)
                if Path::new(&path).extension().is_some_and(|e| e == "zone") =>
            {
                let text = String::from_utf8(bytes).unwrap();
                let lines: Vec<&str> = text.lines().filter(|l| !l.ends_with("; serial")).collect();
                (path, Node::File(lines.join("\n").into_bytes(), mode))
            }
            node => (path, node),
        })
        .collect()
}
