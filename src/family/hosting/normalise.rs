//! Web Hosting's canonical forms (see `plan::normalise`): domains, folders, `active`/`none`
//! flags.

pub(crate) use crate::plan::normalise::is_leaving;

/// Domains are case-insensitive and may be written with a trailing dot: the family's one rule.
pub use super::domain;

/// `www`, `/www`, `www/` and `./www` are the same folder.
pub fn path(path: &str) -> String {
    let path = path.trim();
    let path = path.strip_prefix("./").unwrap_or(path);
    path.trim_matches('/').to_string()
}

/// `active` / `none` flags: a live `None` reads as `none`.
pub fn flag(value: Option<&str>) -> String {
    value.unwrap_or("none").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_forms() {
        assert_eq!(path("/www/"), "www");
        assert_eq!(path("./www"), "www");
        assert_eq!(domain("WWW.Shop.Example."), "www.shop.example");
    }
}
