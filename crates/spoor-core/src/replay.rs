//! A recording's replay is one JSON array of every chunk's rrweb events. A
//! chunk may inflate to 16 MB, so it is never held inflated: [`EventsScanner`]
//! reads its JSON piece by piece as it inflates and says which bytes of each
//! piece lie inside the chunk's `events` array, to be sent on as they are
//! (events and the commas between them, never parsed or copied).
//!
//! Chunks were checked whole when they came (`media::check_chunk`); the
//! scanner still refuses anything that is not the shape it expects (no
//! `events` array, an array with nothing in it, JSON that ends early), so a
//! file damaged on disk breaks a replay off rather than make it wrong.

use std::ops::Range;

/// Where the scanner is, at the top level of the chunk's object (depth 1)
/// unless `depth` says it is inside a nested value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    /// Before the object's `{`.
    Start,
    /// Where a key (or the object's end) may come.
    Key,
    /// After a key, before its `:`; whether the key was `events`.
    Colon { events: bool },
    /// After a `:`, before the value.
    Value { events: bool },
    /// In or after a value, before a `,` or the object's end.
    AfterValue,
    /// After the object's `}`: only white space may follow.
    End,
}

/// Finds the inside of a chunk's `events` array, piece by piece.
#[derive(Debug)]
pub struct EventsScanner {
    place: Place,
    /// 1 inside the top-level object, more inside a nested value.
    depth: u64,
    in_string: bool,
    escaped: bool,
    /// The key being read (as much of it as could be `events`).
    key: Vec<u8>,
    key_other: bool,
    /// Inside the events array.
    capturing: bool,
    /// The events array was found and closed.
    found: bool,
    /// The events array held something other than white space.
    content: bool,
}

const EVENTS: &[u8] = b"events";

impl Default for EventsScanner {
    fn default() -> Self {
        EventsScanner::new()
    }
}

impl EventsScanner {
    pub fn new() -> EventsScanner {
        EventsScanner {
            place: Place::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            key: Vec::with_capacity(EVENTS.len()),
            key_other: false,
            capturing: false,
            found: false,
            content: false,
        }
    }

    /// Reads the next piece of the chunk's JSON and answers the range of it
    /// that lies inside the events array (empty when none of it does).
    pub fn feed(&mut self, piece: &[u8]) -> Result<Range<usize>, String> {
        let mut inside: Option<Range<usize>> = None;
        for (i, &b) in piece.iter().enumerate() {
            let was = self.capturing;
            self.step(b)?;
            // The array's own brackets are left out: `[` starts capturing
            // after itself, `]` stops before itself.
            if was && self.capturing {
                let range = inside.get_or_insert(i..i);
                range.end = i + 1;
                self.content |= !b.is_ascii_whitespace();
            }
        }
        Ok(inside.unwrap_or(piece.len()..piece.len()))
    }

    /// Checks that the chunk ended whole, with events in its array.
    pub fn finish(&self) -> Result<(), String> {
        if self.place != Place::End {
            return Err("the chunk ends before its object closes".into());
        }
        if !self.found {
            return Err("the chunk has no events array".into());
        }
        if !self.content {
            return Err("the chunk's events array is empty".into());
        }
        Ok(())
    }

