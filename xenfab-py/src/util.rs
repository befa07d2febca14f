//! Small helpers the other files share.

use pyo3::prelude::*;

/// The text of user input shown in an error message: at most 40 characters, escaped.
pub(crate) fn shown(s: &str) -> String {
    s.chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .collect()
}

/// Python's `repr` of a string.
pub(crate) fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(pyo3::types::PyString::new(py, s).repr()?.to_string())
}

/// `a, b, c` of at most five names, then how many there are in all.
pub(crate) fn some_names<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let count = names.len();
    let mut listed: Vec<String> = names.take(5).map(|n| format!("`{}`", shown(n))).collect();
    if count > listed.len() {
        listed.push(format!("… ({count} in all)"));
    }
    listed.join(", ")
}

/// A Python value of a serde value (a dict, list, str, int, bool or None).
pub(crate) fn to_python<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// The hash of a string key, for `__hash__`.
pub(crate) fn hash_of(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// The name serde gives a unit enum value (`raid10`, `x86_64`).
pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
