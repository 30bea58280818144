//! Opening an input file: gzip decompression, text decoding, and the
//! choice of reader (the format asked for, or the one the content shows).

use super::scan::Doc;
use super::{
    Bad, Chunk, Data, Format, SourceFile, csv, data_error, json, response, split_extension,
};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads one file as `format` (or the format it shows, for `Auto`): its
/// tables' rows, one chunk per table. With `skip_bad`, malformed records
/// are left out and listed on the file's first chunk.
pub(crate) fn read_file(path: &Path, format: Format, skip_bad: bool) -> Result<Vec<Chunk>> {
    let mut bad = Bad::new(skip_bad);
    let mut chunks = read_chunks(path, format, &mut bad)?;
    if !bad.list.is_empty() {
        if chunks.is_empty() {
            let source = SourceFile {
                path: path.to_path_buf(),
                format,
                gzip: false,
                rows: 0,
            };
            chunks.push(Chunk::records(None, source, Vec::new(), Vec::new()));
        }
        chunks[0].skipped = std::mem::take(&mut bad.list);
    }
    Ok(chunks)
}

fn read_chunks(path: &Path, format: Format, bad: &mut Bad) -> Result<Vec<Chunk>> {
    let raw = std::fs::read(path).map_err(|e| data_error(path, e))?;
    let (bytes, gzip) = decompressed(path, raw)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = split_extension(&name).map(|(_, e)| e);
    let source = SourceFile {
        path: path.to_path_buf(),
        format,
        gzip,
        rows: 0,
    };
    let parquet = format == Format::Parquet
        || (format == Format::Auto && (ext == Some("parquet") || bytes.starts_with(b"PAR1")));
    if parquet {
        if gzip {
            return Err(data_error(
                path,
                "gzip-compressed Parquet is not supported (Parquet compresses its own columns); decompress the file first",
            ));
        }
        let batches = super::read_parquet(path)?;
        let mut source = source;
        source.format = Format::Parquet;
        source.rows = batches.iter().map(|b| b.num_rows()).sum();
        return Ok(vec![Chunk {
            name: None,
            defender: false,
            source,
            data: Data::Parquet(batches),
            skipped: Vec::new(),
        }]);
    }
    let text = utf8_text(path, bytes)?;
    let text = text.as_str();
    let file: Arc<Path> = Arc::from(path);
    let doc = Doc::new(text);
    let format = match format {
        Format::Auto => detect(path, &doc, ext)?,
        f => f,
    };
    let mut source = source;
    source.format = format;
    let doc = || &doc;
    match format {
        Format::Csv => Ok(vec![csv::read(&file, text, source, bad)?]),
        Format::JsonLines | Format::LaExport | Format::Auto => {
            json::read_lines(&file, doc(), source, bad)
        }
        Format::JsonArray => json::read_array(&file, doc(), source, false, bad),
        Format::AzCli => json::read_array(&file, doc(), source, true, bad),
        Format::DefenderStreaming => json::read_defender(&file, doc(), source, bad),
        Format::LaQueryApi => response::read_la(&file, doc(), source, bad),
        Format::KustoV1 => response::read_kusto_v1(&file, doc(), source, bad),
        Format::KustoV2 => response::read_kusto_v2(&file, doc(), source, bad),
        Format::DefenderApi => response::read_defender_api(&file, doc(), source, bad),
        Format::Parquet => Err(data_error(path, "not a Parquet file")),
    }
}

/// A file's bytes, gunzipped when they start with the gzip magic; and
/// whether they did.
pub(crate) fn decompressed(path: &Path, raw: Vec<u8>) -> Result<(Vec<u8>, bool)> {
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok((raw, false));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| data_error(path, format!("not a valid gzip file: {e}")))?;
    Ok((out, true))
}

/// A file's bytes as UTF-8 text without a byte-order mark; UTF-16 and
/// invalid UTF-8 are errors naming the line.
pub(crate) fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(data_error(
            path,
            "the file is UTF-16 text; kqlite reads UTF-8 (save it as UTF-8)",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        Error::Data(format!(
            "{}:{line}: the file is not UTF-8 text (invalid byte at offset {at})",
            path.display()
        ))
    })?;
    let mut text = text;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// The format the content shows: `.csv` files are CSV; JSON is told apart
/// by its first value's keys.
fn detect(path: &Path, doc: &Doc, ext: Option<&str>) -> Result<Format> {
    if ext == Some("csv") {
        return Ok(Format::Csv);
    }
    let start = doc.skip_ws(0);
    match doc.text.as_bytes().get(start) {
        None => Ok(Format::JsonLines),
        Some(b'{' | b'[') => json::detect(doc, start).map_err(|m| data_error(path, m)),
        Some(_) => match ext {
            Some(_) => Err(Error::Data(format!(
                "{}:{}: not JSON (expected `{{` or `[`)",
                path.display(),
                doc.place(start)
            ))),
            None => Err(data_error(
                path,
                "unknown file type (not JSON or Parquet; give the format explicitly)",
            )),
        },
    }
}
