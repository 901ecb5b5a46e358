//! A person's properties: the traits their `identify` calls set (`plan`,
//! `company`, `email`...), as insights filter people by them.
//!
//! Each key keeps the value of the latest call that set it, by event time, so
//! the result does not depend on the order calls are read in (a late call
//! changes only the keys it was the latest for) and folding the same call
//! twice changes nothing. Ties in time go to the greater value's text, for the
//! same reason. Only strings, numbers and booleans are kept; a sender cannot
//! grow a person's row without bound: at most [`MAX_TRAITS`] keys (the first
//! in key order), keys of at most [`MAX_TRAIT_KEY`] bytes, strings cut to
//! [`MAX_TRAIT_TEXT`] characters.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Most properties a person keeps.
pub const MAX_TRAITS: usize = 50;
/// Longest property name kept.
pub const MAX_TRAIT_KEY: usize = 200;
/// Longest string value kept, in characters.
pub const MAX_TRAIT_TEXT: usize = 320;

/// A person's properties: each key's value and the event time it was set at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traits(BTreeMap<String, (Value, i64)>);

impl Traits {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// A property's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).map(|(v, _)| v)
    }

    /// Takes the traits an `identify` call at `at` sent.
    pub fn set_all(&mut self, traits: &Map<String, Value>, at: i64) {
        for (k, v) in traits {
            if k.is_empty() || k.len() > MAX_TRAIT_KEY {
                continue;
            }
            let v = match v {
                Value::String(s) => Value::String(s.chars().take(MAX_TRAIT_TEXT).collect()),
                Value::Number(_) | Value::Bool(_) => v.clone(),
                _ => continue,
            };
            self.set(k, v, at);
        }
    }

    /// Takes another summary's properties (a linked anonymous id's).
    pub fn absorb(&mut self, other: &Traits) {
        for (k, (v, at)) in &other.0 {
            self.set(k, v.clone(), *at);
        }
    }

    fn set(&mut self, key: &str, value: Value, at: i64) {
        match self.0.get_mut(key) {
            Some(held) => {
                let later =
                    at > held.1 || (at == held.1 && value_text(&value) > value_text(&held.0));
                if later {
                    *held = (value, at);
                }
            }
            None => {
                self.0.insert(key.to_string(), (value, at));
                // Past the bound the last key in order goes, whichever came
                // last: the same keys stay whatever the order of calls.
                if self.0.len() > MAX_TRAITS {
                    self.0.pop_last();
                }
            }
        }
    }

    /// The stored form: `{"plan": ["pro", AT], ...}`; `None` when empty.
    pub fn to_json(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let map: Map<String, Value> = self
            .0
            .iter()
            .map(|(k, (v, at))| (k.clone(), Value::Array(vec![v.clone(), Value::from(*at)])))
            .collect();
        Some(Value::Object(map).to_string())
    }

    /// Reads [`Traits::to_json`]'s form back; anything else (a row written by
    /// hand, say) counts as no properties rather than stopping the processor.
    pub fn from_json(json: Option<&str>) -> Traits {
        let Some(Ok(Value::Object(map))) = json.map(serde_json::from_str::<Value>) else {
            return Traits::default();
        };
        let mut t = Traits::default();
        for (k, v) in map {
            if let Value::Array(pair) = v
                && let [value, Value::Number(at)] = pair.as_slice()
                && let Some(at) = at.as_i64()
            {
                t.set(&k, value.clone(), at);
            }
        }
        t
    }
}

/// As an API shows it: each key's value, without the times.
impl serde::Serialize for Traits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, (v, _))| (k, v)))
    }
}

/// A value as compared and shown: a string's text, a number's or boolean's JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn traits(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }

    #[test]
    fn each_key_keeps_its_latest_value_whatever_the_order() {
        let calls = [
            (traits(json!({"plan": "free", "seats": 1})), 10),
            (traits(json!({"company": "Acme"})), 30),
            (traits(json!({"plan": "pro"})), 20),
        ];
        let mut in_order = Traits::default();
        for (t, at) in &calls {
            in_order.set_all(t, *at);
        }
        let mut reversed = Traits::default();
        for (t, at) in calls.iter().rev() {
            reversed.set_all(t, *at);
        }
        assert_eq!(in_order, reversed);
        assert_eq!(
            in_order.get("plan"),
            Some(&json!("pro")),
            "set at 20, after 10"
        );
        assert_eq!(in_order.get("seats"), Some(&json!(1)));
        assert_eq!(in_order.get("company"), Some(&json!("Acme")));
        let again = {
            let mut t = in_order.clone();
            t.absorb(&in_order);
            t
        };
        assert_eq!(
            again, in_order,
            "folding the same calls twice changes nothing"
        );
    }

    #[test]
    fn only_scalars_within_bounds_are_kept_and_the_stored_form_reads_back() {
        let long = "x".repeat(MAX_TRAIT_TEXT + 5);
        let mut t = Traits::default();
        t.set_all(
            &traits(json!({
                "nested": {"a": 1}, "list": [1], "none": null, "": "empty key",
                "k".repeat(MAX_TRAIT_KEY + 1): "long key", "k".repeat(MAX_TRAIT_KEY): "kept",
                "bio": long, "active": true
            })),
            5,
        );
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!(
            t.get("bio")
                .and_then(Value::as_str)
                .map(|s| s.chars().count()),
            Some(MAX_TRAIT_TEXT)
        );
        assert_eq!(t.get("active"), Some(&json!(true)));
        assert_eq!(Traits::from_json(t.to_json().as_deref()), t);
        assert_eq!(
            serde_json::to_value(&t).unwrap()["active"],
            json!(true),
            "shown as values, without their times"
        );
        assert_eq!(Traits::default().to_json(), None);
        assert_eq!(Traits::from_json(Some("not json")), Traits::default());
        assert_eq!(
            Traits::from_json(Some(r#"{"a": "no time"}"#)),
            Traits::default()
        );
    }

    #[test]
    fn a_person_keeps_at_most_the_first_keys_in_order_whatever_the_order_of_calls() {
        let keys: Vec<String> = (0..MAX_TRAITS + 1).map(|i| format!("k{i:03}")).collect();
        let mut forward = Traits::default();
        let mut backward = Traits::default();
        for k in &keys {
            forward.set_all(&traits(json!({ k.clone(): 1 })), 1);
        }
        for k in keys.iter().rev() {
            backward.set_all(&traits(json!({ k.clone(): 1 })), 1);
        }
        assert_eq!(forward.len(), MAX_TRAITS);
        assert_eq!(forward, backward);
        assert!(
            forward.get(&keys[MAX_TRAITS - 1]).is_some(),
            "the 50th key is kept"
        );
        assert!(forward.get(&keys[MAX_TRAITS]).is_none(), "the 51st is not");
    }

    #[test]
    fn a_tie_in_time_goes_to_the_greater_value_either_way() {
        let mut a = Traits::default();
        a.set_all(&traits(json!({"plan": "pro"})), 7);
        a.set_all(&traits(json!({"plan": "basic"})), 7);
        let mut b = Traits::default();
        b.set_all(&traits(json!({"plan": "basic"})), 7);
        b.set_all(&traits(json!({"plan": "pro"})), 7);
        assert_eq!(a, b);
        assert_eq!(a.get("plan"), Some(&json!("pro")));
    }
}