    fn step(&mut self, b: u8) -> Result<(), String> {
        if self.in_string {
            let key = self.place == Place::Key && self.depth == 1;
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                // An escaped key is never taken for `events`.
                self.escaped = true;
                self.key_other |= key;
            } else if b == b'"' {
                self.in_string = false;
                if key {
                    let events = !self.key_other && self.key == EVENTS;
                    self.place = Place::Colon { events };
                }
            } else if key {
                if self.key.len() < EVENTS.len() {
                    self.key.push(b);
                } else {
                    self.key_other = true;
                }
            }
            return Ok(());
        }
        if b.is_ascii_whitespace() {
            return Ok(());
        }
        if self.depth > 1 {
            return self.nested(b);
        }
        match (self.place, b) {
            (Place::Start, b'{') => {
                self.depth = 1;
                self.place = Place::Key;
            }
            (Place::Key, b'"') => {
                self.key.clear();
                self.key_other = false;
                self.in_string = true;
            }
            (Place::Key | Place::AfterValue, b'}') => {
                self.depth = 0;
                self.place = Place::End;
            }
            (Place::Colon { events }, b':') => self.place = Place::Value { events },
            (Place::Value { events: true }, b'[') => {
                if self.found {
                    return Err("the chunk has two events arrays".into());
                }
                self.depth = 2;
                self.capturing = true;
                self.place = Place::AfterValue;
            }
            (Place::Value { events: true }, _) => {
                return Err("the chunk's events are not an array".into());
            }
            (Place::Value { events: false }, b'{' | b'[') => {
                self.depth = 2;
                self.place = Place::AfterValue;
            }
            (Place::Value { events: false }, b'"') => {
                self.in_string = true;
                self.place = Place::AfterValue;
            }
            // A number, true, false or null: read until what ends it.
            (Place::Value { events: false }, _) => self.place = Place::AfterValue,
            (Place::AfterValue, b',') => self.place = Place::Key,
            (Place::AfterValue, b) if b.is_ascii_alphanumeric() || b"+-.".contains(&b) => {}
            _ => {
                return Err(format!(
                    "the chunk is not the JSON object it was: {:?} where it was not expected",
                    char::from(b)
                ));
            }
        }
        Ok(())
    }

    /// A byte inside a nested value (depth 2 or more).
    fn nested(&mut self, b: u8) -> Result<(), String> {
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => {
                self.depth = self
                    .depth
                    .checked_add(1)
                    .ok_or("the chunk nests too deeply")?;
            }
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 1 && self.capturing {
                    self.capturing = false;
                    self.found = true;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events of `json` fed in pieces of `size` bytes, and the outcome.
    fn scan(json: &str, size: usize) -> Result<String, String> {
        let mut scanner = EventsScanner::new();
        let mut out = Vec::new();
        for piece in json.as_bytes().chunks(size.max(1)) {
            let range = scanner.feed(piece)?;
            out.extend_from_slice(&piece[range]);
        }
        scanner.finish()?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_events_are_found_whatever_the_pieces() {
        let json = r#"{"session_id":"s","meta":{"events":[9],"x":"]}\"events\":["},"n":-1.5e3,"ok":true,
            "events" : [ {"type":2,"data":{"s":"a]}\"b","c":[[1],[2]]}} , {"type":3} ],
            "user_id":"u","after":[{"events":[]}]}"#;
        let want = r#" {"type":2,"data":{"s":"a]}\"b","c":[[1],[2]]}} , {"type":3} "#;
        for size in [1, 2, 3, 7, 64, json.len()] {
            assert_eq!(scan(json, size).unwrap(), want, "pieces of {size}");
        }
    }

    #[test]
    fn what_the_replay_sends_parses_as_the_events() {
        let json =
            r#"{"events":[{"type":4,"timestamp":1},{"type":2,"timestamp":2}],"chunk_id":"c"}"#;
        let events: serde_json::Value =
            serde_json::from_str(&format!("[{}]", scan(json, 5).unwrap())).unwrap();
        assert_eq!(events[1]["type"], 2);
        assert_eq!(events.as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_deep_page_streams_as_it_is() {
        // Deeper than any JSON parser's recursion limit: the scanner only
        // counts brackets.
        let deep = format!("{}{}", r#"{"childNodes":["#.repeat(300), "]}".repeat(300));
        let event = format!(r#"{{"type":2,"timestamp":9,"data":{{"node":{deep}}}}}"#);
        let json = format!(r#"{{"session_id":"s","chunk_id":"c","events":[{event}]}}"#);
        assert_eq!(scan(&json, 100).unwrap(), event);
    }

    #[test]
    fn chunks_that_are_not_what_they_were_are_refused() {
        for (json, says) in [
            (r#"{"events":[1]} x"#, "not the JSON object"),
            (r#"[1]"#, "not the JSON object"),
            (r#"{"session_id":"s"}"#, "no events array"),
            (r#"{"events":[]}"#, "empty"),
            (r#"{"events":[ ]}"#, "empty"),
            (r#"{"events":{"a":1}}"#, "not an array"),
            (r#"{"events":[1]"#, "ends before"),
            (r#"{"events":[1],"events":[2]}"#, "two events arrays"),
            (r#"{"ev\u0065nts":[1]}"#, "no events array"),
            (r#"{"events":[1]} x"#, "not the JSON object"),
            (r#"{"eventsx":[1]}"#, "no events array"),
        ] {
            for size in [1, 3, json.len()] {
                let e = scan(json, size).expect_err(json);
                assert!(e.contains(says), "{json} in pieces of {size}: {e}");
            }
        }
    }
}
