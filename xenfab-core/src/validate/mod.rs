//! Validation of the whole fabric: every rule, every problem at once, each with its path.
//!
//! Rules live one concern a module. Each adds to the same [`Diagnostics`] and never stops at
//! the first problem. See `docs/validation.md` for the list of rule codes.

mod capacity;
pub(crate) mod debootstrap;
mod dns;
mod firmware;
mod guests;
mod identity;
mod install;
mod interfaces;
mod layout;
mod lifecycle;
mod netboot;
mod network;
mod platform;
pub(crate) mod preseed;

use crate::diagnostic::Diagnostics;
use crate::model::Fabric;

/// Checks a fabric as a whole: duplicates, addresses, partition schemes, capacity.
///
/// Errors mean the fabric must not be rendered; warnings are worth a look.
pub fn validate(fabric: &Fabric) -> Diagnostics {
    let mut diags = Diagnostics::new();
    identity::check(fabric, &mut diags);
    network::check(fabric, &mut diags);
    interfaces::check(fabric, &mut diags);
    dns::check(fabric, &mut diags);
    platform::check(fabric, &mut diags);
    install::check(fabric, &mut diags);
    firmware::check(fabric, &mut diags);
    netboot::check(fabric, &mut diags);
    preseed::check(fabric, &mut diags);
    debootstrap::check(fabric, &mut diags);
    guests::check(fabric, &mut diags);
    lifecycle::check(fabric, &mut diags);
    let sound_schemes = layout::check_schemes(fabric, &mut diags);
    capacity::check(fabric, &sound_schemes, &mut diags);
    diags
}
