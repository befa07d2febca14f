//! `xenfab`: render every provisioning artefact of a Xen fabric from one description.

mod cmd;
mod fabric;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: a render of a 110,000-host site runs a quarter
/// faster (benches/scale/README.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
