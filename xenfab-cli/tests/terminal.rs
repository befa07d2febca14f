//! The `xenfab` command on a terminal and off it (issue 16): the progress bar and the lines
//! of the fabric under a diagnostic only where stderr is a terminal (run under `script`,
//! which gives the command a pseudo-terminal), colours only where wanted, `--quiet`, and the
//! same bytes as before on a pipe.

mod common;

#[path = "../../xenfab-core/tests/support/bench_site.rs"]
mod bench_site;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{case, scratch_dir, stderr, stdout};

/// The colour settings of the environment the tests run in, which the tests set themselves.
const COLOR_VARS: [&str; 3] = ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"];

/// `xenfab ARGS` with stdout and stderr piped, in an environment without colour settings
/// but `env`.
fn xenfab_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xenfab"));
    for var in COLOR_VARS {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).args(args);
    command.output().expect("xenfab runs")
}

fn xenfab(args: &[&str]) -> Output {
    xenfab_env(args, &[])
}

/// `word` quoted for the shell.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `xenfab ARGS` on a pseudo-terminal (`script`), with stdout into the file `stdout` (or on
/// the terminal too): what the terminal showed. It must exit with `code`.
fn on_terminal(args: &[&str], stdout: Option<&Path>, code: i32) -> String {
    let mut line = quoted(env!("CARGO_BIN_EXE_xenfab"));
    for arg in args {
        line.push(' ');
        line.push_str(&quoted(arg));
    }
    if let Some(file) = stdout {
        line.push_str(" > ");
        line.push_str(&quoted(file.to_str().unwrap()));
    }
    let mut command = Command::new("script");
    for var in COLOR_VARS {
        command.env_remove(var);
    }
    let o = command
        .env("TERM", "xterm")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .expect("script (util-linux) runs");
    assert_eq!(
        o.status.code(),
        Some(code),
        "{line}: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The dom0s of the generated site: more than a batch of parts (256), so that it is rendered
/// and written a batch at a time, as a big site is; 2,000 dom0s of 10 guests take a minute
/// in a debug build.
const DOM0S: u32 = 260;

#[test]
fn render_shows_its_progress_on_a_terminal_and_nothing_more_on_a_pipe() {
    let dir = scratch_dir();
    let fabric = dir.path().join("site.toml");
    fs::write(&fabric, bench_site::site_toml(DOM0S, 1)).unwrap();
    let fabric = fabric.to_str().unwrap();

    // On a pipe: the list of the files on stdout, the summary on stderr, and nothing else.
    let piped = dir.path().join("piped");
    let o = xenfab(&["render", fabric, "-o", piped.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = stdout(&o).lines().count();
    assert!(files > 1000, "{files}");
    assert!(stdout(&o).lines().all(|l| l.starts_with("+ ")));
    assert_eq!(
        stderr(&o),
        format!(
            "{}: {files} created, 0 changed, 0 unchanged, 0 removed\n",
            piped.display()
        )
    );
    assert!(!o.stdout.contains(&0x1b) && !o.stderr.contains(&0x1b));

    // On a terminal: the steps, with the parts and files counted, then the same summary.
    let shown = dir.path().join("shown");
    let paths = dir.path().join("stdout.txt");
    let screen = on_terminal(
        &["render", fabric, "-o", shown.to_str().unwrap()],
        Some(&paths),
        0,
    );
    let parts = format!("/{} parts", DOM0S + 1);
    // What the bar draws of a step depends on its length (at most 10 redraws a second): the
    // first step and the render (261 parts, in batches) are always drawn; of the steps that
    // count files, whichever lasts long enough.
    for needle in [
        "load: reading and checking the fabric",
        "render: [",
        parts.as_str(),
        " files",
    ] {
        assert!(screen.contains(needle), "no `{needle}` in {screen:?}");
    }
    // the bar is cleared: the last line is the summary
    let summary = format!(
        "{}: {files} created, 0 changed, 0 unchanged, 0 removed\r\n",
        shown.display()
    );
    assert!(screen.ends_with(&summary), "{screen:?}");
    assert_eq!(fs::read(&paths).unwrap(), o.stdout);
    assert_eq!(
        common::snapshot(&shown).len(),
        common::snapshot(&piped).len()
    );

    // A rerun into the tree on a pipe: the summary alone, as before.
    let o = xenfab(&["render", fabric, "-o", piped.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        format!(
            "{}: 0 created, 0 changed, {files} unchanged, 0 removed\n",
            piped.display()
        )
    );

    // --quiet on a terminal: no bar, no summary.
    let screen = on_terminal(
        &["render", fabric, "-o", shown.to_str().unwrap(), "--quiet"],
        None,
        0,
    );
    assert_eq!(screen, "");
}

#[test]
fn colours_are_given_when_asked_and_never_on_a_pipe_by_default() {
    let dir = scratch_dir();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let dry_run = ["render", "--example", "-o", out, "--dry-run"];
    let plain = xenfab(&dry_run);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(!plain.stdout.contains(&0x1b));
    assert!(stdout(&plain).contains("\n+++ b/"));

    let always = xenfab(&[&dry_run[..], &["--color", "always"]].concat());
    assert!(always.status.success());
    let colored = stdout(&always);
    assert!(colored.contains("\x1b[32m+"), "{}", &colored[..400]);
    assert!(colored.contains("\x1b[1m+++ b/"), "{}", &colored[..400]);
    assert_eq!(
        anstream::adapter::strip_str(&colored).to_string(),
        stdout(&plain)
    );
    // CLICOLOR_FORCE, as anstream reads it, on a pipe
    let forced = xenfab_env(&dry_run, &[("CLICOLOR_FORCE", "1")]);
    assert_eq!(forced.stdout, always.stdout);

    for (args, env) in [
        (&[&dry_run[..], &["--color", "never"]].concat(), &[][..]),
        (&dry_run.to_vec(), &[("NO_COLOR", "1")][..]),
        (
            &[&dry_run[..], &["--color", "never"]].concat(),
            &[("CLICOLOR_FORCE", "1")][..],
        ),
    ] {
        let o = xenfab_env(args, env);
        assert!(o.status.success());
        assert_eq!(o.stdout, plain.stdout, "{args:?} {env:?}");
        assert_eq!(o.stderr, plain.stderr, "{args:?} {env:?}");
    }

    // --stat: the bars
    let stat = ["render", "--example", "-o", out, "--stat"];
    let plain = xenfab(&stat);
    let colored = xenfab(&[&stat[..], &["--color", "always"]].concat());
    assert!(!plain.stdout.contains(&0x1b));
    assert!(
        stdout(&colored).contains("\x1b[32m+"),
        "{}",
        stdout(&colored)
    );
    assert_eq!(
        anstream::adapter::strip_str(&stdout(&colored)).to_string(),
        stdout(&plain)
    );

    // diagnostics: the tags
    let invalid = case("invalid-everything");
    let plain = xenfab(&["validate", &invalid]);
    let colored = xenfab(&["validate", &invalid, "--color", "always"]);
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(colored.status.code(), Some(1));
    assert!(!plain.stderr.contains(&0x1b));
    let err = stderr(&colored);
    assert!(err.contains("\x1b[31merror[duplicate-ip]\x1b[0m"), "{err}");
    assert!(
        err.contains("\x1b[33mwarning[vcpu-overcommit]\x1b[0m"),
        "{err}"
    );
    assert_eq!(
        anstream::adapter::strip_str(&err).to_string(),
        stderr(&plain)
    );
}

/// clap's own help and usage errors follow `--color` too, wherever it is on the line.
#[test]
fn help_and_usage_errors_are_coloured_as_color_says() {
    let help = xenfab(&["render", "--help"]);
    assert!(help.status.success());
    assert!(!help.stdout.contains(&0x1b));
    for args in [
        &["--color", "always", "render", "--help"][..],
        &["render", "--help", "--color=always"],
        &["render", "--color", "always", "--help"],
    ] {
        let o = xenfab(args);
        assert!(o.status.success(), "{args:?}");
        let text = stdout(&o);
        assert!(text.contains("\x1b["), "{args:?}: {text}");
        assert_eq!(
            anstream::adapter::strip_str(&text).to_string(),
            stdout(&help),
            "{args:?}"
        );
    }
    // never: not even when the environment forces colours
    let o = xenfab_env(
        &["--color", "never", "render", "--help"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(o.stdout, help.stdout);
    let forced = xenfab_env(&["render", "--help"], &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains(&0x1b));

    // a usage error, on stderr
    let plain = xenfab(&["render", "--bogus"]);
    let colored = xenfab(&["--color", "always", "render", "--bogus"]);
    assert_eq!(plain.status.code(), Some(2));
    assert_eq!(colored.status.code(), Some(2));
    assert!(!plain.stderr.contains(&0x1b));
    let err = stderr(&colored);
    assert!(err.contains("\x1b["), "{err}");
    assert_eq!(
        anstream::adapter::strip_str(&err).to_string(),
        stderr(&plain)
    );
}

#[test]
fn quiet_prints_nothing_on_success_and_only_errors_on_failure() {
    let dir = scratch_dir();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for args in [
        &["render", "--example", "-o", out, "--quiet"][..],
        &["-q", "render", "--example", "-o", out][..],
        &["validate", "--quiet"][..],
    ] {
        let o = xenfab(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{args:?}");
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    assert!(Path::new(out).join(".xenfab-manifest.json").is_file());

    let o = xenfab(&["validate", "-q", &case("invalid-everything")]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error[duplicate-ip]"), "{err}");
    assert!(!err.contains("warning["), "{err}");

    // --verbose: each step's time
    let o = xenfab(&["render", "--example", "-o", out, "--verbose"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("timing: render and plan: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        xenfab(&["render", "--example", "-o", out, "-q", "-v"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_diagnostic_shows_its_line_of_the_fabric_on_a_terminal() {
    let invalid = case("invalid-everything");
    let text = fs::read_to_string(&invalid).unwrap();
    let gateway_line = 1 + text
        .lines()
        .position(|l| l.starts_with("gateway = \"192.168.97.254\""))
        .unwrap();
    let screen = on_terminal(&["validate", &invalid, "--color", "never"], None, 1);
    let lines: Vec<&str> = screen.split("\r\n").collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!(":{gateway_line}:1: error[gateway-outside-subnet]")))
        .unwrap_or_else(|| panic!("{screen}"));
    // the one-line diagnostic, then its line with the item marked (not the comment after it)
    assert_eq!(lines[at + 1].trim(), "|");
    assert!(
        lines[at + 2].starts_with(&format!("{gateway_line} | gateway = \"192.168.97.254\"")),
        "{screen}"
    );
    assert_eq!(
        lines[at + 3].trim_end(),
        format!(
            "{} | {}",
            " ".repeat(gateway_line.to_string().len()),
            "^".repeat("gateway = \"192.168.97.254\"".len())
        )
    );

    // a duplicate: the line of the first use too, with its place and path
    assert!(screen.contains(&format!("::: {invalid}:")), "{screen}");
    assert!(
        screen.contains("-------------------- dom0s[xen01].guests[ullr].ip"),
        "{screen}"
    );

    // On a pipe: the one-line diagnostics alone, as before.
    let o = xenfab(&["validate", &invalid]);
    assert!(!stderr(&o).contains(" | "), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .lines()
            .all(|l| l.starts_with(&invalid) || l.starts_with("xenfab: "))
    );

    // A file that does not parse: its line below the error, on a terminal.
    let dir = scratch_dir();
    let broken = dir.path().join("broken.toml");
    fs::write(
        &broken,
        "version = 1\n[site]\nname = \"grid\"\nnmae = \"x\"\n",
    )
    .unwrap();
    let screen = on_terminal(
        &["validate", broken.to_str().unwrap(), "--color=never"],
        None,
        1,
    );
    assert!(screen.contains("4 | nmae = \"x\""), "{screen}");
    let o = xenfab(&["validate", broken.to_str().unwrap()]);
    assert!(!stderr(&o).contains(" | "), "{}", stderr(&o));
}
