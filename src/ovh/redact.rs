//! Redaction: the one way a request's path, query or JSON body is printed, in logs and in
//! errors. `Redacted` replaces the value of every sensitive key (passwords, secrets, tokens,
//! keys) with `***` and leaves the rest readable, so `-v` output stays useful without leaking.

use std::fmt;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const MASK: &str = "***";

/// Whether a query parameter or JSON object key names a value that must never be printed.
///
/// Case-insensitive: anything containing `password`, `passphrase`, `secret`, `token`,
/// `signature` or `authorization`, and anything ending in `key` (`key`, `consumerKey`,
/// `applicationKey`, `sshKey`). Over-redacting is harmless; under-redacting is not.
pub fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    const PARTS: [&str; 6] = [
        "password",
        "passphrase",
        "secret",
        "token",
        "signature",
        "authorization",
    ];
    PARTS.iter().any(|part| key.contains(part)) || key.ends_with("key")
}

/// A display wrapper that prints a path, URL or JSON value with sensitive values masked.
///
/// ```
/// use reconcile::ovh::Redacted;
/// let shown = Redacted::path("/me/x?name=a&password=hunter2").to_string();
/// assert_eq!(shown, "/me/x?name=a&password=***");
/// ```
#[derive(Clone, Copy)]
pub struct Redacted<'a>(Shape<'a>);

#[derive(Clone, Copy)]
enum Shape<'a> {
    /// A path or full URL, possibly with a query string.
    Path(&'a str),
    Json(&'a Value),
}

impl<'a> Redacted<'a> {
    /// A request path or URL: the values of sensitive query parameters are masked.
    pub fn path(path: &'a str) -> Self {
        Redacted(Shape::Path(path))
    }

    /// A JSON body: the values of sensitive keys are masked, at any depth.
    pub fn json(value: &'a Value) -> Self {
        Redacted(Shape::Json(value))
    }
}

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Shape::Path(path) => write_redacted_path(f, path),
            Shape::Json(value) => write!(f, "{}", redact_json(value)),
        }
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn write_redacted_path(f: &mut fmt::Formatter<'_>, path: &str) -> fmt::Result {
    let Some((before, query)) = path.split_once('?') else {
        return f.write_str(path);
    };
    // Keep a fragment out of the key/value logic but still print it.
    let (query, fragment) = match query.split_once('#') {
        Some((q, frag)) => (q, Some(frag)),
        None => (query, None),
    };
    f.write_str(before)?;
    f.write_str("?")?;
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            f.write_str("&")?;
        }
        match pair.split_once('=') {
            Some((key, _)) if is_sensitive_key(&percent_decode(key)) => write!(f, "{key}={MASK}")?,
            _ => f.write_str(pair)?,
        }
    }
    if let Some(fragment) = fragment {
        write!(f, "#{fragment}")?;
    }
    Ok(())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// A copy of `value` with the values of sensitive keys replaced by `"***"`.
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive_key(k) && !v.is_null() {
                        Value::String(MASK.to_owned())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_query_values_are_masked_and_the_rest_kept() {
        let cases = [
            ("/me", "/me"),
            ("/a?x=1&y=2", "/a?x=1&y=2"),
            (
                "/a?password=p&name=n&clientSecret=s&access_token=t",
                "/a?password=***&name=n&clientSecret=***&access_token=***",
            ),
            ("/a?consumerKey=ck&flag", "/a?consumerKey=***&flag"),
            ("/a?pass%77ord=p", "/a?pass%77ord=***"),
            (
                "https://h/1.0/a?Password=p#frag",
                "https://h/1.0/a?Password=***#frag",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Redacted::path(input).to_string(), expected, "input {input}");
        }
    }

    #[test]
    fn sensitive_json_values_are_masked_at_any_depth() {
        let body = json!({
            "name": "alice",
            "password": "hunter2",
            "nested": [{"consumerKey": "ck", "token": "t", "keep": 1}],
            "secretName": null,
        });
        assert_eq!(
            Redacted::json(&body).to_string(),
            r#"{"name":"alice","password":"***","nested":[{"consumerKey":"***","token":"***","keep":1}],"secretName":null}"#
        );
    }
}
