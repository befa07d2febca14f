//! `xenfab schema [--pan]`: print the schema of the fabric file.

use std::process::ExitCode;

use crate::fabric::Failure;

/// Print the JSON Schema of the fabric file (for editors and CI checks of fabric files), or
/// with `--pan` the same schema as a pan declaration template for Quattor sites.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the pan declaration template (`schemas/pan/xenfab/schema.pan`) instead.
    #[arg(long)]
    pan: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let text = if args.pan {
        xenfab_core::input::fabric_file::pan_schema()
    } else {
        xenfab_core::input::fabric_file::json_schema()
    };
    super::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
