//! Inputs: each turns one format into the fabric model.
//!
//! - [`fabric_file`]: xenfab's own fabric file (TOML or JSON).

pub mod fabric_file;
