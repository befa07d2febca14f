//! `xenfab schema`: print the JSON Schema of the fabric file.

use std::process::ExitCode;

use crate::fabric::Failure;

/// Print the JSON Schema of the fabric file (for editors and CI checks of fabric files).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: &Args) -> Result<ExitCode, Failure> {
    super::print(&xenfab_core::input::fabric_file::json_schema())?;
    Ok(ExitCode::SUCCESS)
}
