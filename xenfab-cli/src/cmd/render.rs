//! `xenfab render FILE|--example -o DIR [--dry-run|--check] [--stat] [--force]`: write every
//! artefact into an output tree, or show what would change.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use xenfab_core::fingerprint::Fingerprinted;
use xenfab_core::output::{DiffError, LockKind, PlanOptions, SiteStamp, Survey, plan_streamed};

use crate::fabric::{Failure, LockArgs, Sourced, WriterFabricArg};

/// Render every artefact of a fabric into DIR, writing only what changed.
///
/// Files xenfab wrote earlier for hosts that are gone are removed; files it did not write are
/// never touched. Nothing is written when the fabric has errors, when DIR holds another site's
/// artefacts, or when more than half of what xenfab wrote there would be removed (unless
/// `--force`). Runs into one DIR take turns (a lock on DIR/.xenfab-lock).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: WriterFabricArg,
    /// The output directory.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    write: WriteArgs,
}

/// The options of every command that renders into an output tree.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct WriteArgs {
    /// Show what would change, as a unified diff on stdout, without writing (the site's
    /// files first, then each dom0's with its guests').
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing, show what would change as `--dry-run` does, and exit with status 1 when
    /// something would (0 when DIR is up to date), as `cargo fmt --check` does.
    #[arg(long)]
    pub check: bool,
    /// Write nothing, and instead of the diff show one line for each file that would change,
    /// with how many lines it adds and removes (as `git diff --stat`), then the totals.
    #[arg(long)]
    pub stat: bool,
    /// Render even when DIR holds another site's artefacts, or when more than half of the
    /// files xenfab wrote there would be removed. Files xenfab did not write are still never
    /// touched.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

impl WriteArgs {
    /// Whether the run only shows what would change: `--dry-run`, `--check` or `--stat`.
    fn shows_only(self) -> bool {
        self.dry_run || self.check || self.stat
    }
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    write(|| args.fabric.load("render"), &args.output, args.write)
}

/// With `XENFAB_TIMINGS` set, how long a step took (since `since`) on stderr: the figures of
/// benches/scale/README.md's profile.
fn timing(step: &str, since: Instant) -> Instant {
    if std::env::var_os("XENFAB_TIMINGS").is_some() {
        // the resident memory now and at its peak so far, where Linux says (`/proc`)
        let memory = std::fs::read_to_string("/proc/self/status")
            .ok()
            .map(|status| {
                let field = |name: &str| {
                    status
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map_or("?", str::trim)
                        .to_owned()
                };
                format!(" (rss {}, peak {})", field("VmRSS:"), field("VmHWM:"))
            })
            .unwrap_or_default();
        eprintln!(
            "timing: {step}: {:.3} s{memory}",
            since.elapsed().as_secs_f64()
        );
    }
    Instant::now()
}

/// The fabric `sourced` gives, with the boot states `xenfab boot` recorded in `output`'s TFTP
/// tree applied, fingerprinted; and the site it stamps the tree with.
fn prepare(sourced: Sourced, output: &Path) -> Result<(Fingerprinted, SiteStamp), Failure> {
    let Sourced { loaded, origin } = sourced;
    let mut fabric = loaded.fabric;
    let site = SiteStamp::of(&fabric, &origin);
    // Hosts switched with `xenfab boot` keep the state it recorded in the TFTP tree.
    let tftp_root = output.join(xenfab_core::render::netboot::TFTP_DIR);
    let states = xenfab_core::output::boot::read_states(&tftp_root)?;
    for refused in states.apply(&mut fabric) {
        eprintln!("{}: warning: {refused}", tftp_root.display());
    }
    Ok((Fingerprinted::new(fabric), site))
}

