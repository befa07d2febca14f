//! xenfab turns one declarative description of a Xen fabric (sites, networks, hardware, dom0s
//! and their guests) into every artefact that provisions it, checked against each other.
//!
//! The data flows one way, each arrow a function:
//!
//! ```text
//! fabric file ──Source::parse──▶ FabricFile ──lower──▶ Fabric ──validate──▶ Diagnostics
//!                                                        │
//!                                                        └──render──▶ Tree ──output::plan──▶ Plan ──apply──▶ files
//! ```
//!
//! [`load`] does the first three steps and refuses a fabric with errors:
//!
//! ```
//! let fabric = xenfab_core::load(xenfab_core::EXAMPLE, "example.toml")?.fabric;
//! let ullr = fabric.dom0s.iter().flat_map(|d| &d.guests).find(|g| g.name.as_str() == "ullr").unwrap();
//! assert_eq!(ullr.mac.to_string(), "00:16:3e:a8:60:2b");
//!
//! let tree = xenfab_core::render(&fabric)?;
//! assert!(tree.iter().any(|(path, _)| path.as_str() == "inventory/hosts.csv"));
//! # Ok::<(), xenfab_core::Error>(())
//! ```
//!
//! Nothing in this crate prints; the only filesystem writes are in [`output`].

#![deny(missing_docs)]

mod diagnostic;
mod error;
pub mod fingerprint;
pub mod input;
pub mod model;
pub mod output;
pub mod render;
#[cfg(test)]
mod testing;
mod validate;

pub use diagnostic::{
    Diagnostic, Diagnostics, FieldPath, Location, Related, Severity, escape_controls,
};
pub use error::{Error, ErrorKind, ParseError, RenderError, Result, error_chain};
pub use input::fabric_file::{FORMAT_VERSION, FabricFile, Format, Lowered, Source, lower};
pub use model::{Fabric, HostName, MacAddr, MacScheme, Size, hex_ip};
pub use render::render;
pub use validate::validate;

/// The built-in example site: the seed's site (CentOS-5 dom0s on a PE-1950 with software
/// RAID-1 and a PE-2950 with hardware RAID-10; CentOS-4 PV guests booted by pypxeboot, among
/// them `ullr`; a CentOS-3 HVM guest) described completely.
// The file is inside the crate, so that the crate and the Python package's sdist carry it;
// `examples/seed-site.toml` at the root of the repository is a link to it.
pub const EXAMPLE: &str = include_str!("../examples/seed-site.toml");

/// A fabric that passed validation, and the warnings it had.
#[derive(Debug)]
pub struct Loaded {
    /// The fabric.
    pub fabric: Fabric,
    /// Warnings: worth a look, but the fabric renders.
    pub warnings: Diagnostics,
}

/// Parses, lowers and validates a fabric file; `origin` names it in messages, and its
/// extension chooses the syntax (`.json` for JSON, else TOML).
///
/// Returns [`Error::Parse`] for a file that is not well-formed, and [`Error::Invalid`] with
/// every diagnostic when the fabric has errors.
pub fn load(text: &str, origin: &str) -> Result<Loaded> {
    load_as(text, origin, Format::from_file_name(origin))
}

/// [`load`], the syntax given rather than taken from `origin`'s extension (a fabric on
/// standard input, or in a file named otherwise).
pub fn load_as(text: &str, origin: &str, format: Format) -> Result<Loaded> {
    let source = Source::parse(text, format, origin)?;
    check(&source)
}

/// Lowers and validates a parsed source; see [`load`].
pub fn check(source: &Source) -> Result<Loaded> {
    let Lowered {
        fabric,
        mut diagnostics,
    } = lower(source.file());
    if let Some(fabric) = &fabric {
        diagnostics.extend(validate(fabric));
    }
    source.locate(&mut diagnostics);
    match fabric {
        Some(fabric) if !diagnostics.has_errors() => Ok(Loaded {
            fabric,
            warnings: diagnostics,
        }),
        _ => Err(Error::Invalid(diagnostics)),
    }
}
