//! Events given as Python dicts: walk them in place (no JSON round trip), keeping only the
//! string values at the fields a matcher's profile looks at, plus `@timestamp`.
//!
//! The wanted dotted paths are compiled into a trie whose every node maps each *relative dotted
//! path* below it to the node it leads to (`"source"`, `"source.ip"`, `"ip"`, ...), so that
//! nested objects, dotted keys (`{"source.ip": ...}`) and any mix of the two resolve with one
//! hash look-up per event key (on the key's UTF-8, which CPython keeps in the `str`). Keys that
//! lead nowhere are skipped with their whole subtree; lists are transparent at every level.

use crate::convert::{self, utf8};
use crate::errors::invalid;
use iocmatch::event::FieldPaths;
use iocmatch::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::Borrowed;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Deepest nesting of dicts and lists walked (as for JSON events).
const MAX_DEPTH: usize = 127;
const TIMESTAMP: &str = "@timestamp";

struct Node {
    /// Relative dotted path -> node index; empty for a leaf.
    children: FxHashMap<Box<str>, u32>,
    /// The field id whose path ends here.
    field: Option<u32>,
    /// The top-level `@timestamp`.
    timestamp: bool,
}

/// The compiled paths of one matcher profile.
pub struct Walker {
    nodes: Vec<Node>,
    names: Vec<String>,
}

/// What a walk found: `(field id, str)` in document order, and the event time.
pub struct Found<'py> {
    pub values: Vec<(u32, Bound<'py, PyString>)>,
    pub timestamp: Option<Timestamp>,
    /// A `@timestamp` that is neither a string nor a plain number, read after the walk.
    other_time: Option<Bound<'py, PyAny>>,
}

#[derive(Default)]
struct Building {
    children: BTreeMap<String, usize>,
    field: Option<u32>,
    timestamp: bool,
}

impl Walker {
    /// Compile the paths of `fields` (ids as in `fields`).
    pub fn new(fields: &FieldPaths) -> Walker {
        let mut tree = vec![Building::default()];
        let insert = |tree: &mut Vec<Building>, path: &str| -> usize {
            let mut at = 0;
            for seg in path.split('.') {
                at = match tree[at].children.get(seg) {
                    Some(&c) => c,
                    None => {
                        tree.push(Building::default());
                        let c = tree.len() - 1;
                        tree[at].children.insert(seg.to_owned(), c);
                        c
                    }
                };
            }
            at
        };
        let mut names = Vec::with_capacity(fields.len());
        for id in 0..fields.len() as u32 {
            let name = fields.name(id);
            names.push(name.to_owned());
            let n = insert(&mut tree, name);
            tree[n].field.get_or_insert(id);
        }
        // the timestamp key is one segment, looked for at the top level only
        let ts = match tree[0].children.get(TIMESTAMP) {
            Some(&n) => n,
            None => {
                tree.push(Building::default());
                let n = tree.len() - 1;
                tree[0].children.insert(TIMESTAMP.to_owned(), n);
                n
            }
        };
        tree[ts].timestamp = true;

        let mut nodes = Vec::with_capacity(tree.len());
        for (i, b) in tree.iter().enumerate() {
            let mut children = FxHashMap::default();
            let mut stack: Vec<(String, usize)> = b.children.iter().map(|(s, &c)| (s.clone(), c)).collect();
            while let Some((path, c)) = stack.pop() {
                // "@timestamp" is a key of its own, never a prefix of a dotted one
                if !(i == 0 && c == ts && path != TIMESTAMP) {
                    children.insert(path.clone().into_boxed_str(), c as u32);
                }
                for (s, &cc) in &tree[c].children {
                    stack.push((format!("{path}.{s}"), cc));
                }
            }
            nodes.push(Node { children, field: b.field, timestamp: b.timestamp });
        }
        Walker { nodes, names }
    }

