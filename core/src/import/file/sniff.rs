//! What a file is: a workbook (XLS, XLSX, ODS) by its magic bytes, or delimited text with its
//! delimiter sniffed among `,` `;` tab `|`.

use super::FileFormat;
use crate::error::{Error, ErrorKind, Result};

/// The delimiters tried, in the order that wins a tie.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Bytes of text looked at to sniff the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// Records looked at to sniff the delimiter.
const SNIFF_RECORDS: usize = 50;

/// The format of `input`, from its first bytes; the file name's extension only serves to refuse
/// a workbook name on bytes that are no workbook.
pub fn format(input: &[u8], filename: Option<&str>) -> Result<FileFormat> {
    if input.starts_with(b"PK\x03\x04") {
        // ODS stores its mimetype uncompressed as the first entry of the archive.
        let head = &input[..input.len().min(128)];
        let ods = head.windows(46).any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet");
        return Ok(if ods { FileFormat::Ods } else { FileFormat::Xlsx });
    }
    if input.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(FileFormat::Xls);
    }
    let ext = filename.and_then(|f| f.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    if let Some(e @ ("xlsx" | "xls" | "ods" | "xlsm")) = ext.as_deref() {
        return Err(Error::new(
            ErrorKind::Corrupt,
            format!("'{}' is named .{e} but is not a workbook (no ZIP or OLE signature)", filename.unwrap_or("")),
        ));
    }
    Ok(FileFormat::Csv)
}

/// The delimiter of delimited text: the candidate that splits the first records into the same
/// number (above one) of fields most often; `,` when none splits anything.
pub fn delimiter(text: &[u8]) -> u8 {
    let sample = &text[..text.len().min(SNIFF_BYTES)];
    let mut best = (0usize, b',');
    for &d in &DELIMITERS {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(d).from_reader(sample);
        let mut counts: Vec<usize> = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while counts.len() < SNIFF_RECORDS && matches!(rdr.read_byte_record(&mut rec), Ok(true)) {
            if rec.len() > 1 || rec.iter().any(|f| !f.is_empty()) {
                counts.push(rec.len());
            }
        }
        // the last record may be cut by the sample
        if text.len() > SNIFF_BYTES && counts.len() > 1 {
            counts.pop();
        }
        let mut modes: Vec<(usize, usize)> = Vec::new();
        for &c in &counts {
            match modes.iter_mut().find(|(n, _)| *n == c) {
                Some(m) => m.1 += 1,
                None => modes.push((c, 1)),
            }
        }
        let score = modes.iter().filter(|(n, _)| *n > 1).map(|&(_, k)| k).max().unwrap_or(0);
        if score > best.0 {
            best = (score, d);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters_and_formats() {
        assert_eq!(delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(delimiter(b"a;b\n\"x;y\";2\n1;2\n"), b';');
        assert_eq!(delimiter(b"ip\tnote\n1.2.3.4\tx, y\n5.6.7.8\tz\n"), b'\t');
        assert_eq!(delimiter(b"a|b\n1|2\n"), b'|');
        assert_eq!(delimiter(b"evil.com\n1.2.3.4\n"), b',');
        assert_eq!(format(b"PK\x03\x04rest", None).unwrap(), FileFormat::Xlsx);
        assert_eq!(format(b"a,b\n", Some("x.csv")).unwrap(), FileFormat::Csv);
        let e = format(b"a,b\n", Some("x.xlsx")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert!(e.message().contains("x.xlsx"), "{e}");
    }
}
