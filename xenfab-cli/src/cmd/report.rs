//! `xenfab report [FILE] [--json] [--host HOST]...`: the capacity of each dom0.

use std::process::ExitCode;

use xenfab_core::model::HostRef;
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
    /// Report only this dom0 (short name or FQDN); a guest's name reports its dom0, whose
    /// capacity it shares. Give it again for more; the dom0s keep the fabric's order.
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut loaded = fabric::load(args.fabric.file(), args.fabric.format)?;
    if !args.hosts.is_empty() {
        let mut dom0s = std::collections::BTreeSet::new();
        for name in &args.hosts {
            let host = super::boot::find_host(&loaded.fabric, name)?;
            let (HostRef::Dom0(d) | HostRef::Guest(d, _)) = host;
            dom0s.insert(d.name.clone());
        }
        loaded.fabric.dom0s.retain(|d| dom0s.contains(&d.name));
    }
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