/// Renders the fabric `load` gives into `output` (or shows the diff): what `render` and
/// `quattor render` do.
pub fn write(
    load: impl FnOnce() -> Result<Sourced, Failure>,
    output: &Path,
    args: WriteArgs,
) -> Result<ExitCode, Failure> {
    let mut step = Instant::now();
    // Held until the tree is written: another run waits, and sees the tree whole.
    let kind = if args.shows_only() {
        LockKind::Shared
    } else {
        LockKind::Exclusive
    };
    // Into a tree that is there, most of a rerun is reading its manifest and checking its
    // entries on disk, which needs the tree and not the fabric: done while the fabric loads,
    // the tree locked first. A tree not there yet is locked (and so made) only once the
    // fabric has loaded: a fabric with errors leaves no directory behind.
    let (prepared, _lock, survey) = if output.is_dir() {
        let lock = args.lock.lock(output, kind)?;
        let (prepared, survey) = std::thread::scope(|scope| {
            let survey = scope.spawn(|| {
                let survey = Survey::checked(output);
                timing("  survey (beside the load)", step);
                survey
            });
            let prepared = load().and_then(|sourced| {
                timing("  load (beside the survey)", step);
                prepare(sourced, output)
            });
            timing("  boot states and fingerprints (beside the survey)", step);
            (prepared, survey.join())
        });
        let survey = survey.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // the fabric's errors first: they are what the user has to fix
        let prepared = prepared?;
        (prepared, lock, survey?)
    } else {
        let sourced = load()?;
        let lock = args.lock.lock(output, kind)?;
        (prepare(sourced, output)?, lock, Survey::of(output)?)
    };
    step = timing(
        "load, boot states and fingerprints (and survey the tree)",
        step,
    );
    let (fabric, site) = prepared;
    let options = PlanOptions {
        site: Some(site),
        force: args.force,
    };
    // Renders only the parts of the tree whose inputs changed since the last run.
    // Of each file rendered, only its length and hash are kept: the files are rendered
    // again, a batch of parts at a time, to be written or shown.
    let plan = plan_streamed(survey, &fabric, &options)?;
    step = timing("render and plan", step);
    if let (Some((rendered, all)), Some(_)) =
        (plan.parts_rendered(), std::env::var_os("XENFAB_TIMINGS"))
    {
        let kept = if plan.sections_kept() {
            " (the site's without its DHCP and DNS files, kept)"
        } else {
            ""
        };
        eprintln!("timing: parts rendered: {rendered} of {all}{kept}");
    }
    if args.stat {
        let stats = plan.stat()?;
        super::print(&stat_lines(&stats))?;
    } else if args.shows_only() {
        // streamed: a dry run into an empty directory shows every file of the tree
        let mut failed = None;
        super::print_with(|out| match plan.write_diff(out) {
            Err(DiffError::Write(err)) => Err(err),
            Err(DiffError::Render(err)) => {
                failed = Some(err);
                Ok(())
            }
            Ok(()) => Ok(()),
        })?;
        if let Some(err) = failed {
            return Err(err.into());
        }
    }
    if args.shows_only() {
        timing("diff", step);
        eprintln!(
            "dry run: would write {}: {}",
            output.display(),
            plan.summary()
        );
        return Ok(if args.check && !plan.is_noop() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let stale = plan.stale_temps().len();
    let summary = plan.apply()?;
    step = timing("apply", step);
    let mut lines = String::new();
    for (sign, paths) in [
        ("+", &summary.created),
        ("~", &summary.changed),
        ("-", &summary.removed),
    ] {
        for p in paths {
            let _ = writeln!(lines, "{sign} {p}");
        }
    }
    super::print(&lines)?;
    if stale > 0 {
        eprintln!(
            "{}: removed {stale} temporary file(s) an interrupted run left",
            output.display()
        );
    }
    eprintln!("{}: {summary}", output.display());
    timing("report", step);
    Ok(ExitCode::SUCCESS)
}

/// The widest bar of `--stat`, in columns, as git's default for a narrow terminal.
const STAT_BAR: usize = 40;

/// `--stat`'s lines: for each change its sign (`+` created, `~` changed, `-` removed, as a
/// render lists what it wrote), its path, how many lines it changes and a bar of `+` and `-`
/// (scaled down to [`STAT_BAR`] columns for the largest); then the totals, as `git diff
/// --stat` gives them.
fn stat_lines(stats: &[xenfab_core::output::FileStat]) -> String {
    use xenfab_core::output::ChangeKind;
    let path_width = stats
        .iter()
        .map(|s| s.path.as_str().len())
        .max()
        .unwrap_or(0);
    let most = stats
        .iter()
        .map(|s| s.insertions + s.deletions)
        .max()
        .unwrap_or(0);
    let count_width = most.to_string().len();
    // Columns for `n` lines: at least one for a change of any size.
    let columns = |n: usize| match n {
        0 => 0,
        n if most <= STAT_BAR => n,
        n => (n * STAT_BAR / most).max(1),
    };
    let mut out = String::new();
    let (mut insertions, mut deletions) = (0, 0);
    for s in stats {
        let sign = match s.kind {
            ChangeKind::Create => '+',
            ChangeKind::Remove => '-',
            ChangeKind::Change | ChangeKind::Unchanged => '~',
        };
        let line = format!(
            "{sign} {:path_width$} | {:>count_width$} {}{}",
            s.path.as_str(),
            s.insertions + s.deletions,
            "+".repeat(columns(s.insertions)),
            "-".repeat(columns(s.deletions)),
        );
        // no bar (a mode changed, an empty file): no trailing blank
        out.push_str(line.trim_end());
        out.push('\n');
        insertions += s.insertions;
        deletions += s.deletions;
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        out,
        "{} changed, {}, {}",
        plural(stats.len(), "file", "files"),
        plural(insertions, "insertion(+)", "insertions(+)"),
        plural(deletions, "deletion(-)", "deletions(-)"),
    );
    out
}
