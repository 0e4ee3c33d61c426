//! `iocmatch export ...`

use crate::args::{ExportArgs, ExportFormat};
use iocmatch::{Error, ErrorKind, Kind, Result, Store};
use std::io::Write;

pub fn run(store: &Store, a: ExportArgs) -> Result<()> {
    let kind: Option<Kind> = a.kind.as_deref().map(str::parse).transpose()?;
    let text = match a.format {
        ExportFormat::Stix => {
            if kind.is_some() {
                return Err(Error::invalid("--kind", "--kind applies to the text format only"));
            }
            let mut s = store.export_stix_json(&a.collection)?;
            s.push('\n');
            s
        }
        ExportFormat::Text => store.export_text(&a.collection, kind)?,
    };
    match &a.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write '{}': {e}", path.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))
        }
    }
}
