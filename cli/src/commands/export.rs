//! `iocmatch export COLLECTION --format csv|stix|text`

use crate::args::{ExportArgs, ExportFormat};
use iocmatch::{Error, ErrorKind, Kind, Result, Store};
use std::io::Write;

pub fn run(store: &Store, a: ExportArgs) -> Result<()> {
    let kind: Option<Kind> = a.kind.as_deref().map(str::parse).transpose()?;
    if kind.is_some() && a.format != ExportFormat::Text {
        return Err(Error::invalid("--kind", "--kind applies to the text format only"));
    }
    let mut out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create '{}': {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let write = |out: &mut Box<dyn Write>, text: &str| {
        out.write_all(text.as_bytes()).map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))
    };
    match a.format {
        ExportFormat::Csv => {
            let rows = store.export_csv(&a.collection, &mut out)?;
            if let Some(path) = &a.out {
                eprintln!("exported {rows} indicators to {}", path.display());
            }
        }
        ExportFormat::Stix => {
            let mut s = store.export_stix_json(&a.collection)?;
            s.push('\n');
            write(&mut out, &s)?;
        }
        ExportFormat::Text => write(&mut out, &store.export_text(&a.collection, kind)?)?,
    }
    out.flush().map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))
}
