//! `xenfab report [FILE] [--json | --html OUT] [--host HOST]...`: the capacity of each dom0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xenfab_core::model::HostRef;
use xenfab_core::render::{inventory, report};

use crate::fabric::{self, FabricArg, Failure};

/// Print the capacity of each dom0: memory (hypervisor, dom0, guests, free), CPUs and vCPUs,
/// each volume group (dom0's own volumes, guests, free), the save area, and the guests.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: FabricArg,
    /// Print JSON (sizes in MiB) instead of a table.
    #[arg(long, conflicts_with = "html")]
    json: bool,
    /// Write the report as one HTML page to OUT (`-`: standard output): a bar of each dom0's
    /// memory and of each volume group, its guests and the warnings, with its style inline
    /// and no script, to open from the file. OUT is replaced atomically.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Report only this dom0 (short name or FQDN); a guest's name reports its dom0, whose
    /// capacity it shares. Give it again for more; the dom0s keep the fabric's order.
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    if let Some(out) = &args.html {
        refuse_directory(out)?;
    }
    let fabric::Sourced { mut loaded, origin } =
        fabric::load_sourced(args.fabric.file(), args.fabric.format)?;
    if !args.hosts.is_empty() {
        let mut dom0s = std::collections::BTreeSet::new();
        for name in &args.hosts {
            let host = super::boot::find_host(&loaded.fabric, name)?;
            let (HostRef::Dom0(d) | HostRef::Guest(d, _)) = host;
            dom0s.insert(d.name.clone());
        }
        loaded.fabric.dom0s.retain(|d| dom0s.contains(&d.name));
    }
    let failed = |e: xenfab_core::RenderError| {
        Failure::Io(format!("error: {}", xenfab_core::error_chain(&e)))
    };
    if let Some(out) = &args.html {
        let page =
            report::capacity_html(&loaded.fabric, &loaded.warnings, &origin).map_err(failed)?;
        if out == Path::new("-") {
            super::print(&page)?;
        } else {
            super::write_atomically(out, &page)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = if args.json {
        inventory::capacity_json(&loaded.fabric)
    } else {
        inventory::capacity_report(&loaded.fabric)
    };
    super::print(&text.map_err(failed)?)?;
    Ok(ExitCode::SUCCESS)
}

/// A directory is not a file to write the page to; say so before the fabric is read.
fn refuse_directory(out: &Path) -> Result<(), Failure> {
    if out.is_dir() {
        return Err(Failure::Io(format!(
            "error: --html {}: is a directory; give the name of the file to write",
            out.display()
        )));
    }
    Ok(())
}
