//! Checks on uploaded files before they are stored: a PNG screenshot, a WebM
//! video, and a chunk of an rrweb recording. Each answer says what is wrong in
//! words the sender can act on. No IO: the caller has the bytes in memory.

use serde::Deserialize;
use serde::de::IgnoredAny;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

/// A PNG's size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PngInfo {
    pub width: u32,
    pub height: u32,
}

/// Checks that `bytes` is one whole PNG: the signature, an `IHDR` first, every
/// chunk within the file with a correct CRC, and `IEND` last. A truncated upload
/// fails here rather than being stored as a broken image.
pub fn check_png(bytes: &[u8]) -> Result<PngInfo, String> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(
            "the file is not a PNG image (its first bytes are not the PNG signature); \
                    send a .png file"
                .into(),
        );
    }
    let mut at = PNG_SIGNATURE.len();
    let mut info = None;
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return Err(
                "the PNG is truncated: it ends before its IEND chunk; send the whole file".into(),
            );
        };
        let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let kind = &header[4..8];
        let end = at + 8 + len + 4;
        let Some(chunk) = bytes.get(at + 4..at + 8 + len) else {
            return Err(format!(
                "the PNG is truncated: its {} chunk needs {len} bytes that the file does not have; \
                 send the whole file",
                String::from_utf8_lossy(kind)
            ));
        };
        let Some(crc) = bytes.get(at + 8 + len..end) else {
            return Err(
                "the PNG is truncated: a chunk's checksum is missing; send the whole file".into(),
            );
        };
        if crc32fast::hash(chunk).to_be_bytes() != crc {
            return Err(format!(
                "the PNG is damaged: its {} chunk fails its checksum",
                String::from_utf8_lossy(kind)
            ));
        }
        if info.is_none() {
            if kind != b"IHDR" || len != 13 {
                return Err("the PNG is damaged: it does not start with an IHDR chunk".into());
            }
            let d = &chunk[4..];
            let width = u32::from_be_bytes(d[..4].try_into().expect("4 bytes"));
            let height = u32::from_be_bytes(d[4..8].try_into().expect("4 bytes"));
            if width == 0 || height == 0 {
                return Err("the PNG has no pixels (width or height is 0)".into());
            }
            info = Some(PngInfo { width, height });
        }
        at = end;
        if kind == b"IEND" {
            return info.ok_or_else(|| "the PNG has no IHDR chunk".into());
        }
    }
}

/// Checks that `bytes` starts as a WebM video: an EBML header whose document
/// type is `webm`. A video recorded in the browser is written as it goes and its
/// length is often unknown, so its end cannot be checked the same way.
pub fn check_webm(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(&EBML_MAGIC) {
        return Err(
            "the file is not a WebM video (it has no EBML header); send a .webm file".into(),
        );
    }
    let head = &bytes[..bytes.len().min(64)];
    if !head.windows(4).any(|w| w == b"webm") {
        return Err("the file is a Matroska container but not WebM; send a .webm file".into());
    }
    // The header itself plus a Segment's start: anything shorter holds no video.
    if bytes.len() < 64 {
        return Err("the WebM file is truncated: it ends inside its header".into());
    }
    Ok(())
}

/// Bounds on one recording chunk.
#[derive(Clone, Copy, Debug)]
pub struct ChunkLimits {
    pub max_events: usize,
    pub max_id_chars: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_events: 50_000,
            max_id_chars: 200,
        }
    }
}

#[derive(Deserialize)]
struct RawChunk {
    session_id: Option<serde_json::Value>,
    chunk_id: Option<serde_json::Value>,
    anonymous_id: Option<String>,
    user_id: Option<String>,
    url: Option<String>,
    events: Option<Vec<RawEvent>>,
}

/// An rrweb event as far as the server needs it; its data is kept as sent.
#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: Option<serde_json::Number>,
    timestamp: Option<serde_json::Number>,
    #[allow(dead_code)]
    data: Option<IgnoredAny>,
}

/// What the server keeps of a chunk beside its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkInfo {
    pub session_id: String,
    pub chunk_id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub url: Option<String>,
    pub events: usize,
    pub first_ts: i64,
    pub last_ts: i64,
}

fn id_field(v: Option<serde_json::Value>, name: &str, max: usize) -> Result<String, String> {
    let s = match v {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => return Err(format!("{name} must be a string")),
        None => return Err(format!("send {name}: the chunk has none")),
    };
    if s.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if s.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    Ok(s)
}

/// Parses and checks a recording chunk (JSON, already decompressed): a session
/// id, a chunk id, and a non-empty array of rrweb events each with a numeric
/// `type` and `timestamp` (ms).
pub fn check_chunk(json: &[u8], limits: &ChunkLimits) -> Result<ChunkInfo, String> {
    check_parsed(serde_json::from_slice(json), limits)
}

