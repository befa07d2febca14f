//! The native part of the `xenfab` Python package, `xenfab._xenfab`: thin, mechanical
//! wrappers around `xenfab-core`, re-exported by `python/xenfab/__init__.py`.
//!
//! The doc comments of the `#[pyfunction]`s and `#[pyclass]`es are their Python docstrings, so
//! they are written for Python readers; `python/xenfab/_xenfab.pyi` gives their types. The
//! exceptions are defined in Python (`python/xenfab/_exceptions.py`: `ParseError` and
//! `ValidationError` are both a `XenfabError` and a `ValueError`, which a pyo3 exception type
//! cannot be) and raised from here.
//!
//! Where each piece lives (this file only declares the module and what it exports):
//!
//! - `functions.rs`: the functions `derive_mac`, `hex_ip`, `pxelinux_name`, `example` and
//!   `ks_reinstall`.
//! - `fabric.rs`: the `Fabric` class (reading, `validate`, `render`, `show`, `write`,
//!   `report`, `boot_states`, `boot`, the lookups, pickling), and `Shared`: the checked fabric
//!   that it and every value read from it hold.
//! - `model/`: the values read from a fabric: `hosts.rs` (`Dom0`, `Guest`, `Disk`,
//!   `HostState`), `profiles.rs` (`Os`, `Hardware`, `Network`), `capacity.rs` (`Capacity`,
//!   `VolumeGroup`).
//! - `tree.rs`: the rendered tree: `File`, `Link`, `WriteResult`, and a tree as a dict.
//! - `errors.rs`: the exceptions raised (imported from Python), core errors as Python
//!   exceptions, and the `Diagnostic` class.
//! - `util.rs`: small helpers the others share: user input in messages, `repr`, serde
//!   values as Python values, `__hash__`.

use pyo3::prelude::*;

mod errors;
mod fabric;
mod functions;
mod model;
mod tree;
mod util;

/// mimalloc for the module's own allocations (Python keeps its allocator), as in the
/// xenfab command: the render of a large site is allocation-bound.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Native helpers of xenfab, which renders Xen provisioning configs from one fabric description.
#[pymodule]
mod _xenfab {
    use pyo3::prelude::*;

    // The module's attributes, in the order they have always been added in (that of the
    // module's `__dict__`). rustfmt sorts a run of `use`s, so the runs are cut where that
    // order is not alphabetical.
    #[pymodule_export]
    use crate::functions::{derive_mac, hex_ip, pxelinux_name};

    #[pymodule_export]
    use crate::functions::{example, ks_reinstall};

    #[pymodule_export]
    use crate::errors::Diagnostic;

    #[pymodule_export]
    use crate::tree::Link;

    #[pymodule_export]
    use crate::tree::{File, WriteResult};

    #[pymodule_export]
    use crate::model::HostState;

    #[pymodule_export]
    use crate::model::{Disk, Hardware, Os};

    #[pymodule_export]
    use crate::model::Network;

    #[pymodule_export]
    use crate::model::{Guest, VolumeGroup};

    #[pymodule_export]
    use crate::model::{Capacity, Dom0};

    #[pymodule_export]
    use crate::fabric::Fabric;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
