//! `xenfab status`: every host's boot state; and `xenfab boot HOST` without a state, one
//! host's (docs/lifecycle.md).

use std::fmt::Write;
use std::process::ExitCode;

use xenfab_core::Fabric;
use xenfab_core::model::HostRef;
use xenfab_core::output::LockKind;
use xenfab_core::output::boot::{self, BootStates, HostStatus};

use super::boot::TftpArgs;
use crate::fabric::{self, Failure};

/// List every host's boot state: what network boot gives it next (`install`, `reinstall`,
/// `localboot` or `rescue`), and whether `xenfab boot` recorded it in the TFTP tree or it is
/// the fabric's.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The fabric: `--fabric FILE`, `--profiles DIR` or `--example`.
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    #[command(flatten)]
    tree: TftpArgs,
    /// One JSON array, an object a host: `host`, `dom0` (null for a dom0), `state`,
    /// `recorded` (true when `xenfab boot` set it).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lock: fabric::LockArgs,
}

/// Where a host's state comes from, in words.
fn from(h: &HostStatus) -> &'static str {
    if h.recorded { "xenfab boot" } else { "fabric" }
}

/// The recorded states of the tree `tree` names, read under a shared lock (a `boot` switching
/// a host waits, and is not seen half done), applied to `fabric` as `render` applies them; each
/// recorded state the fabric's host cannot be in is said on stderr, as `render` says it.
pub(super) fn recorded(
    fabric: &mut Fabric,
    tree: &TftpArgs,
    lock: fabric::LockArgs,
) -> Result<BootStates, Failure> {
    let (root, locked) = tree.locate()?;
    let _lock = lock.lock(&locked, LockKind::Shared)?;
    let states = boot::read_states(&root)?;
    for refused in states.apply(fabric) {
        crate::ui::note(&format!(
            "{}: {}",
            root.display(),
            crate::ui::tagged(&format!("warning: {refused}"))
        ));
    }
    Ok(states)
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut f = args.fabric.load("status")?.loaded.fabric;
    let states = recorded(&mut f, &args.tree, args.lock)?;
    let f = &f;
    let hosts: Vec<HostStatus> = f.hosts().map(|h| states.status(f, h)).collect();
    if args.json {
        let rows: Vec<serde_json::Value> = hosts
            .iter()
            .map(|h| {
                serde_json::json!({
                    "host": h.host, "dom0": h.dom0, "state": h.state.as_str(), "recorded": h.recorded,
                })
            })
            .collect();
        let json =
            serde_json::to_string_pretty(&rows).map_err(|e| Failure::Io(format!("error: {e}")))?;
        return super::print(&format!("{json}\n")).map(|()| ExitCode::SUCCESS);
    }
    let width = |column: &dyn Fn(&HostStatus) -> usize, title: &str| {
        hosts.iter().map(column).max().unwrap_or(0).max(title.len())
    };
    let host_w = width(&|h| h.host.len(), "HOST");
    let dom0_w = width(&|h| h.dom0.as_deref().map_or(1, str::len), "DOM0");
    let state_w = width(&|h| h.state.as_str().len(), "STATE");
    let mut out = format!(
        "{:host_w$}  {:dom0_w$}  {:state_w$}  FROM\n",
        "HOST", "DOM0", "STATE"
    );
    for h in &hosts {
        let _ = writeln!(
            out,
            "{:host_w$}  {:dom0_w$}  {:state_w$}  {}",
            h.host,
            h.dom0.as_deref().unwrap_or("-"),
            h.state.as_str(),
            from(h)
        );
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `xenfab boot HOST` without a state: the state on stdout (a word, for scripts), where it
/// comes from on stderr.
pub fn print_one(
    fabric: &Fabric,
    host: HostRef<'_>,
    tree: &TftpArgs,
    lock: fabric::LockArgs,
) -> Result<ExitCode, Failure> {
    let mut applied = fabric.clone();
    let states = recorded(&mut applied, tree, lock)?;
    // the same host in the fabric with the states applied (which keeps every host)
    let host = applied
        .hosts()
        .find(|h| h.name() == host.name())
        .ok_or_else(|| {
            Failure::Io(format!(
                "error: no host `{}` after applying boot states",
                host.name()
            ))
        })?;
    let h = states.status(&applied, host);
    super::print(&format!("{}\n", h.state.as_str()))?;
    let from = if h.recorded {
        "recorded by `xenfab boot` in the TFTP tree"
    } else {
        "the fabric's: `xenfab boot` did not switch it"
    };
    crate::ui::note(&format!("{}: {} ({from})", h.host, h.state.as_str()));
    Ok(ExitCode::SUCCESS)
}
