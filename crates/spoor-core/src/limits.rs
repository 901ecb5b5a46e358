//! The bounds every request is held to. Each has a flag and an environment variable
//! on `spoor serve`; the defaults follow Segment's (32 KiB a message, 500 KiB a batch).

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
/// depth. Brackets inside strings do not count.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
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

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn depth_counts_nesting_outside_strings() {
        assert_eq!(json_depth(b"1"), 0);
        assert_eq!(json_depth(b"{}"), 1);
        assert_eq!(json_depth(br#"{"a":[{"b":1}]}"#), 3);
        assert_eq!(json_depth(br#"{"a":"[[[[{{{{"}"#), 1);
        assert_eq!(json_depth(br#"{"a":"\"[[["}"#), 1);
        assert_eq!(json_depth("[".repeat(10_000).as_bytes()), 10_000);
    }
}
