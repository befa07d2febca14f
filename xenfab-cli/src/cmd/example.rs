//! `xenfab example`: print the built-in example site.

use std::process::ExitCode;

use crate::fabric::Failure;

/// Print the built-in example site: the seed's grid site as a fabric file to start from.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: &Args) -> Result<ExitCode, Failure> {
    super::print(xenfab_core::EXAMPLE)?;
    Ok(ExitCode::SUCCESS)
}
