//! What a host refers to, by name. A validated fabric defines every name it uses, so a miss
//! here is a bug in xenfab: it is reported as [`RenderError::Missing`], never a panic.

use crate::error::RenderError;
use crate::model::{Dom0, Fabric, Hardware, Ident, Network, OsRelease, PartitionScheme};

pub(crate) fn hardware<'a>(fabric: &'a Fabric, dom0: &Dom0) -> Result<&'a Hardware, RenderError> {
    fabric
        .hardware
        .get(&dom0.hardware)
        .ok_or_else(|| missing("hardware profile", &dom0.hardware))
}

pub(crate) fn scheme<'a>(
    fabric: &'a Fabric,
    dom0: &Dom0,
) -> Result<&'a PartitionScheme, RenderError> {
    fabric
        .partition_schemes
        .get(&dom0.partitioning)
        .ok_or_else(|| missing("partition scheme", &dom0.partitioning))
}

/// The layout a dom0's installer makes: its scheme with what its firmware needs
/// ([`Fabric::layout`]).
pub(crate) fn layout<'a>(
    fabric: &'a Fabric,
    dom0: &Dom0,
) -> Result<std::borrow::Cow<'a, PartitionScheme>, RenderError> {
    fabric
        .layout(dom0)
        .ok_or_else(|| missing("partition scheme", &dom0.partitioning))
}

pub(crate) fn os<'a>(fabric: &'a Fabric, name: &Ident) -> Result<&'a OsRelease, RenderError> {
    fabric
        .os
        .get(name)
        .ok_or_else(|| missing("OS release", name))
}

pub(crate) fn network<'a>(fabric: &'a Fabric, name: &Ident) -> Result<&'a Network, RenderError> {
    fabric
        .networks
        .get(name)
        .ok_or_else(|| missing("network", name))
}

pub(crate) fn missing(what: &'static str, name: &impl ToString) -> RenderError {
    RenderError::Missing {
        what,
        name: name.to_string(),
    }
}
