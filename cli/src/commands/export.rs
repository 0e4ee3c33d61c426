//! `iocmatch export COLLECTION --format ...`

use crate::args::{ExportArgs, ExportFormat};
use iocmatch::{Error, ErrorKind, Result, Store};
use std::io::Write;

pub fn run(store: &Store, a: ExportArgs) -> Result<()> {
    let mut out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create '{}': {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let rows = match a.format {
        ExportFormat::Csv => store.export_csv(&a.collection, &mut out)?,
    };
    out.flush()?;
    if let Some(path) = &a.out {
        eprintln!("exported {rows} indicators to {}", path.display());
    }
    Ok(())
}
