//! Inputs: each turns one format into the fabric model.
//!
//! - [`fabric_file`]: xenfab's own fabric file (TOML or JSON).
//! - [`quattor`]: a Quattor site's compiled profiles (pan XML or JSON).

pub mod fabric_file;
pub mod quattor;
