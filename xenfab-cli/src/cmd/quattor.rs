//! `xenfab quattor …`: a Quattor site's compiled profiles as the fabric.

use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::input::quattor;

use crate::fabric::{self, Failure};

/// Read a Quattor site's compiled profiles (pan XML or JSON) as the fabric: dom0s and guests
/// from `/hardware`, `/system` and ncm-xen's `/software/components/xen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check the profiles as one fabric and report every problem.
    Validate(ValidateArgs),
    /// Render every artefact of the profiles' fabric into DIR.
    Render(RenderArgs),
    /// Print the fabric file the profiles make (TOML), to see or to start a fabric file from.
    Fabric(Profiles),
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    profiles: Profiles,
    /// Print the diagnostics as JSON on stdout, as `xenfab validate --json` does.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct Profiles {
    /// The directory of compiled profiles (`*.xml`, `*.json`, gzip'd or not; its
    /// subdirectories' too), or of AII's `profiles-info.xml` and the profiles it lists.
    #[arg(long, value_name = "DIR")]
    profiles: PathBuf,
}

#[derive(Debug, clap::Args)]
struct RenderArgs {
    #[command(flatten)]
    profiles: Profiles,
    /// The output directory.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    write: super::render::WriteArgs,
    #[command(flatten)]
    host: super::render::HostArgs,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.command {
        Command::Validate(v) => {
            let dir = &v.profiles.profiles;
            let origin = dir.display().to_string();
            super::validate::report(quattor::load_dir(dir).map(|l| (l, origin)), None, v.json)
        }
        Command::Render(r) => {
            let load = || {
                let loaded = quattor::load_dir(&r.profiles.profiles)?;
                fabric::print_diagnostics(&loaded.warnings);
                Ok(fabric::Sourced {
                    loaded,
                    origin: r.profiles.profiles.display().to_string(),
                })
            };
            super::render::write(load, &r.output, r.write, &r.host)
        }
        Command::Fabric(p) => {
            let file = quattor::fabric_file_of_dir(&p.profiles)?;
            let text = toml::to_string(&file)
                .map_err(|e| Failure::Io(format!("error: cannot write TOML: {e}")))?;
            super::print(&format!(
                "# The fabric of the profiles in {}, made by xenfab.\n{text}",
                p.profiles.display()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
