//! `${VAR}` interpolation in scalar values, from an environment given as a function (the
//! process environment in the binary, a map in tests).
//!
//! Syntax: `${NAME}` is the variable's value, an error when it is unset; `${NAME:-default}` is
//! the value, or `default` when the variable is unset or empty (no nesting inside `default`);
//! `$${` is a literal `${`. A `$` not followed by `{` is kept as is. Names are letters, digits
//! and `_`, not starting with a digit. Secrets never go through here: a secret is a
//! `{ fromEnv: NAME }` reference, read when it is needed.

/// Something wrong with one `${...}` of a scalar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${NAME}` with `NAME` unset.
    Missing { name: String },
    /// `${` without its `}`.
    Unterminated,
    /// `${...}` whose inside is not `NAME` or `NAME:-default`.
    BadReference { inside: String },
}

impl InterpolationError {
    pub fn message(&self) -> String {
        match self {
            InterpolationError::Missing { name } => {
                format!("environment variable `{name}` is not set")
            }
            InterpolationError::Unterminated => "`${` is not closed by `}`".into(),
            InterpolationError::BadReference { inside } => {
                format!("`${{{inside}}}` is not a variable reference")
            }
        }
    }

    pub fn hint(&self) -> String {
        match self {
            InterpolationError::Missing { name } => format!(
                "set it (`export {name}=...`), give a default with `${{{name}:-value}}`, or write `$${{` for a literal `${{`"
            ),
            InterpolationError::Unterminated | InterpolationError::BadReference { .. } => {
                "write `${NAME}` or `${NAME:-default}` (NAME: letters, digits, `_`), or `$${` for a literal `${`".into()
            }
        }
    }
}

/// Whether `text` contains anything to interpolate (or an escape to undo).
pub fn has_references(text: &str) -> bool {
    text.contains("${")
}

/// `text` with every `${...}` replaced; all the problems when some cannot be.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                errors.push(InterpolationError::Unterminated);
                return Err(errors);
            };
            let inside = &inner[..end];
            let (name, default) = match inside.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inside, None),
            };
            if !is_name(name) {
                errors.push(InterpolationError::BadReference {
                    inside: inside.to_string(),
                });
            } else {
                match (env(name), default) {
                    (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                    (Some(value), _) => out.push_str(&value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => errors.push(InterpolationError::Missing {
                        name: name.to_string(),
                    }),
                }
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME` when `text` is exactly one `${NAME}` reference.
pub fn sole_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    is_name(name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PROJECT" => Some("p1".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, Vec<InterpolationError>> {
        interpolate(text, &env)
    }

    #[test]
    fn variables_defaults_and_escapes() {
        assert_eq!(run("${PROJECT}").unwrap(), "p1");
        assert_eq!(run("a-${PROJECT}-b").unwrap(), "a-p1-b");
        assert_eq!(run("${UNSET:-demo}").unwrap(), "demo");
        assert_eq!(run("${EMPTY:-demo}").unwrap(), "demo");
        assert_eq!(run("${PROJECT:-demo}").unwrap(), "p1");
        assert_eq!(run("${EMPTY}").unwrap(), "");
        assert_eq!(run("$${PROJECT}").unwrap(), "${PROJECT}");
        assert_eq!(run("cost: 5$ $x").unwrap(), "cost: 5$ $x");
    }

    #[test]
    fn every_missing_variable_is_reported() {
        assert_eq!(
            run("${A}/${PROJECT}/${B}").unwrap_err(),
            vec![
                InterpolationError::Missing { name: "A".into() },
                InterpolationError::Missing { name: "B".into() }
            ]
        );
    }

    #[test]
    fn malformed_references() {
        assert_eq!(
            run("${PROJECT").unwrap_err(),
            vec![InterpolationError::Unterminated]
        );
        assert_eq!(
            run("${1X}").unwrap_err(),
            vec![InterpolationError::BadReference {
                inside: "1X".into()
            }]
        );
        assert_eq!(
            run("${}").unwrap_err(),
            vec![InterpolationError::BadReference { inside: "".into() }]
        );
    }

    #[test]
    fn a_sole_reference_is_recognised() {
        assert_eq!(sole_reference("${DB_PASSWORD}"), Some("DB_PASSWORD"));
        assert_eq!(sole_reference("x${DB_PASSWORD}"), None);
    }
}
