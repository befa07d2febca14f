//! `xenfab render FILE|--example -o DIR [--dry-run|--check] [--stat] [--force] [--host HOST]...`:
//! write every artefact into an output tree, or show what would change.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use std::collections::BTreeSet;

use xenfab_core::Fabric;
use xenfab_core::fingerprint::Fingerprinted;
use xenfab_core::output::{
    DiffError, LockKind, NoProgress, PlanOptions, Progress, RelPath, SiteStamp, StreamedPlan,
    Summary, Survey, Untouched, plan_streamed_with,
};
use xenfab_core::render::owners::Owners;

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
    /// Show only the entries of this host (short name or FQDN) with --dry-run, --check or
    /// --stat: a dom0's own files (its directory, its guests' configs among them) or a
    /// guest's. Give it again for more. A render that writes writes the whole tree: --host
    /// without one of the three is refused.
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
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
    /// The directories of the tree `--no-dhcp` and `--no-tftp` leave as they are.
    fn untouched(self) -> Vec<Untouched> {
        [
            (self.no_dhcp, Untouched::Dhcp),
            (self.no_tftp, Untouched::Tftp),
        ]
        .into_iter()
        .filter_map(|(given, dir)| given.then_some(dir))
        .collect()
    }

    /// Whether the run only shows what would change: `--dry-run`, `--check` or `--stat`.
    fn shows_only(self) -> bool {
        self.dry_run || self.check || self.stat
    }
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    if !args.hosts.is_empty() && !args.write.shows_only() {
        // A render of some hosts' entries alone would leave the tree's manifest saying what
        // no full render made (its parts' fingerprints, the site's files that list every
        // host): the next render could take a part for up to date that is not.
        return Err(Failure::Io(
            "error: --host shows some hosts' entries of a render (with --dry-run, --check or \
             --stat) and writes nothing: a render writes the whole tree, so that the site's \
             files and every part stay consistent; add --dry-run, --check or --stat, or leave \
             out --host"
                .to_owned(),
        ));
    }
    write_hosts(
        || args.fabric.load("render"),
        &args.output,
        args.write,
        &args.hosts,
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

/// Renders the fabric `load` gives into `output` (or shows the diff): what `render` and
/// `quattor render` do.
pub fn write(
    load: impl FnOnce() -> Result<Sourced, Failure>,
    output: &Path,
    args: WriteArgs,
) -> Result<ExitCode, Failure> {
    write_hosts(load, output, args, &[])
}

/// [`write()`], showing only the entries of `hosts` (none: every entry) when it only shows.
fn write_hosts(
    load: impl FnOnce() -> Result<Sourced, Failure>,
    output: &Path,
    args: WriteArgs,
    hosts: &[String],
) -> Result<ExitCode, Failure> {
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
        untouched: args.untouched(),
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
    if !hosts.is_empty() {
        if let Some(bar) = &bar {
            bar.hide();
        }
        return show_hosts(&plan, fabric.fabric(), hosts, args);
    }
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
        print_diff(&plan, color, |_| true)?;
    }
    if args.shows_only() {
        timing("diff", step);
        ui::note(&format!(
            "dry run: would write {}: {}",
            output.display(),
            plan.summary()
        ));
        return Ok(if args.check && !plan.is_noop() {
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
    ui::note(&format!("{}: {summary}", output.display()));
    timing("report", step);
    Ok(ExitCode::SUCCESS)
}

/// Prints the diff of the entries of `plan` that `select` takes on stdout as it is made,
/// coloured when `color`; a render error met on the way is returned once the diff so far is
/// out.
fn print_diff(
    plan: &StreamedPlan,
    color: bool,
    select: impl Fn(&RelPath) -> bool,
) -> Result<(), Failure> {
    let mut failed = None;
    super::print_with(|out| {
        let written = if color {
            let mut colored = ui::ColoredDiff::new(&mut *out);
            let written = plan.write_diff_of(&mut colored, &select);
            colored.finish()?;
            written
        } else {
            plan.write_diff_of(out, &select)
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

/// `--dry-run`, `--check` or `--stat` of the entries of `hosts` alone (`--host`); what the
/// other entries would do is summed up on stderr, the site's files that would change named.
fn show_hosts(
    plan: &StreamedPlan<'_>,
    fabric: &Fabric,
    hosts: &[String],
    args: WriteArgs,
) -> Result<ExitCode, Failure> {
    use xenfab_core::output::ChangeKind;
    let mut wanted = BTreeSet::new();
    for name in hosts {
        wanted.insert(fabric.fqdn(super::boot::find_host(fabric, name)?.name()));
    }
    let owners = Owners::new(fabric);
    let select = |path: &RelPath| {
        owners
            .of(path.as_str())
            .iter()
            .any(|h| wanted.contains(&fabric.fqdn(h.name())))
    };
    let color = ui::get().color_out;
    if args.stat {
        let stats = plan.stat_of(select)?;
        super::print(&stat_lines(&stats, color))?;
    } else {
        print_diff(plan, color, select)?;
    }
    let mut shown = Summary::default();
    let (mut site, mut others, mut removed) = (Vec::new(), 0usize, 0usize);
    // the other hosts whose entries would change, by FQDN
    let mut other_hosts = BTreeSet::new();
    for change in plan.changes() {
        if select(&change.path) {
            match change.kind {
                ChangeKind::Create => &mut shown.created,
                ChangeKind::Change => &mut shown.changed,
                ChangeKind::Unchanged => &mut shown.unchanged,
                ChangeKind::Remove => &mut shown.removed,
            }
            .push(change.path.clone());
        } else if change.kind != ChangeKind::Unchanged {
            let of = owners.of(change.path.as_str());
            if change.kind == ChangeKind::Remove {
                // its part is the old manifest's: another host's, a gone host's or the site's
                removed += 1;
            } else if of.is_empty() {
                site.push(change.path.as_str());
            } else {
                others += 1;
                other_hosts.extend(of.iter().map(|h| fabric.fqdn(h.name())));
            }
        }
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    ui::note(&format!(
        "dry run: would write {} for {}: {shown}",
        plan.root().display(),
        names.join(", ")
    ));
    if !site.is_empty() {
        ui::note(&format!(
            "not shown: {} site file(s) that list every host, which a render without --host \
             writes: {}",
            site.len(),
            site.join(", ")
        ));
    }
    if others > 0 {
        let hosts: Vec<&str> = other_hosts.iter().map(String::as_str).collect();
        let hosts = if hosts.is_empty() {
            String::new()
        } else {
            format!(" ({})", hosts.join(", "))
        };
        ui::note(&format!(
            "not shown: {others} entries of other hosts{hosts}"
        ));
    }
    if removed > 0 {
        ui::note(&format!(
            "not shown: {removed} entries to remove that are not the hosts' given"
        ));
    }
    let changes = shown.created.len() + shown.changed.len() + shown.removed.len();
    Ok(if args.check && changes > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
