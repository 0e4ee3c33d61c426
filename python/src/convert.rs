//! Conversions between Python objects and core types: JSON values, dates, kinds, kill chain
//! phases, and borrowed UTF-8 views of `str` objects.

use crate::errors::{invalid, IntoPyResult};
use iocmatch::{KillChainPhase, Kind, PhaseSet, Timestamp};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

/// Deepest nesting of JSON values converted either way (serde_json's own limit).
const MAX_DEPTH: usize = 128;

extern "C" {
    // Part of the limited API from 3.10 and exported by every CPython 3: pyo3 declares it for
    // abi3 builds only from 3.10 on, so an abi3-py39 build declares it here.
    fn PyUnicode_AsUTF8AndSize(unicode: *mut pyo3::ffi::PyObject, size: *mut pyo3::ffi::Py_ssize_t) -> *const u8;
}

/// The UTF-8 text of a `str` object, borrowed from it (no copy): `None` when it holds lone
/// surrogates, which cannot be UTF-8.
pub fn utf8<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str`; CPython caches the UTF-8 form in the object and returns a
    // pointer to it, valid while the object lives (the borrow of `s` makes sure it does).
    let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if ptr.is_null() {
        // a UnicodeEncodeError is set: clear it, the caller treats the value as unreadable
        let _ = PyErr::take(s.py());
        return None;
    }
    let len = usize::try_from(size).ok()?;
    // SAFETY: CPython guarantees `len` bytes of valid UTF-8 at `ptr`.
    Some(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len)) })
}

/// A `str` argument as UTF-8, or a validation error naming it.
pub fn text<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    utf8(s).ok_or_else(|| invalid(s.py(), "<str>", "text holds lone surrogates and cannot be encoded as utf-8"))
}

/// The bytes of a `str` (UTF-8), `bytes` or `bytearray` argument, copied.
pub fn bytes_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(text(s)?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(PyTypeError::new_err(format!("{what} must be str or bytes, not {}", type_name(obj))))
}

/// The name of an object's type, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Is `obj` a `datetime.datetime` or a `datetime.date`?
pub fn is_date(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(DATE.import(obj.py(), "datetime", "date")?)
}

/// A date argument: a `datetime` (naive ones are UTC), a `date` (midnight UTC), a string
/// (RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, epoch seconds, `now`) or epoch seconds.
pub fn timestamp(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return Timestamp::parse(text(s)?).py(py);
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err("a date must be a datetime, a string or epoch seconds, not bool"));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        let secs: i64 = i.extract().map_err(|_| invalid(py, &i.to_string(), "epoch seconds out of range"))?;
        return Ok(Timestamp::from_secs(secs));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let secs = f.value();
        if !secs.is_finite() || secs.abs() > 1e13 {
            return Err(invalid(py, &secs.to_string(), "epoch seconds out of range"));
        }
        return Ok(Timestamp((secs * 1e6).round() as i64));
    }
    if obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)? {
        let aware = if obj.getattr("tzinfo")?.is_none() {
            let utc = UTC.get_or_try_init(py, || {
                py.import("datetime")?.getattr("timezone")?.getattr("utc").map(Bound::unbind)
            })?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("tzinfo", utc)?;
            obj.call_method("replace", (), Some(&kwargs))?
        } else {
            obj.clone()
        };
        let secs: f64 = aware.call_method0("timestamp")?.extract()?;
        let micros: i64 = aware.getattr("microsecond")?.extract()?;
        return Ok(Timestamp(secs.floor() as i64 * 1_000_000 + micros));
    }
    if is_date(obj)? {
        let iso: String = obj.call_method0("isoformat")?.extract()?;
        return Timestamp::parse(&iso).py(py);
    }
    Err(PyTypeError::new_err(format!(
        "a date must be a datetime, a date, a string or epoch seconds, not {}",
        type_name(obj)
    )))
}

/// An optional date argument.
pub fn opt_timestamp(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Timestamp>> {
    match obj {
        Some(o) if !o.is_none() => timestamp(o).map(Some),
        _ => Ok(None),
    }
}

/// A kind name (`"ipv4"`, `"domain"`, `"sha256"`, `"username"`, aliases such as `"ipv4-addr"`).
pub fn kind(py: Python<'_>, name: &str) -> PyResult<Kind> {
    name.parse::<Kind>().py(py)
}

/// Kill chain phases: a comma-separated string, or a list of names (`"c2"`, `"TA0011"`,
/// `"mitre-attack:execution"`) and/or `{"kill_chain_name", "phase_name"}` dicts.
pub fn phases(obj: &Bound<'_, PyAny>) -> PyResult<PhaseSet> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return PhaseSet::parse_list(text(s)?).py(py);
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "kill_chain_phases must be a list or a string, not {}",
            type_name(obj)
        )));
    };
    let mut set = PhaseSet::EMPTY;
    for item in items {
        let one = if let Ok(s) = item.cast::<PyString>() {
            PhaseSet::parse_list(text(s)?).py(py)?
        } else if let Ok(d) = item.cast::<PyDict>() {
            let get = |k: &str| -> PyResult<String> {
                match d.get_item(k)? {
                    Some(v) => v
                        .extract::<String>()
                        .map_err(|_| invalid(py, k, format!("'{k}' of a kill chain phase must be a string"))),
                    None => Err(invalid(py, k, format!("a kill chain phase needs '{k}'"))),
                }
            };
            let phase = KillChainPhase { kill_chain_name: get("kill_chain_name")?, phase_name: get("phase_name")? };
            PhaseSet::from_phases(&[phase]).py(py)?
        } else {
            return Err(PyTypeError::new_err(format!(
                "a kill chain phase must be a string or a dict, not {}",
                type_name(&item)
            )));
        };
        set = set.union(one);
    }
    Ok(set)
}

/// A list of strings (a list or tuple of `str`; a single `str` is refused, it is too often a
/// mistake).
pub fn strings(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!("{what} must be a list of strings, not a string")));
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a list of strings, not {}", type_name(obj))))?
        .collect::<PyResult<_>>()?;
    items
        .iter()
        .map(|i| {
            i.extract::<String>()
                .map_err(|_| PyTypeError::new_err(format!("{what} must be a list of strings, found {}", type_name(i))))
        })
        .collect()
}

/// A Python object (dicts, lists, tuples, strings, numbers, booleans, `None`, dates as RFC 3339)
/// as a JSON value.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(invalid(py, "<nested>", format!("value nested deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(text(s)?.to_owned()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = i.extract::<u64>() {
            return Ok(Value::from(v));
        }
        return Err(invalid(py, &i.to_string(), "integer too large"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid(py, &f.value().to_string(), "a number must be finite"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("dict keys must be strings, not {}", type_name(&k))))?;
            map.insert(text(key)?.to_owned(), to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_json_at(&v, depth + 1)).collect::<PyResult<Vec<_>>>().map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_json_at(&v, depth + 1)).collect::<PyResult<Vec<_>>>().map(Value::Array);
    }
    if is_date(obj)? {
        return Ok(Value::String(timestamp(obj)?.to_rfc3339()));
    }
    Err(PyTypeError::new_err(format!("{} is not JSON serializable", type_name(obj))))
}

/// A JSON value as Python objects (dicts, lists, str, int, float, bool, `None`).
pub fn from_json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            PyList::new(py, a.iter().map(|x| from_json(py, x)).collect::<PyResult<Vec<_>>>()?)?.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, from_json(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// A serialisable core value as Python objects.
pub fn to_py<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let v = serde_json::to_value(value).map_err(|e| invalid(py, "<value>", format!("cannot convert: {e}")))?;
    from_json(py, &v)
}
