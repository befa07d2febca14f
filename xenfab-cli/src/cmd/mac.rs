//! `xenfab mac IP...`: the MAC a scheme derives from each address.

use std::fmt::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use xenfab_core::MacScheme;

use crate::fabric::Failure;

/// Print the MAC each IPv4 address derives, one a line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// IPv4 addresses.
    #[arg(required = true, value_name = "IP")]
    ips: Vec<String>,
    /// The derivation scheme: `xen-last3` (the seed's: 00:16:3e and the last three octets) or
    /// `local-ipv4` (02:00 and all four octets, never colliding).
    #[arg(long, default_value = "xen-last3", value_parser = parse_scheme)]
    scheme: MacScheme,
    /// Also print the names network boot looks the host up by: pxelinux's `01-<mac>` and
    /// the address in upper-case hex.
    #[arg(long)]
    boot_names: bool,
}

/// A scheme that derives MACs: the fabric's `explicit` (each host's MAC given) is not one, and
/// an unknown name is answered with the two there are, not with every name the fabric takes.
fn parse_scheme(s: &str) -> Result<MacScheme, String> {
    match s.parse() {
        Ok(MacScheme::Explicit) => Err(
            "the `explicit` scheme derives nothing: give `xen-last3` or `local-ipv4`".to_owned(),
        ),
        Ok(scheme) => Ok(scheme),
        Err(_) => Err(format!(
            "unknown MAC scheme `{}`: expected `xen-last3` or `local-ipv4`",
            s.escape_debug()
        )),
    }
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut out = String::new();
    for text in &args.ips {
        let ip: Ipv4Addr = text.parse().map_err(|_| {
            Failure::Invalid(format!(
                "error: invalid IPv4 address `{}`",
                text.escape_debug()
            ))
        })?;
        let Some(mac) = args.scheme.derive(ip) else {
            unreachable!("parse_scheme refuses `explicit`")
        };
        if args.boot_names {
            let _ = writeln!(
                out,
                "{ip} {mac} {} {}",
                mac.pxelinux_name(),
                xenfab_core::hex_ip(ip)
            );
        } else {
            let _ = writeln!(out, "{mac}");
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
