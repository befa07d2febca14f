//! `xenfab xend-config FILE`: set dom0's memory and ballooning in an existing
//! `xend-config.sxp`, keeping its comments and every other setting.

use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::render::toolstack::{self, sxp, xend_config};

use crate::fabric::{self, Failure};

/// Set `dom0-min-mem`, `enable-dom0-ballooning` and `dom0-cpus` in an existing
/// xend-config.sxp, keeping its comments and every other setting.
///
/// With `--dom0 NAME`, the values come from that dom0 of the fabric (`--fabric FILE`,
/// `--profiles DIR` or `--example`, one of them required), and `network-script` makes the
/// bridge of its network (`'network-bridge bridge=<bridge> netdev=eth0'`); without it, dom0 keeps
/// its memory (the seed's `(dom0-min-mem 0)` and `(enable-dom0-ballooning no)`, without which
/// xend balloons dom0 since Xen 3.3) and `dom0-cpus` is left as the file has it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The xend-config.sxp to edit.
    file: PathBuf,
    /// Edit the file in place (atomically) instead of printing the result.
    #[arg(short, long)]
    in_place: bool,
    /// The dom0 whose settings to apply, from the fabric.
    #[arg(long, value_name = "NAME")]
    dom0: Option<String>,
    #[command(flatten)]
    fabric: fabric::FabricOpts,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    if args.dom0.is_none() && args.fabric.given() {
        return Err(Failure::Io(
            "error: a fabric (--fabric, --profiles, --example) is only used with --dom0 NAME, \
             which names the dom0 whose settings to apply"
                .to_owned(),
        ));
    }
    let (text, origin) = super::in_place_input(&args.file, args.in_place)?;
    let invalid = |e: sxp::SxpError| Failure::Invalid(format!("error: {origin}: {e}"));
    let edited = if let Some(name) = &args.dom0 {
        let (settings, bridge) = dom0_settings(args, name)?;
        let edited = xend_config::edit(&text, &settings).map_err(invalid)?;
        xend_config::edit_networking(&edited, &bridge).map_err(invalid)?
    } else {
        // dom0 keeps its memory: the seed's `(dom0-min-mem 0)` and
        // `(enable-dom0-ballooning no)`; `dom0-cpus` stays as the file has it, or absent
        xend_config::edit_memory(&text, 0, false).map_err(invalid)?
    };
    if args.in_place {
        if edited != text {
            super::write_atomically(&args.file, &edited)?;
        }
    } else {
        super::print(&edited)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings of dom0 `name` of the fabric, and how its bridges are made.
fn dom0_settings(
    args: &Args,
    name: &str,
) -> Result<(xend_config::XendSettings, xend_config::Networking), Failure> {
    let loaded = args.fabric.load("xend-config --dom0")?.loaded;
    let dom0 = loaded
        .fabric
        .dom0s
        .iter()
        .find(|d| d.name.as_str() == name.to_ascii_lowercase())
        .ok_or_else(|| {
            Failure::Invalid(format!(
                "error: no dom0 `{}` in the fabric",
                name.escape_debug()
            ))
        })?;
    let networking = toolstack::networking(&loaded.fabric, dom0)
        .map_err(|e| Failure::Invalid(format!("error: dom0 `{}`: {e}", dom0.name)))?;
    Ok((toolstack::settings(dom0), networking))
}
