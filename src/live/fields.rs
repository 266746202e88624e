//! Reading fields out of API answers leniently: a missing or null field is `None` (or empty),
//! never a failure, because the models grow and older objects lack newer fields. Only an
//! object's identity is required, and each family checks that itself.

use serde_json::Value;

/// A string field; `""` when absent or null (numbers and booleans are kept as their text).
pub(crate) fn string(raw: &Value, key: &str) -> String {
    opt_string(raw, key).unwrap_or_default()
}

/// A string field; `None` when absent, null or empty.
pub(crate) fn opt_string(raw: &Value, key: &str) -> Option<String> {
    match raw.get(key)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn opt_bool(raw: &Value, key: &str) -> Option<bool> {
    raw.get(key)?.as_bool()
}

pub(crate) fn opt_i64(raw: &Value, key: &str) -> Option<i64> {
    raw.get(key)?.as_i64()
}

/// A non-negative integer field (a float with no fraction counts).
pub(crate) fn opt_u32(raw: &Value, key: &str) -> Option<u32> {
    as_u32(raw.get(key)?)
}

pub(crate) fn as_u32(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|n| u32::try_from(n).ok()),
        _ => None,
    }
}

/// A list of strings; empty when absent or null; non-string entries are dropped.
pub(crate) fn strings(raw: &Value, key: &str) -> Vec<String> {
    raw.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Units of `complexType.UnitAndValue` sizes, as megabytes.
fn megabytes_per(unit: &str) -> Option<f64> {
    match unit.to_ascii_uppercase().as_str() {
        "B" | "BYTES" => Some(1.0 / 1_048_576.0),
        "KB" | "KIB" => Some(1.0 / 1024.0),
        "MB" | "MIB" => Some(1.0),
        "GB" | "GIB" => Some(1024.0),
        "TB" | "TIB" => Some(1_048_576.0),
        _ => None,
    }
}

/// A `{unit, value}` size in megabytes (rounded); `None` when absent, null or in a unit this
/// does not know. A bare number is taken as megabytes already.
pub(crate) fn size_in_mb(size: &Value) -> Option<u32> {
    scaled(size, 1.0)
}

/// A `{unit, value}` size in gigabytes (rounded), as `size_in_mb`; a bare number is taken as
/// gigabytes already.
pub(crate) fn size_in_gb(size: &Value) -> Option<u32> {
    scaled(size, 1024.0)
}

fn scaled(size: &Value, target_mb: f64) -> Option<u32> {
    if size.is_number() {
        return as_u32(size);
    }
    let value = size.get("value")?.as_f64()?;
    let unit = size.get("unit")?.as_str()?;
    let result = (value * megabytes_per(unit)? / target_mb).round();
    (result >= 0.0 && result <= f64::from(u32::MAX)).then_some(result as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_null_and_empty_strings_are_none() {
        let raw = json!({"a": "x", "b": null, "c": "", "d": 3});
        assert_eq!(opt_string(&raw, "a").as_deref(), Some("x"));
        assert_eq!(opt_string(&raw, "b"), None);
        assert_eq!(opt_string(&raw, "c"), None);
        assert_eq!(opt_string(&raw, "d").as_deref(), Some("3"));
        assert_eq!(string(&raw, "missing"), "");
    }

    #[test]
    fn integers_accept_whole_floats_only() {
        let raw = json!({"a": 3, "b": 3.0, "c": 3.5, "d": -1, "e": "3"});
        assert_eq!(opt_u32(&raw, "a"), Some(3));
        assert_eq!(opt_u32(&raw, "b"), Some(3));
        assert_eq!(opt_u32(&raw, "c"), None);
        assert_eq!(opt_u32(&raw, "d"), None);
        assert_eq!(opt_u32(&raw, "e"), None);
    }

    #[test]
    fn sizes_convert_units() {
        assert_eq!(
            size_in_mb(&json!({"unit": "MB", "value": 512.0})),
            Some(512)
        );
        assert_eq!(size_in_mb(&json!({"unit": "GB", "value": 1})), Some(1024));
        assert_eq!(size_in_gb(&json!({"unit": "GB", "value": 40})), Some(40));
        assert_eq!(size_in_gb(&json!({"unit": "TB", "value": 1})), Some(1024));
        assert_eq!(size_in_gb(&json!({"unit": "MB", "value": 2048})), Some(2));
        assert_eq!(size_in_gb(&json!(25)), Some(25));
        assert_eq!(size_in_gb(&json!({"unit": "parsec", "value": 1})), None);
        assert_eq!(size_in_gb(&Value::Null), None);
    }
}
