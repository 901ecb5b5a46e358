//! The bounds every request is held to. Each has a flag and an environment variable
//! on `spoor serve`; the defaults follow Segment's (32 KiB a message, 500 KiB a batch).
//! Also the two byte-level checks a body passes before it is parsed: gzip
//! inflation within a bound, and the JSON depth scan.

use std::io::Read;

/// Request bounds. A request beyond any of them is refused whole with 413.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Body size as sent on the wire (compressed, when gzip).
    pub max_body_bytes: usize,
    /// Body size after gzip decompression.
    pub max_decoded_bytes: usize,
    /// Messages in one batch.
    pub max_batch_messages: usize,
    /// Size of one message as JSON, properties included.
    pub max_message_bytes: usize,
    /// Nesting depth of the JSON body (objects and arrays).
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 512 * 1024,
            max_decoded_bytes: 2 * 1024 * 1024,
            max_batch_messages: 500,
            max_message_bytes: 32 * 1024,
            max_json_depth: 32,
        }
    }
}

/// The deepest nesting of objects and arrays in a JSON text, counted without parsing
/// it, so that a hostile body is refused before any allocation proportional to its
/// depth. Brackets inside strings do not count; text after a string that never
/// closes is all inside it.
///
/// Most of an event's bytes are inside strings, so a string is skipped to its next
/// quote or backslash with `memchr` rather than a byte at a time: a byte-at-a-time
/// scan took about 4% of ingestion's CPU.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        at += 1;
        match b {
            b'"' => loop {
                let Some(rest) = bytes.get(at..) else {
                    return max;
                };
                let Some(found) = memchr::memchr2(b'"', b'\\', rest) else {
                    return max;
                };
                // A quote ends the string; a backslash escapes the byte after it.
                let closes = rest[found] == b'"';
                at += found + if closes { 1 } else { 2 };
                if closes {
                    break;
                }
            },
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A reader that fails with `ErrorKind::FileTooLarge` rather than give more
/// than `max` bytes: inflating through it costs at most the reader's buffer,
/// whatever the input claims.
pub struct BoundedRead<R> {
    inner: R,
    left: u64,
}

impl<R: Read> BoundedRead<R> {
    pub fn new(inner: R, max: usize) -> BoundedRead<R> {
        BoundedRead {
            inner,
            left: max as u64,
        }
    }
}

impl<R: Read> Read for BoundedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte more than is left tells "exactly at the bound" from "past it".
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "larger than its bound once inflated",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Why a gzip body could not be inflated within its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GunzipError {
    #[error("the body is not valid gzip: {0}")]
    Invalid(String),
    #[error("the body is larger than {max} bytes after gzip decompression")]
    TooLarge { max: usize },
}

/// Inflates a gzip body, never producing more than `max` bytes: a gzip bomb
/// costs at most `max + 1` bytes of memory and the work to inflate them.
pub fn gunzip(raw: &[u8], max: usize) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(max));
    // Read one byte past the limit to tell "exactly at the limit" from "over it",
    // without ever inflating more than that.
    let mut decoder = flate2::read::GzDecoder::new(raw).take((max as u64).saturating_add(1));
    decoder
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Invalid(e.to_string()))?;
    if out.len() > max {
        return Err(GunzipError::TooLarge { max });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_reader_gives_the_bound_and_fails_past_it() {
        let mut out = Vec::new();
        BoundedRead::new(&[7u8; 100][..], 100)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 100);
        let mut out = Vec::new();
        let e = BoundedRead::new(&[7u8; 101][..], 100)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(out.len() <= 100);
    }

    #[test]
    fn depth_counts_nesting_outside_strings() {
        assert_eq!(json_depth(b"1"), 0);
        assert_eq!(json_depth(b"{}"), 1);
        assert_eq!(json_depth(br#"{"a":[{"b":1}]}"#), 3);
        assert_eq!(json_depth(br#"{"a":"[[[[{{{{"}"#), 1);
        assert_eq!(json_depth(br#"{"a":"\"[[["}"#), 1);
        assert_eq!(json_depth("[".repeat(10_000).as_bytes()), 10_000);
        // Escaped backslashes before a quote, and escapes at the text's end.
        assert_eq!(json_depth(br#"{"a":"\\\\"}"#), 1);
        assert_eq!(json_depth(br#"[{"a":"\\\\","b":[1]}]"#), 3);
        assert_eq!(json_depth(br#"[{"a":"\"#), 2);
        assert_eq!(json_depth(br#"[{"a":"\\"#), 2);
        // A string that never closes takes the rest of the text with it.
        assert_eq!(json_depth(br#"[["unclosed [[[[[["#), 2);
        assert_eq!(json_depth(b"\""), 0);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_stops_at_its_bound() {
        let body = vec![b'a'; 1000];
        let packed = gzip(&body);
        assert_eq!(gunzip(&packed, 1000), Ok(body));
        assert_eq!(
            gunzip(&packed, 999),
            Err(GunzipError::TooLarge { max: 999 })
        );
        assert!(matches!(
            gunzip(b"\x1f\x8bnot gzip", 1000),
            Err(GunzipError::Invalid(_))
        ));
        // A bomb: 10 MB of zeros inflates no further than the bound.
        let bomb = gzip(&vec![0; 10 << 20]);
        assert_eq!(
            gunzip(&bomb, 4096),
            Err(GunzipError::TooLarge { max: 4096 })
        );
    }
}