/// Why a gzip chunk was refused.
#[derive(Debug, PartialEq)]
pub enum ChunkError {
    /// It inflates past the bound.
    TooLarge { max: usize },
    /// It is not valid gzip.
    NotGzip(String),
    /// It inflates, but not to a chunk.
    Invalid(String),
}

/// [`check_chunk`] on a gzip chunk, checked as it is inflated and never held
/// inflated: a 16 MB chunk costs a read buffer and its events' times, not
/// 16 MB. At most `max` bytes are inflated.
pub fn check_gzip_chunk(
    raw: &[u8],
    max: usize,
    limits: &ChunkLimits,
) -> Result<ChunkInfo, ChunkError> {
    let inflated = crate::limits::BoundedRead::new(flate2::read::GzDecoder::new(raw), max);
    let parsed = serde_json::from_reader(std::io::BufReader::with_capacity(64 * 1024, inflated));
    match &parsed {
        Err(e) if e.io_error_kind() == Some(std::io::ErrorKind::FileTooLarge) => {
            Err(ChunkError::TooLarge { max })
        }
        Err(e) if e.io_error_kind().is_some() => Err(ChunkError::NotGzip(e.to_string())),
        _ => check_parsed(parsed, limits).map_err(ChunkError::Invalid),
    }
}

fn check_parsed(
    parsed: Result<RawChunk, serde_json::Error>,
    limits: &ChunkLimits,
) -> Result<ChunkInfo, String> {
    let raw = parsed.map_err(|e| {
        if e.to_string().contains("recursion limit") {
            "the chunk nests too deeply to store (a page's DOM deeper than about 60 levels)".into()
        } else {
            format!("the chunk is not a JSON object of session_id, chunk_id and events: {e}")
        }
    })?;
    let session_id = id_field(raw.session_id, "session_id", limits.max_id_chars)?;
    let chunk_id = id_field(raw.chunk_id, "chunk_id", limits.max_id_chars)?;
    let events = raw
        .events
        .ok_or("send events: an array of rrweb events ({type, timestamp, data})")?;
    if events.is_empty() {
        return Err("events is empty; send at least one rrweb event".into());
    }
    if events.len() > limits.max_events {
        return Err(format!(
            "the chunk has {} events; the limit is {}: cut chunks smaller",
            events.len(),
            limits.max_events
        ));
    }
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for (i, e) in events.iter().enumerate() {
        if e.kind.as_ref().and_then(|k| k.as_u64()).is_none() {
            return Err(format!(
                "events[{i}] has no numeric type; is it an rrweb event?"
            ));
        }
        let ts = e
            .timestamp
            .as_ref()
            .and_then(|t| t.as_f64())
            .filter(|t| t.is_finite() && *t > 0.0)
            .ok_or_else(|| format!("events[{i}] has no timestamp (ms since the epoch)"))?
            as i64;
        first = first.min(ts);
        last = last.max(ts);
    }
    let short =
        |s: Option<String>, max: usize| s.filter(|s| !s.is_empty()).map(|s| truncate(s, max));
    Ok(ChunkInfo {
        session_id,
        chunk_id,
        anonymous_id: short(raw.anonymous_id, limits.max_id_chars),
        user_id: short(raw.user_id, limits.max_id_chars),
        url: short(raw.url, 2048),
        events: events.len(),
        first_ts: first,
        last_ts: last,
    })
}