    /// The field names, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Walk one event.
    pub fn walk<'py>(&self, event: &Bound<'py, PyDict>) -> PyResult<Found<'py>> {
        let mut found = Found { values: Vec::with_capacity(16), timestamp: None, other_time: None };
        self.walk_dict(0, event, &mut found, 0)?;
        if let Some(t) = found.other_time.take() {
            // a datetime's methods are Python code: run after the walk
            found.timestamp = if convert::is_date(&t)? { convert::timestamp(&t).ok() } else { None };
        }
        Ok(found)
    }

    // Keys and values are borrowed from the containers being walked; a container walked into and
    // a value kept are owned (a reference taken), so that nothing is used after it could be freed.
    fn walk_dict<'py>(&self, node: usize, d: &Bound<'py, PyDict>, out: &mut Found<'py>, depth: usize) -> PyResult<()> {
        let children = &self.nodes[node].children;
        if children.is_empty() {
            return Ok(());
        }
        let py = d.py();
        let mut pos: pyo3::ffi::Py_ssize_t = 0;
        let mut k: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
        // SAFETY: PyDict_Next on a live dict with the GIL held; it bounds-checks `pos` against the
        // dict as it is at each call.
        while unsafe { pyo3::ffi::PyDict_Next(d.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
            // SAFETY: PyDict_Next returned 1: `k` and `v` are valid borrowed references.
            let (key, value) = unsafe { (Borrowed::from_ptr(py, k), Borrowed::from_ptr(py, v)) };
            let key = if is_exact(&key, str_type()) {
                // SAFETY: checked to be exactly a `str`.
                unsafe { key.cast_unchecked::<PyString>() }
            } else {
                match key.cast::<PyString>() {
                    Ok(k) => k,
                    Err(_) => continue,
                }
            };
            let Some(key) = utf8(&key) else { continue };
            if let Some(&c) = children.get(key) {
                self.visit(c as usize, value, out, depth + 1)?;
            }
        }
        Ok(())
    }

    fn visit<'py>(&self, node: usize, v: Borrowed<'_, 'py, PyAny>, out: &mut Found<'py>, depth: usize) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(invalid(v.py(), "<event>", format!("event nested deeper than {MAX_DEPTH} levels")));
        }
        let n = &self.nodes[node];
        if is_exact(&v, str_type()) {
            // SAFETY: checked to be exactly a `str`.
            self.string(n, unsafe { v.cast_unchecked::<PyString>() }, out);
            return Ok(());
        }
        if is_exact(&v, dict_type()) {
            // SAFETY: checked to be exactly a `dict`.
            return self.walk_dict(node, &unsafe { v.cast_unchecked::<PyDict>() }.to_owned(), out, depth);
        }
        if let Ok(s) = v.cast::<PyString>() {
            self.string(n, s, out);
        } else if let Ok(d) = v.cast::<PyDict>() {
            self.walk_dict(node, &d.to_owned(), out, depth)?;
        } else if let Ok(l) = v.cast::<PyList>() {
            for item in l.to_owned().iter() {
                self.visit(node, item.as_borrowed(), out, depth + 1)?;
            }
        } else if let Ok(t) = v.cast::<PyTuple>() {
            for item in t.to_owned().iter() {
                self.visit(node, item.as_borrowed(), out, depth + 1)?;
            }
        } else if n.timestamp && !v.is_none() {
            out.other_time = None;
            out.timestamp = if v.is_exact_instance_of::<PyInt>() {
                // ECS: epoch milliseconds, as the JSON scanner reads a number
                v.extract::<i64>().ok().and_then(|ms| iocmatch::event::parse_timestamp(&ms.to_string()))
            } else if v.is_exact_instance_of::<PyFloat>() {
                v.extract::<f64>().ok().and_then(|ms| iocmatch::event::parse_timestamp(&ms.to_string()))
            } else if v.is_instance_of::<PyBool>() {
                None
            } else {
                out.other_time = Some(v.to_owned());
                None
            };
        }
        Ok(())
    }

    fn string<'py>(&self, n: &Node, s: Borrowed<'_, 'py, PyString>, out: &mut Found<'py>) {
        if n.timestamp {
            out.timestamp = utf8(&s).and_then(iocmatch::event::parse_timestamp);
        }
        if let Some(f) = n.field {
            out.values.push((f, s.to_owned()));
        }
    }
}

fn str_type() -> *mut pyo3::ffi::PyTypeObject {
    // the address of a static type object of the interpreter (no access)
    std::ptr::addr_of_mut!(pyo3::ffi::PyUnicode_Type)
}

fn dict_type() -> *mut pyo3::ffi::PyTypeObject {
    std::ptr::addr_of_mut!(pyo3::ffi::PyDict_Type)
}

/// Is `obj` exactly of type `t` (not a subclass)? One pointer comparison, no call.
fn is_exact(obj: &Borrowed<'_, '_, PyAny>, t: *mut pyo3::ffi::PyTypeObject) -> bool {
    // SAFETY: `obj` is a valid object; reading its type pointer is always allowed.
    unsafe { pyo3::ffi::Py_TYPE(obj.as_ptr()) == t }
}
