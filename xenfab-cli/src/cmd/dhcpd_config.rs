//! `xenfab dhcpd-config FILE`: put the fabric's host declarations into an existing dhcpd.conf.

use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::render::dhcp::{isc_edit, isc_hosts};

use crate::fabric::{self, Failure};

/// Put every host's declaration (MAC, fixed address, host name, next-server, boot file) into
/// the `subnet` of its network in an existing dhcpd.conf, as Quattor's aii-dhcp does, within
/// marked blocks xenfab manages; everything else in the file is kept byte for byte.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dhcpd.conf to edit.
    file: PathBuf,
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    /// Edit the file in place (atomically) instead of printing the result.
    #[arg(short, long)]
    in_place: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = args.fabric.load("dhcpd-config")?.loaded;
    let (text, origin) = super::in_place_input(&args.file, args.in_place)?;
    let subnets = isc_hosts(&loaded.fabric)
        .map_err(|e| Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))))?;
    let edited = isc_edit::edit(&text, &subnets)
        .map_err(|e| Failure::Invalid(format!("error: {origin}: {e}")))?;
    for note in &edited.notes {
        eprintln!("{origin}: {note}");
    }
    // dhcpd 4.x refuses the ad-hoc DNS update style that old configurations (AII's example
    // among them) still carry; xenfab keeps the file as it is but says so.
    if let Some(n) = text.lines().position(|l| {
        l.split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            == ["ddns-update-style", "ad-hoc;"]
    }) {
        eprintln!(
            "{origin}:{}: warning: `ddns-update-style ad-hoc;` is refused by ISC dhcpd 4.0 and later: use `none` or `interim`",
            n + 1
        );
    }
    if args.in_place {
        if edited.text != text {
            super::write_atomically(&args.file, &edited.text)?;
        }
    } else {
        super::print(&edited.text)?;
    }
    Ok(ExitCode::SUCCESS)
}
