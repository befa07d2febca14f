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
    /// Take over the file's `host` declarations that dhcpd would refuse, or that would give a
    /// host of the fabric a wrong lease, next to the fabric's (same name, MAC or address):
    /// remove them. Without it, they are errors and nothing is written.
    #[arg(long)]
    replace: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = args.fabric.load("dhcpd-config")?.loaded;
    let (text, origin) = super::in_place_input(&args.file, args.in_place)?;
    let subnets = isc_hosts(&loaded.fabric)
        .map_err(|e| Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))))?;
    let on_conflict = if args.replace {
        isc_edit::OnConflict::Replace
    } else {
        isc_edit::OnConflict::Refuse
    };
    let edited = match isc_edit::edit_with(&text, &subnets, on_conflict) {
        Ok(edited) => edited,
        Err(isc_edit::EditError::Conflicts(conflicts)) => {
            print_conflicts(&origin, &conflicts);
            let errors = conflicts.iter().filter(|c| c.is_fatal()).count();
            return Err(Failure::Invalid(format!(
                "{origin}: {errors} host declaration(s) conflict with the fabric's hosts: nothing written"
            )));
        }
        Err(e) => return Err(Failure::Invalid(format!("error: {origin}: {e}"))),
    };
    for note in &edited.notes {
        crate::ui::note(&format!("{origin}: {note}"));
    }
    print_conflicts(&origin, &edited.conflicts);
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
        crate::ui::note(&format!(
            "{origin}:{}: {}",
            n + 1,
            crate::ui::tagged(
                "warning: `ddns-update-style ad-hoc;` is refused by ISC dhcpd 4.0 and later: use `none` or `interim`"
            )
        ));
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

/// Each conflicting declaration on stderr, with its line: an error, a warning, or what
/// `--replace` removed.
fn print_conflicts(origin: &str, conflicts: &[isc_edit::Conflict]) {
    for c in conflicts {
        let what = if c.removed {
            "replaced"
        } else if c.is_fatal() {
            "error"
        } else {
            "warning"
        };
        let line = format!(
            "{origin}:{}: {}",
            c.line,
            crate::ui::tagged(&format!("{what}: {c}"))
        );
        if c.is_fatal() && !c.removed {
            crate::ui::eprint_line(&line);
        } else {
            crate::ui::note(&line);
        }
    }
}
