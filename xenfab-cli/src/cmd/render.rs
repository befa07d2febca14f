//! `xenfab render FILE|--example -o DIR [--dry-run|--check] [--stat] [--force] [--host HOST]...`:
//! write every artefact into an output tree, or show what would change.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use xenfab_core::Fabric;
use xenfab_core::fingerprint::Fingerprinted;
use xenfab_core::output::{
    DiffError, LockKind, NoProgress, PlanOptions, Progress, SiteStamp, StreamedPlan, Survey,
    Untouched, plan_streamed_with,
};

use crate::fabric::{Failure, LockArgs, Sourced, WriterFabricArg};
use crate::progress::Bar;
use crate::ui;

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
    #[command(flatten)]
    host: HostArgs,
}

/// `--host`, of every command that renders into an output tree.
#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// Write (or with --dry-run, --check or --stat show) only the artefacts of this host
    /// (short name or FQDN), as `xenfab show HOST` lists them: a dom0's own files (its
    /// directory, its guests' configs among them) or a guest's. Give it again for more.
    /// Everything else in DIR is left as it is: the site's files that list every host, the
    /// other hosts' files, files of hosts gone; a render without --host brings them up to
    /// date.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
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
    /// Leave DIR/dhcp/ as it is: write, change and remove nothing there, for a site whose
    /// DHCP server is configured otherwise (Quattor's aii-dhcp). A later render without it
    /// brings dhcp/ up to date.
    #[arg(long)]
    pub no_dhcp: bool,
    /// Leave DIR/tftpboot/ as it is: write, change and remove nothing there, for a site whose
    /// network boot files are written otherwise (Quattor's aii-pxelinux). A later render
    /// without it brings tftpboot/ up to date.
    #[arg(long)]
    pub no_tftp: bool,
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
    write(
        || args.fabric.load("render"),
        &args.output,
        args.write,
        &args.host,
    )
}

/// Whether each step's time is printed: `--verbose`, or `XENFAB_TIMINGS` set (the figures of
/// benches/scale/README.md's profile).
fn timings() -> bool {
    ui::get().verbose || std::env::var_os("XENFAB_TIMINGS").is_some()
}

/// With [`timings`], how long a step took (since `since`) on stderr, and the memory.
fn timing(step: &str, since: Instant) -> Instant {
    if timings() {
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
        ui::eprint_line(&format!(
            "timing: {step}: {:.3} s{memory}",
            since.elapsed().as_secs_f64()
        ));
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
        ui::note(&format!(
            "{}: {}",
            tftp_root.display(),
            ui::tagged(&format!("warning: {refused}"))
        ));
    }
    Ok((Fingerprinted::new(fabric), site))
}

