//! `xenfab report [FILE] [--json]`: the capacity of each dom0.

use std::process::ExitCode;

use xenfab_core::render::inventory;

use crate::fabric::{self, FabricArg, Failure};

/// Print the capacity of each dom0: memory (hypervisor, dom0, guests, free), CPUs and vCPUs,
/// each volume group (dom0's own volumes, guests, free), the save area, and the guests.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: FabricArg,
    /// Print JSON (sizes in MiB) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = fabric::load(args.fabric.file(), args.fabric.format)?;
    let text = if args.json {
        inventory::capacity_json(&loaded.fabric)
    } else {
        inventory::capacity_report(&loaded.fabric)
    };
    super::print(
        &text.map_err(|e| Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))))?,
    )?;
    Ok(ExitCode::SUCCESS)
}