fn truncate(mut s: String, max: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG, built chunk by chunk so that the CRCs are right.
    pub(crate) fn tiny_png() -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend((data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend(data);
            out.extend(&body);
            out.extend(crc32fast::hash(&body).to_be_bytes());
        }
        let mut png = PNG_SIGNATURE.to_vec();
        chunk(&mut png, b"IHDR", &[0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]);
        chunk(&mut png, b"IEND", &[]);
        png
    }

    #[test]
    fn a_whole_png_is_accepted_with_its_size() {
        assert_eq!(
            check_png(&tiny_png()),
            Ok(PngInfo {
                width: 3,
                height: 2
            })
        );
    }

    #[test]
    fn a_png_cut_anywhere_is_refused_as_truncated() {
        let png = tiny_png();
        for cut in PNG_SIGNATURE.len()..png.len() {
            let e = check_png(&png[..cut]).unwrap_err();
            assert!(e.contains("truncated"), "cut at {cut}: {e}");
        }
    }

    #[test]
    fn other_files_and_damaged_pngs_are_refused() {
        assert!(check_png(b"GIF89a....").unwrap_err().contains("not a PNG"));
        let mut png = tiny_png();
        let last = PNG_SIGNATURE.len() + 8 + 5;
        png[last] ^= 0xff;
        assert!(check_png(&png).unwrap_err().contains("checksum"));
    }

    #[test]
    fn webm_needs_its_header_and_doc_type() {
        let mut webm = EBML_MAGIC.to_vec();
        webm.extend([0x9f, 0x42, 0x82, 0x84]);
        webm.extend(b"webm");
        webm.resize(200, 0);
        assert_eq!(check_webm(&webm), Ok(()));
        assert!(check_webm(&webm[..20]).unwrap_err().contains("truncated"));
        let mut mkv = webm.clone();
        mkv[8..12].copy_from_slice(b"matr");
        assert!(check_webm(&mkv).unwrap_err().contains("not WebM"));
        assert!(
            check_webm(b"RIFF....AVI ")
                .unwrap_err()
                .contains("not a WebM")
        );
    }

    fn check(json: &str) -> Result<ChunkInfo, String> {
        check_chunk(json.as_bytes(), &ChunkLimits::default())
    }

    #[test]
    fn a_chunk_gives_its_ids_and_time_span() {
        let info = check(
            r#"{"session_id":"s1","chunk_id":"p-0","user_id":"u","url":"https://a.test/x",
                "events":[{"type":4,"timestamp":1700000000500,"data":{"href":"x"}},
                          {"type":2,"timestamp":1700000000100,"data":{"node":{"a":[[[]]]}}}]}"#,
        )
        .unwrap();
        assert_eq!(info.session_id, "s1");
        assert_eq!(info.chunk_id, "p-0");
        assert_eq!(info.user_id.as_deref(), Some("u"));
        assert_eq!(info.anonymous_id, None);
        assert_eq!(
            (info.first_ts, info.last_ts, info.events),
            (1700000000100, 1700000000500, 2)
        );
    }

    fn gz(json: &str) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(json.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_chunk_is_judged_as_it_inflates_as_it_would_be_whole() {
        let deep = format!("{}{}", r#"{"childNodes":["#.repeat(300), "]}".repeat(300));
        let good = format!(
            r#"{{"session_id":"s","chunk_id":"c","events":[{{"type":2,"timestamp":9,"data":{{"node":{deep}}}}},{{"type":3,"timestamp":12}}]}}"#
        );
        let limits = ChunkLimits::default();
        let streamed = check_gzip_chunk(&gz(&good), good.len(), &limits).unwrap();
        assert_eq!(streamed, check(&good).unwrap());
        assert_eq!((streamed.first_ts, streamed.last_ts), (9, 12));
        // One byte under the chunk's size is past the bound.
        assert_eq!(
            check_gzip_chunk(&gz(&good), good.len() - 1, &limits),
            Err(ChunkError::TooLarge {
                max: good.len() - 1
            })
        );
        assert!(matches!(
            check_gzip_chunk(&[0x1f, 0x8b, 8, 0, 1, 2, 3], 1000, &limits),
            Err(ChunkError::NotGzip(_))
        ));
        let Err(ChunkError::Invalid(e)) =
            check_gzip_chunk(&gz(r#"{"chunk_id":"c"}"#), 1000, &limits)
        else {
            panic!("a chunk without a session is invalid");
        };
        assert!(e.contains("send session_id"), "{e}");
    }

    #[test]
    fn a_deep_page_is_a_valid_chunk() {
        // rrweb nests a node's children two JSON levels below it; serde_json's
        // recursion limit (128) must not refuse a page 300 elements deep.
        let deep = format!("{}{}", r#"{"childNodes":["#.repeat(300), "]}".repeat(300));
        let json = format!(
            r#"{{"session_id":"s","chunk_id":"c","events":[{{"type":2,"timestamp":9,"data":{{"node":{deep}}}}}]}}"#
        );
        assert_eq!(check(&json).unwrap().events, 1);
    }

    #[test]
    fn bad_chunks_say_what_to_fix() {
        let cases = [
            ("[]", "not a JSON object"),
            (r#"{"chunk_id":"c","events":[]}"#, "send session_id"),
            (
                r#"{"session_id":"s","events":[{"type":1,"timestamp":1}]}"#,
                "send chunk_id",
            ),
            (r#"{"session_id":"s","chunk_id":"c"}"#, "send events"),
            (
                r#"{"session_id":"s","chunk_id":"c","events":[]}"#,
                "events is empty",
            ),
            (
                r#"{"session_id":"s","chunk_id":"c","events":[{"timestamp":1}]}"#,
                "events[0] has no numeric type",
            ),
            (
                r#"{"session_id":"s","chunk_id":"c","events":[{"type":2,"timestamp":1},{"type":3}]}"#,
                "events[1] has no timestamp",
            ),
            (
                r#"{"session_id":"","chunk_id":"c","events":[{"type":2,"timestamp":1}]}"#,
                "session_id is empty",
            ),
        ];
        for (json, expected) in cases {
            let e = check(json).unwrap_err();
            assert!(e.contains(expected), "{json}: {e}");
        }
        let many = format!(
            r#"{{"session_id":"s","chunk_id":"c","events":[{}]}}"#,
            [r#"{"type":3,"timestamp":5}"#; 3].join(",")
        );
        let e = check_chunk(
            many.as_bytes(),
            &ChunkLimits {
                max_events: 2,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("limit is 2"), "{e}");
    }
}
