//! `iocmatch._iocmatch`: the native module behind the `iocmatch` Python package.
//!
//! Thin bindings over the core crate: types and errors are translated, nothing else. Heavy work
//! (imports, compiles, matching of text, batches and streams) runs without the GIL in a rayon
//! pool of the current process (see [`fork`]).

mod convert;
mod detect;
mod detector;
mod errors;
mod files;
mod fork;
mod interchange;
mod matcher;
mod observable;
mod progress;
mod results;
mod store;
mod stream;
mod walk;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _iocmatch(m: &Bound<'_, PyModule>) -> PyResult<()> {
    fork::watch();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::Store>()?;
    m.add_class::<matcher::Matcher>()?;
    m.add_class::<detector::Detector>()?;
    m.add_class::<matcher::Index>()?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<results::Community>()?;
    m.add_class::<results::Collection>()?;
    m.add_class::<results::Threat>()?;
    m.add_class::<results::Indicator>()?;
    m.add_class::<results::ImportReport>()?;
    m.add_class::<results::Rejected>()?;
    m.add_class::<results::Match>()?;
    m.add_class::<results::Observable>()?;
    m.add_function(wrap_pyfunction!(matcher::load_index, m)?)?;
    m.add_function(wrap_pyfunction!(detect::retrohunt, m)?)?;
    m.add_function(wrap_pyfunction!(observable::normalize, m)?)?;
    m.add_function(wrap_pyfunction!(observable::classify, m)?)?;
    m.add_function(wrap_pyfunction!(observable::parse_indicator, m)?)?;
    m.add_function(wrap_pyfunction!(observable::refang, m)?)?;
    Ok(())
}
