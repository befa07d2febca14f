//! `xenfab validate [FILE]`: check a fabric and report every problem.

use std::process::ExitCode;

use crate::fabric::{self, FabricArg, Failure};

/// Check a fabric as a whole and report every problem at once, with its path and line.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: FabricArg,
    /// Print the diagnostics as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let (text, origin) = fabric::read(args.fabric.file.as_deref())?;
    let result = xenfab_core::load(&text, &origin);
    if args.json {
        let diags = match &result {
            Ok(loaded) => loaded.warnings.clone(),
            Err(xenfab_core::Error::Invalid(d)) => d.clone(),
            Err(_) => xenfab_core::Diagnostics::new(),
        };
        let json =
            serde_json::to_string_pretty(&diags).map_err(|e| Failure::Io(format!("error: {e}")))?;
        super::print(&format!("{json}\n"))?;
    }
    let loaded = match result {
        Ok(loaded) => loaded,
        Err(xenfab_core::Error::Invalid(d)) if args.json => {
            return Err(Failure::Invalid(format!(
                "{origin}: {} error(s), {} warning(s)",
                d.error_count(),
                d.warning_count()
            )));
        }
        Err(e) => return Err(Failure::from(e)),
    };
    if !args.json {
        fabric::print_diagnostics(&loaded.warnings);
    }
    let f = &loaded.fabric;
    let guests: usize = f.dom0s.iter().map(|d| d.guests.len()).sum();
    eprintln!(
        "{origin}: ok: {} dom0(s), {guests} guest(s), {} warning(s)",
        f.dom0s.len(),
        loaded.warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}
