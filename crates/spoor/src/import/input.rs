//! Reading an import file row by row, each row with the byte offset just past
//! it, so that an interrupted import resumes where its last commit ended.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

/// The longest line of an NDJSON file (a Segment message is at most 32 KiB;
/// an exported message with its enrichment a little more).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How rows are written in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

impl Format {
    /// By the name's extension, else by the first byte: `{` opens a JSON line.
    pub fn of(path: &Path, first_byte: Option<u8>) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("ndjson" | "jsonl" | "json") => Format::Ndjson,
            _ if first_byte == Some(b'{') => Format::Ndjson,
            _ => Format::Csv,
        }
    }
}

/// One row, or why it is not one.
pub enum Row {
    Fields(Map<String, Value>),
    Unreadable {
        reason: &'static str,
        detail: String,
    },
}

/// A row with its number (1 is the first row after any header) and the
/// offset just past it.
pub struct Read1 {
    pub number: u64,
    pub end: u64,
    pub row: Row,
}

/// Counts the bytes a CSV reader takes since the last record ended, and
/// fails past [`MAX_LINE_BYTES`]: the csv crate buffers a record whole, so
/// an unterminated quote would otherwise read the rest of the file into
/// memory.
pub struct Bounded<R> {
    inner: R,
    since_record: Arc<AtomicU64>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.since_record.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        // The csv reader reads ahead by its buffer, so allow one more.
        if total > (MAX_LINE_BYTES + (1 << 16)) as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a CSV record is over {MAX_LINE_BYTES} bytes (an unclosed quote?); fix the file and import again"
                ),
            ));
        }
        Ok(n)
    }
}

pub enum Rows {
    Ndjson {
        reader: Box<dyn BufRead + Send>,
        offset: u64,
        number: u64,
        line: Vec<u8>,
    },
    Csv {
        reader: csv::Reader<Bounded<Box<dyn Read + Send>>>,
        since_record: Arc<AtomicU64>,
        headers: Vec<String>,
        base: u64,
        number: u64,
        record: csv::ByteRecord,
    },
}

/// Opens `path` (or standard input for `-`) at `offset`, a row boundary a
/// checkpoint recorded. A CSV's header is read from the file's start.
pub fn open(path: &Path, format: Format, offset: u64, first_row: u64) -> std::io::Result<Rows> {
    let stdin = path.as_os_str() == "-";
    match format {
        Format::Ndjson => {
            let reader: Box<dyn BufRead + Send> = if stdin {
                Box::new(BufReader::with_capacity(1 << 16, std::io::stdin()))
            } else {
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(offset))?;
                Box::new(BufReader::with_capacity(1 << 16, f))
            };
            Ok(Rows::Ndjson {
                reader,
                offset,
                number: first_row,
                line: Vec::new(),
            })
        }
        Format::Csv => {
            let since_record = Arc::new(AtomicU64::new(0));
            let bounded = |inner: Box<dyn Read + Send>| Bounded {
                inner,
                since_record: since_record.clone(),
            };
            let (headers, reader, base) = if stdin {
                // One reader, which reads the header itself: standard input
                // cannot be read twice, and is never resumed.
                let mut r = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_reader(bounded(Box::new(std::io::stdin())));
                let headers = header_names(r.byte_headers().map_err(csv_io)?);
                (headers, r, 0)
            } else {
                let mut head = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_reader(bounded(Box::new(File::open(path)?)));
                let headers = header_names(head.byte_headers().map_err(csv_io)?);
                let start = head.position().byte().max(offset);
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(start))?;
                let r = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(bounded(Box::new(f)));
                (headers, r, start)
            };
            since_record.store(0, Ordering::Relaxed);
            Ok(Rows::Csv {
                reader,
                since_record,
                headers,
                base,
                number: first_row,
                record: csv::ByteRecord::new(),
            })
        }
    }
}

fn csv_io(e: csv::Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

/// Header names as written, trimmed, with a UTF-8 byte order mark removed
/// (spreadsheets write one).
fn header_names(h: &csv::ByteRecord) -> Vec<String> {
    h.iter()
        .enumerate()
        .map(|(i, b)| {
            let s = String::from_utf8_lossy(b);
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}')
            } else {
                &s
            };
            s.trim().to_string()
        })
        .collect()
}

impl Rows {
    /// The next row, `None` at the end of the file.
    pub fn next_row(&mut self) -> std::io::Result<Option<Read1>> {
        match self {
            Rows::Ndjson {
                reader,
                offset,
                number,
                line,
            } => loop {
                line.clear();
                let n = reader
                    .by_ref()
                    .take(MAX_LINE_BYTES as u64 + 1)
                    .read_until(b'\n', line)?;
                if n == 0 {
                    return Ok(None);
                }
                if line.last() != Some(&b'\n') && n > MAX_LINE_BYTES {
                    // Skip the rest of the overlong line, in bounded steps.
                    let mut skipped = n as u64;
                    loop {
                        let buf = reader.fill_buf()?;
                        if buf.is_empty() {
                            break;
                        }
                        let (used, done) = match buf.iter().position(|b| *b == b'\n') {
                            Some(i) => (i + 1, true),
                            None => (buf.len(), false),
                        };
                        reader.consume(used);
                        skipped += used as u64;
                        if done {
                            break;
                        }
                    }
                    *offset += skipped;
                    *number += 1;
                    return Ok(Some(Read1 {
                        number: *number,
                        end: *offset,
                        row: Row::Unreadable {
                            reason: "line_too_long",
                            detail: format!("the line is over {MAX_LINE_BYTES} bytes"),
                        },
                    }));
                }
                *offset += n as u64;
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                *number += 1;
                let row = match serde_json::from_slice::<Value>(text) {
                    Ok(Value::Object(m)) => Row::Fields(m),
                    Ok(_) => Row::Unreadable {
                        reason: "not_an_object",
                        detail: "the line is JSON but not an object".into(),
                    },
                    Err(e) => Row::Unreadable {
                        reason: "invalid_json",
                        detail: format!("the line is not JSON: {e}"),
                    },
                };
                return Ok(Some(Read1 {
                    number: *number,
                    end: *offset,
                    row,
                }));
            },
            Rows::Csv {
                reader,
                since_record,
                headers,
                base,
                number,
                record,
            } => {
                let read = reader.read_byte_record(record);
                // What the reader has buffered beyond this record counts
                // towards the next one; a buffer's worth is allowed for it.
                since_record.store(0, Ordering::Relaxed);
                let more = match read {
                    Ok(more) => more,
                    Err(e) if e.is_io_error() => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            e.to_string(),
                        ));
                    }
                    Err(e) => {
                        // A malformed record: csv has moved past it.
                        *number += 1;
                        return Ok(Some(Read1 {
                            number: *number,
                            end: *base + reader.position().byte(),
                            row: Row::Unreadable {
                                reason: "invalid_csv",
                                detail: e.to_string(),
                            },
                        }));
                    }
                };
                if !more {
                    return Ok(None);
                }
                *number += 1;
                let mut fields = Map::new();
                for (name, cell) in headers.iter().zip(record.iter()) {
                    if cell.is_empty() || name.is_empty() {
                        continue;
                    }
                    fields.insert(
                        name.clone(),
                        Value::String(String::from_utf8_lossy(cell).into_owned()),
                    );
                }
                Ok(Some(Read1 {
                    number: *number,
                    end: *base + reader.position().byte(),
                    row: Row::Fields(fields),
                }))
            }
        }
    }
}