/// Renders the fabric `load` gives into `output` (or shows the diff), of the artefacts of
/// `host`'s hosts alone when it names some (see [`PlanOptions::hosts`]): what `render` and
/// `quattor render` do.
pub fn write(
    load: impl FnOnce() -> Result<Sourced, Failure>,
    output: &Path,
    args: WriteArgs,
    host: &HostArgs,
) -> Result<ExitCode, Failure> {
    let hosts = host.hosts.as_slice();
    let mut step = Instant::now();
    // On a terminal, which step the run is at (load and survey, render, plan, write…).
    let bar = Bar::new("load", "reading and checking the fabric");
    let progress: &dyn Progress = match &bar {
        Some(bar) => bar,
        None => &NoProgress,
    };
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
                let named = named_hosts(&sourced.loaded.fabric, hosts)?;
                Ok((prepare(sourced, output)?, named))
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
        // an unknown host, as an invalid fabric, leaves no directory behind
        let named = named_hosts(&sourced.loaded.fabric, hosts)?;
        let lock = args.lock.lock(output, kind)?;
        (
            (prepare(sourced, output)?, named),
            lock,
            Survey::of(output)?,
        )
    };
    step = timing(
        "load, boot states and fingerprints (and survey the tree)",
        step,
    );
    let ((fabric, site), named) = prepared;
    let options = PlanOptions {
        site: Some(site),
        force: args.force,
        untouched: Untouched::chosen(args.no_dhcp, args.no_tftp),
        hosts: hosts.to_vec(),
    };
    // " for ullr.example.org, …" after the output directory, with --host
    let for_hosts = if named.is_empty() {
        String::new()
    } else {
        format!(" for {}", named.join(", "))
    };
    // Renders only the parts of the tree whose inputs changed since the last run.
    // Of each file rendered, only its length and hash are kept: the files are rendered
    // again, a batch of parts at a time, to be written or shown.
    let plan = plan_streamed_with(survey, &fabric, &options, progress)?;
    step = timing("render and plan", step);
    if let (Some((rendered, all)), true) = (plan.parts_rendered(), timings()) {
        let kept = if plan.sections_kept() {
            " (the site's without its DHCP and DNS files, kept)"
        } else {
            ""
        };
        ui::eprint_line(&format!(
            "timing: parts rendered: {rendered} of {all}{kept}"
        ));
    }
    let left_behind = (!hosts.is_empty())
        .then(|| left_behind_note(&plan, fabric.fabric()))
        .flatten();
    let color = ui::get().color_out;
    if args.stat {
        let stats = plan.stat()?;
        if let Some(bar) = &bar {
            bar.hide();
        }
        super::print(&stat_lines(&stats, color))?;
    } else if args.shows_only() {
        // The diff goes to stdout as it is made: no bar drawn over it, or over a pager.
        if let Some(bar) = &bar {
            bar.hide();
        }
        // streamed: a dry run into an empty directory shows every file of the tree
        print_diff(&plan, color)?;
    }
    if args.shows_only() {
        timing("diff", step);
        ui::note(&format!(
            "dry run: would write {}{for_hosts}: {}",
            output.display(),
            plan.summary()
        ));
        if let Some(note) = &left_behind {
            ui::note(note);
        }
        // With --host, whether one of the hosts' entries would change: the manifest's
        // record of the parts left behind changes too, but that is --host's doing.
        let changes = if hosts.is_empty() {
            !plan.is_noop()
        } else {
            plan.changes()
                .iter()
                .any(|c| c.kind != xenfab_core::output::ChangeKind::Unchanged)
        };
        return Ok(if args.check && changes {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let stale = plan.stale_temps().len();
    let summary = plan.apply()?;
    drop(bar);
    step = timing("apply", step);
    let quiet = ui::get().quiet;
    let mut lines = String::new();
    for (sign, paths) in [
        ("+", &summary.created),
        ("~", &summary.changed),
        ("-", &summary.removed),
    ] {
        for p in paths.iter().filter(|_| !quiet) {
            let _ = writeln!(lines, "{sign} {p}");
        }
    }
    super::print(&lines)?;
    if stale > 0 {
        ui::note(&format!(
            "{}: removed {stale} temporary file(s) an interrupted run left",
            output.display()
        ));
    }
    ui::note(&format!("{}{for_hosts}: {summary}", output.display()));
    if let Some(note) = &left_behind {
        ui::note(note);
    }
    timing("report", step);
    Ok(ExitCode::SUCCESS)
}

/// Prints the diff of `plan` on stdout as it is made, coloured when `color`; a render error
/// met on the way is returned once the diff so far is out.
fn print_diff(plan: &StreamedPlan, color: bool) -> Result<(), Failure> {
    let mut failed = None;
    super::print_with(|out| {
        let written = if color {
            let mut colored = ui::ColoredDiff::new(&mut *out);
            let written = plan.write_diff(&mut colored);
            colored.finish()?;
            written
        } else {
            plan.write_diff(out)
        };
        match written {
            Err(DiffError::Write(err)) => Err(err),
            Err(DiffError::Render(err)) => {
                failed = Some(err);
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    })?;
    match failed {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}

/// The FQDNs of the fabric's hosts `names` (short names or FQDNs, as `--host` takes them),
/// in the order given; an unknown one is an error that names the fabric's hosts.
fn named_hosts(fabric: &Fabric, names: &[String]) -> Result<Vec<String>, Failure> {
    let mut fqdns: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let fqdn = fabric.fqdn(super::boot::find_host(fabric, name)?.name());
        if !fqdns.contains(&fqdn) {
            fqdns.push(fqdn);
        }
    }
    Ok(fqdns)
}

/// With `--host`, what was left as it is and is no longer what the fabric makes of it (the
/// parts [`StreamedPlan::left_behind`] names): the site's files, and the other files of
/// dom0s' parts (a dom0's, its guests'); `None` when nothing is.
fn left_behind_note(plan: &StreamedPlan<'_>, fabric: &Fabric) -> Option<String> {
    let parts = plan.left_behind();
    if parts.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if parts.contains(&None) {
        what.push("the site's files that list every host".to_owned());
    }
    // in the fabric's order, as `left_behind` gives them (one pass: a site's many dom0s)
    let behind: std::collections::HashSet<&str> = parts.iter().flatten().copied().collect();
    let dom0s: Vec<String> = fabric
        .dom0s
        .iter()
        .filter(|d| behind.contains(d.name.as_str()))
        .map(|d| fabric.fqdn(&d.name))
        .collect();
    if !dom0s.is_empty() {
        /// How many dom0s the note names; the rest are counted.
        const NAMED: usize = 8;
        let whose = if dom0s.len() == 1 { "its" } else { "their" };
        let mut named = dom0s[..dom0s.len().min(NAMED)].join(", ");
        if dom0s.len() > NAMED {
            let _ = write!(named, " and {} more dom0s", dom0s.len() - NAMED);
        }
        what.push(format!("files of {named} or {whose} guests"));
    }
    Some(format!(
        "left as they are, and out of date: {}; a render without --host writes them",
        what.join(", and ")
    ))
}

/// The widest bar of `--stat`, in columns, as git's default for a narrow terminal.
const STAT_BAR: usize = 40;

/// `--stat`'s lines: for each change its sign (`+` created, `~` changed, `-` removed, as a
/// render lists what it wrote), its path, how many lines it changes and a bar of `+` and `-`
/// (scaled down to [`STAT_BAR`] columns for the largest); then the totals, as `git diff
/// --stat` gives them.
fn stat_lines(stats: &[xenfab_core::output::FileStat], color: bool) -> String {
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
            "{sign} {:path_width$} | {:>count_width$}",
            s.path.as_str(),
            s.insertions + s.deletions,
        );
        let (plus, minus) = (columns(s.insertions), columns(s.deletions));
        out.push_str(&line);
        // no bar (a mode changed, an empty file): no trailing blank
        if plus + minus > 0 {
            out.push(' ');
            out.push_str(&ui::paint(&"+".repeat(plus), ui::ADDED, color && plus > 0));
            out.push_str(&ui::paint(
                &"-".repeat(minus),
                ui::REMOVED,
                color && minus > 0,
            ));
        }
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
