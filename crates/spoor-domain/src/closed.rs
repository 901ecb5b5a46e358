//! Closed sets of strings (an export job's status, a kind of friction) as the
//! API document's schemas, made from the same constants the rules send, so
//! that the document lists exactly the values an answer may hold. A field
//! names its set with `#[schema(schema_with = ...)]`.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

/// A string that is one of `values`.
pub fn one_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// One of `values`, or null.
pub fn one_of_or_null(values: &[&str]) -> Object {
    let values: Vec<serde_json::Value> = values
        .iter()
        .map(|v| serde_json::Value::from(*v))
        .chain([serde_json::Value::Null])
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_lists_its_values_and_null_only_when_asked() {
        let set = serde_json::to_value(one_of(&["a", "b"])).unwrap();
        assert_eq!(set["enum"], serde_json::json!(["a", "b"]));
        assert_eq!(set["type"], "string");
        let or_null = serde_json::to_value(one_of_or_null(&["a"])).unwrap();
        assert_eq!(or_null["enum"], serde_json::json!(["a", null]));
        assert_eq!(or_null["type"], serde_json::json!(["string", "null"]));
    }
}
