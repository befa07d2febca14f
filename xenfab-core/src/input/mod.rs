//! Inputs: each turns one format into the fabric model.
//!
//! - [`fabric_file`]: xenfab's own fabric file (TOML or JSON).
//! - [`quattor`]: a Quattor site's compiled profiles (pan XML or JSON).
//! - [`text`]: reading an input file as text, bounded and checked for UTF-8.
//! - [`suggest`]: "did you mean" for a misspelt key or value name.

pub mod fabric_file;
pub mod quattor;
pub mod suggest;
pub mod text;
