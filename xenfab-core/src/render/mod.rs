//! Renderers: one module an artefact, each turning a validated [`Fabric`] into files of the
//! output tree.
//!
//! A renderer builds a *view* in Rust (every size, MAC format and decision computed and
//! unit-tested there) and hands it to a template in `templates/` that only loops and prints.
//!
//! | module | artefact | output path |
//! |---|---|---|
//! | [`inventory`] | hosts, addresses, MACs, volumes and capacity | `inventory/` |

pub mod inventory;
mod templates;

use crate::error::RenderError;
use crate::model::Fabric;
use crate::output::Tree;

/// Renders every artefact of a validated fabric into one tree.
///
/// The fabric must have passed [`crate::validate()`] without errors (as every fabric from
/// [`crate::load`] has); the same fabric always gives the same tree, byte for byte.
pub fn render(fabric: &Fabric) -> Result<Tree, RenderError> {
    let env = templates::environment();
    let mut tree = Tree::new();
    inventory::render(fabric, &env, &mut tree)?;
    Ok(tree)
}
