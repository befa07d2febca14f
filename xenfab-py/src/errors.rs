//! The exceptions the module raises, core errors as Python exceptions, and the `Diagnostic`
//! class of a fabric's errors and warnings.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use xenfab_core::error_chain as chain;
use xenfab_core::{Diagnostics, Error, Location};

use crate::util::shown;

pyo3::import_exception!(xenfab._exceptions, ParseError);
pyo3::import_exception!(xenfab._exceptions, ValidationError);
pyo3::import_exception!(xenfab._exceptions, RenderError);

/// `ParseError(message, line, column)`, with the line and column of `location` (`None`
/// for either that it lacks, or for both without a location).
pub(crate) fn parse_error(message: String, location: Option<&Location>) -> PyErr {
    let (line, column) = location.map_or((None, None), |l| (l.line, l.column));
    ParseError::new_err((message, line, column))
}

/// The Python exception of a core error.
pub(crate) fn py_err(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Parse(e) => parse_error(e.to_string(), Some(&e.location)),
        Error::Invalid(d) => validation_error(py, &d),
        Error::Render(e) => RenderError::new_err(chain(&e)),
        Error::Output(e) => output_error(&e),
        other => RenderError::new_err(chain(&other)),
    }
}

/// `ValidationError(message, diagnostics)`: a summary line, then every diagnostic.
pub(crate) fn validation_error(py: Python<'_>, d: &Diagnostics) -> PyErr {
    let message = format!(
        "{} error(s), {} warning(s)\n{}",
        d.error_count(),
        d.warning_count(),
        d.to_string().trim_end()
    );
    match diagnostics(py, d) {
        Ok(list) => ValidationError::new_err((message, list)),
        Err(e) => e,
    }
}

/// An `OSError` of the subclass that the underlying I/O error calls for (such as
/// `PermissionError`), with the whole chain as its message.
pub(crate) fn output_error(e: &xenfab_core::output::OutputError) -> PyErr {
    use xenfab_core::output::OutputError;
    if matches!(
        e,
        OutputError::OtherSite { .. } | OutputError::MassRemoval { .. }
    ) {
        return PyOSError::new_err(format!(
            "{}: nothing written; pass force=True to write anyway",
            chain(e)
        ));
    }
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(code) = s
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
        {
            // `OSError(errno, message)` is the subclass for `errno`.
            return PyOSError::new_err((code, chain(e)));
        }
        source = s.source();
    }
    PyOSError::new_err(chain(e))
}

/// `OSError(errno, strerror, filename)`, which Python makes the subclass for `errno`
/// (such as `FileNotFoundError`).
pub(crate) fn io_error(e: &std::io::Error, path: &std::path::Path) -> PyErr {
    let text = e.to_string();
    let strerror = text.split(" (os error ").next().unwrap_or(&text).to_owned();
    match e.raw_os_error() {
        Some(code) => PyOSError::new_err((code, strerror, path.display().to_string())),
        None => PyOSError::new_err(format!("{}: {strerror}", path.display())),
    }
}

pub(crate) fn diagnostics(py: Python<'_>, d: &Diagnostics) -> PyResult<Vec<Py<Diagnostic>>> {
    d.iter().map(|d| Py::new(py, Diagnostic::from(d))).collect()
}

/// One problem with a fabric: an error (nothing renders) or a warning.
#[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Diagnostic {
    /// ``"error"`` stops rendering; ``"warning"`` does not.
    #[pyo3(get)]
    severity: &'static str,
    /// The stable, kebab-case name of the rule, such as ``"ip-outside-network"``.
    #[pyo3(get)]
    code: String,
    /// The field it is about, such as ``"dom0s[xen01].guests[ullr].ip"``; ``""`` for the
    /// whole fabric.
    #[pyo3(get)]
    path: String,
    /// What is wrong, in lower case.
    #[pyo3(get)]
    message: String,
    /// The file, as it was named, or ``None`` where the field was not located.
    #[pyo3(get)]
    file: Option<String>,
    /// The line, counted from 1, or ``None`` where unknown.
    #[pyo3(get)]
    line: Option<u32>,
    /// The column in characters, counted from 1, or ``None`` where unknown.
    #[pyo3(get)]
    column: Option<u32>,
    text: String,
}

impl From<&xenfab_core::Diagnostic> for Diagnostic {
    fn from(d: &xenfab_core::Diagnostic) -> Diagnostic {
        let location = d.location.as_ref();
        Diagnostic {
            severity: match d.severity {
                xenfab_core::Severity::Error => "error",
                xenfab_core::Severity::Warning => "warning",
            },
            code: d.code.to_owned(),
            path: d.path.to_string(),
            message: d.message.clone(),
            file: location.map(|l| l.file.to_string()),
            line: location.and_then(|l| l.line),
            column: location.and_then(|l| l.column),
            text: d.to_string(),
        }
    }
}

#[pymethods]
impl Diagnostic {
    /// The diagnostic on one line, as ``xenfab validate`` prints it.
    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("<Diagnostic {}>", self.text)
    }

    /// Pickled as its fields, and its line as it was printed.
    #[allow(
        clippy::type_complexity,
        reason = "the arguments of `_unpickle`, as Python's pickle takes them"
    )]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        (
            &'static str,
            String,
            String,
            String,
            Option<String>,
            Option<u32>,
            Option<u32>,
            String,
        ),
    )> {
        let d = slf.get();
        Ok((
            slf.get_type().getattr("_unpickle")?,
            (
                d.severity,
                d.code.clone(),
                d.path.clone(),
                d.message.clone(),
                d.file.clone(),
                d.line,
                d.column,
                d.text.clone(),
            ),
        ))
    }

    /// The diagnostic `__reduce__` pickled.
    #[staticmethod]
    #[allow(clippy::too_many_arguments, reason = "the fields of a diagnostic")]
    fn _unpickle(
        severity: &str,
        code: String,
        path: String,
        message: String,
        file: Option<String>,
        line: Option<u32>,
        column: Option<u32>,
        text: String,
    ) -> PyResult<Diagnostic> {
        let severity = match severity {
            "error" => "error",
            "warning" => "warning",
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown severity `{}`",
                    shown(other)
                )));
            }
        };
        Ok(Diagnostic {
            severity,
            code,
            path,
            message,
            file,
            line,
            column,
            text,
        })
    }
}

pub(crate) fn other_as_diagnostics(e: &Error) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error("internal", xenfab_core::FieldPath::root(), chain(e));
    d
}
