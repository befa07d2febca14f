//! `xenfab`: render every provisioning artefact of a Xen fabric from one description.

mod cmd;
mod fabric;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
