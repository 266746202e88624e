//! Where requests go. An `Endpoint` is a named OVH region (`ovh-eu`, `ovh-ca`, ...) or a URL
//! (a sandbox). It is the only place that turns an API path into a full request URL, and it
//! knows each region's OAuth2 token URL. Plain `http://` is refused unless the host is
//! loopback, so credentials never cross a network in clear.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

use super::error::OvhError;

/// A named endpoint: its canonical name, node-ovh aliases, base URL and OAuth2 token URL.
struct Named {
    name: &'static str,
    aliases: &'static [&'static str],
    base: &'static str,
    token_url: Option<&'static str>,
}

/// python-ovh 1.2.0 `ENDPOINTS` / `OAUTH2_TOKEN_URLS`
/// (<https://github.com/ovh/python-ovh/blob/v1.2.0/ovh/client.py>) and the node-ovh aliases
/// (<https://github.com/ovh/node-ovh/blob/master/lib/endpoints.js>).
const NAMED: &[Named] = &[
    Named {
        name: "ovh-eu",
        aliases: &[],
        base: "https://eu.api.ovh.com/1.0",
        token_url: Some("https://www.ovh.com/auth/oauth2/token"),
    },
    Named {
        name: "ovh-ca",
        aliases: &[],
        base: "https://ca.api.ovh.com/1.0",
        token_url: Some("https://ca.ovh.com/auth/oauth2/token"),
    },
    Named {
        name: "ovh-us",
        aliases: &[],
        base: "https://api.us.ovhcloud.com/1.0",
        token_url: Some("https://us.ovhcloud.com/auth/oauth2/token"),
    },
    Named {
        name: "kimsufi-eu",
        aliases: &["ks-eu"],
        base: "https://eu.api.kimsufi.com/1.0",
        token_url: None,
    },
    Named {
        name: "kimsufi-ca",
        aliases: &["ks-ca"],
        base: "https://ca.api.kimsufi.com/1.0",
        token_url: None,
    },
    Named {
        name: "soyoustart-eu",
        aliases: &["sys-eu"],
        base: "https://eu.api.soyoustart.com/1.0",
        token_url: None,
    },
    Named {
        name: "soyoustart-ca",
        aliases: &["sys-ca"],
        base: "https://ca.api.soyoustart.com/1.0",
        token_url: None,
    },
];

/// The public endpoint of an API other than OVH's main one, known by a name (RunAbove's:
/// `runabove`, `https://api.runabove.com/1.0`), declared by the family that lives on it. Not an
/// OVH region, so not in `NAMED`: only `Endpoint::parse_named` and `Endpoint::named` know it.
/// No OAuth2 token URL.
#[derive(Debug)]
pub struct NamedEndpoint {
    pub name: &'static str,
    pub base: &'static str,
    /// A URL the hint shows, such as a sandbox's (`http://127.0.0.1:8080/runabove/1.0`).
    pub example_url: &'static str,
}

/// The API an `ovh::Client` talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Canonical name (`ovh-eu`) for named endpoints; `None` for URLs.
    name: Option<&'static str>,
    /// Base URL without trailing slash, e.g. `https://eu.api.ovh.com/1.0`.
    base: String,
    token_url: Option<String>,
    loopback: bool,
}

impl Endpoint {
    /// Parses a region name (`ovh-eu`, `ks-eu`, ...) or an `http(s)://` URL.
    pub fn parse(input: &str) -> Result<Self, OvhError> {
        let input = input.trim();
        if let Some(named) = NAMED
            .iter()
            .find(|n| n.name == input || n.aliases.contains(&input))
        {
            return Ok(Endpoint {
                name: Some(named.name),
                base: named.base.to_owned(),
                token_url: named.token_url.map(str::to_owned),
                loopback: false,
            });
        }
        if !input.contains("://") {
            return Err(OvhError::config(
                format!("unknown endpoint `{input}`"),
                format!(
                    "use one of {} or a url such as https://eu.api.ovh.com/1.0",
                    Endpoint::names().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Self::parse_url(input)
    }

    /// `api`'s name (`runabove`: its public endpoint) or an `http(s)://` URL (a sandbox's).
    pub fn parse_named(input: &str, api: &NamedEndpoint) -> Result<Self, OvhError> {
        let input = input.trim();
        if input == api.name {
            return Ok(Self::named(api));
        }
        if !input.contains("://") {
            return Err(OvhError::config(
                format!("unknown {} endpoint `{input}`", api.name),
                format!("use {} or a url such as {}", api.name, api.example_url),
            ));
        }
        Self::parse_url(input)
    }

    /// `api`'s public endpoint.
    pub fn named(api: &NamedEndpoint) -> Self {
        Endpoint {
            name: Some(api.name),
            base: api.base.to_owned(),
            token_url: None,
            loopback: false,
        }
    }

    fn parse_url(input: &str) -> Result<Self, OvhError> {
        let invalid = |why: &str| {
            OvhError::config(
                format!("invalid endpoint url `{input}`: {why}"),
                "give a url such as https://eu.api.ovh.com/1.0 or http://127.0.0.1:8080/1.0"
                    .to_owned(),
            )
        };
        let url = Url::parse(input).map_err(|e| invalid(&e.to_string()))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not carry user info"));
        }
        let host = url.host().ok_or_else(|| invalid("it has no host"))?;
        let loopback = match &host {
            Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
            Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(OvhError::config(
                    format!(
                        "refusing plain http endpoint `{input}`: credentials and signatures would cross the network unencrypted"
                    ),
                    "use https://, or a loopback host (127.0.0.1, ::1, localhost) for a local sandbox"
                        .to_owned(),
                ))
            }
            other => return Err(invalid(&format!("scheme `{other}` is not http or https"))),
        }
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", host_str(&host)),
            None => host_str(&host),
        };
        let origin = format!("{}://{authority}", url.scheme());
        let path = url.path().trim_end_matches('/');
        Ok(Endpoint {
            name: None,
            base: format!("{origin}{path}"),
            token_url: Some(format!("{origin}/auth/oauth2/token")),
            loopback,
        })
    }

    /// Canonical names of the known regions, in table order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMED.iter().map(|n| n.name)
    }

    /// The canonical region name, or `None` for a URL endpoint.
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// The base URL, without trailing slash (`https://eu.api.ovh.com/1.0`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Whether the host is loopback (a local sandbox).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The OAuth2 token URL: the region's, or `{scheme}://{host:port}/auth/oauth2/token` for a
    /// URL endpoint. `None` for regions without OAuth2 (kimsufi, soyoustart).
    pub fn oauth2_token_url(&self) -> Option<&str> {
        self.token_url.as_deref()
    }

    /// The full request URL for an API path (which starts with `/` and may carry a query),
    /// normalised as it will be sent.
    /// Paths starting `/v1` or `/v2` drop the base's trailing `/1.0`, as the official
    /// clients do (`/v1` is an alias of `/1.0`; `/v2` is the newer API).
    pub fn url_for(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'), "api paths start with /: {path}");
        let versioned = ["/v1", "/v2"].iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        });
        let url = match self.base.strip_suffix("/1.0") {
            Some(root) if versioned => format!("{root}{path}"),
            _ => format!("{}{path}", self.base),
        };
        // Sign what goes on the wire: the HTTP stack percent-encodes characters such as `"`
        // or spaces, and the server checks the signature against the URL it received.
        match url::Url::parse(&url) {
            Ok(parsed) => parsed.to_string(),
            Err(_) => url,
        }
    }
}

fn host_str(host: &Host<&str>) -> String {
    match host {
        Host::Domain(d) => d.to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => format!("[{ip}]"),
    }
}

impl FromStr for Endpoint {
    type Err = OvhError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => f.write_str(name),
            None => f.write_str(&self.base),
        }
    }
}

/// `text` made safe as one path segment (or query value): anything outside
/// `A-Z a-z 0-9 - . _ ~ @ :` is percent-encoded, so an id or name can never add a path part or
/// a query. The one encoder every caller that builds an API path uses.
///
/// `.` and `..` would climb the path (`/cloud/project/../database` is `/cloud/database`), and
/// so would `%2E` and `%2E%2E`: URL parsers read them as dot segments too. So a dot segment is
/// sent as `%252E` (`%252E%252E`), which reaches the API as the literal text `%2E` and names
/// nothing. Validation refuses such names first; this is defence in depth.
pub fn path_segment(text: &str) -> std::borrow::Cow<'_, str> {
    match text {
        "." => return std::borrow::Cow::Borrowed("%252E"),
        ".." => return std::borrow::Cow::Borrowed("%252E%252E"),
        _ => {}
    }
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~@:".contains(&b);
    if text.bytes().all(keep) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_endpoints_and_aliases() {
        let cases = [
            (
                "ovh-eu",
                "ovh-eu",
                "https://eu.api.ovh.com/1.0",
                Some("https://www.ovh.com/auth/oauth2/token"),
            ),
            (
                "ovh-ca",
                "ovh-ca",
                "https://ca.api.ovh.com/1.0",
                Some("https://ca.ovh.com/auth/oauth2/token"),
            ),
            (
                "ovh-us",
                "ovh-us",
                "https://api.us.ovhcloud.com/1.0",
                Some("https://us.ovhcloud.com/auth/oauth2/token"),
            ),
            (
                "ks-eu",
                "kimsufi-eu",
                "https://eu.api.kimsufi.com/1.0",
                None,
            ),
            (
                "kimsufi-ca",
                "kimsufi-ca",
                "https://ca.api.kimsufi.com/1.0",
                None,
            ),
            (
                "sys-eu",
                "soyoustart-eu",
                "https://eu.api.soyoustart.com/1.0",
                None,
            ),
            (
                "soyoustart-ca",
                "soyoustart-ca",
                "https://ca.api.soyoustart.com/1.0",
                None,
            ),
        ];
        for (input, name, base, token) in cases {
            let e = Endpoint::parse(input).unwrap();
            assert_eq!(e.name(), Some(name), "{input}");
            assert_eq!(e.base_url(), base, "{input}");
            assert_eq!(e.oauth2_token_url(), token, "{input}");
            assert_eq!(e.to_string(), name);
        }
    }

    #[test]
    fn url_endpoints_strip_the_trailing_slash_and_derive_the_token_url() {
        let cases = [
            (
                "http://127.0.0.1:8080/1.0/",
                "http://127.0.0.1:8080/1.0",
                "http://127.0.0.1:8080/auth/oauth2/token",
            ),
            (
                "http://localhost:9/1.0",
                "http://localhost:9/1.0",
                "http://localhost:9/auth/oauth2/token",
            ),
            (
                "http://[::1]:8443/1.0",
                "http://[::1]:8443/1.0",
                "http://[::1]:8443/auth/oauth2/token",
            ),
            (
                "http://127.8.9.10/1.0",
                "http://127.8.9.10/1.0",
                "http://127.8.9.10/auth/oauth2/token",
            ),
            (
                "https://Sandbox.Example.com:8443/1.0",
                "https://sandbox.example.com:8443/1.0",
                "https://sandbox.example.com:8443/auth/oauth2/token",
            ),
            (
                "https://eu.api.ovh.com",
                "https://eu.api.ovh.com",
                "https://eu.api.ovh.com/auth/oauth2/token",
            ),
        ];
        for (input, base, token) in cases {
            let e = Endpoint::parse(input).unwrap();
            assert_eq!(e.base_url(), base, "{input}");
            assert_eq!(e.oauth2_token_url(), Some(token), "{input}");
            assert_eq!(e.name(), None);
        }
        assert!(Endpoint::parse("http://127.0.0.1:1/1.0")
            .unwrap()
            .is_loopback());
        assert!(!Endpoint::parse("https://eu.api.ovh.com/1.0")
            .unwrap()
            .is_loopback());
    }

    #[test]
    fn plain_http_is_refused_off_loopback_with_a_way_out() {
        for input in [
            "http://eu.api.ovh.com/1.0",
            "http://10.0.0.1:8080/1.0",
            "http://192.168.1.2/1.0",
            "http://[2001:db8::1]/1.0",
            "http://localhost.example.com/1.0",
            "http://128.0.0.1/1.0",
        ] {
            let err = Endpoint::parse(input).unwrap_err().to_string();
            assert!(
                err.starts_with("refusing plain http endpoint"),
                "{input}: {err}"
            );
            assert!(
                err.contains("use https://, or a loopback host"),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn garbage_is_refused_with_the_known_names() {
        let err = Endpoint::parse("ovh-mars").unwrap_err().to_string();
        assert!(err.starts_with("unknown endpoint `ovh-mars`"), "{err}");
        assert!(err.contains("ovh-eu, ovh-ca, ovh-us"), "{err}");
        for bad in [
            "ftp://127.0.0.1/1.0",
            "https://h/1.0?x=1",
            "https://u:p@h/1.0",
            "https://",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_for_joins_and_strips_1_0_for_versioned_paths() {
        let eu = Endpoint::parse("ovh-eu").unwrap();
        let cases = [
            ("/me", "https://eu.api.ovh.com/1.0/me"),
            ("/auth/time", "https://eu.api.ovh.com/1.0/auth/time"),
            (
                "/cloud/project?x=1",
                "https://eu.api.ovh.com/1.0/cloud/project?x=1",
            ),
            (
                "/v1/cloud/project",
                "https://eu.api.ovh.com/v1/cloud/project",
            ),
            ("/v2/iam/resource", "https://eu.api.ovh.com/v2/iam/resource"),
            ("/v2?x=1", "https://eu.api.ovh.com/v2?x=1"),
            ("/vps", "https://eu.api.ovh.com/1.0/vps"),
            ("/v10/x", "https://eu.api.ovh.com/1.0/v10/x"),
        ];
        for (path, url) in cases {
            assert_eq!(eu.url_for(path), url, "{path}");
        }
        let root = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(root.url_for("/v1/me"), "http://127.0.0.1:8080/v1/me");
    }

    /// Regression: a path with a `"` was signed raw but sent percent-encoded, so the server
    /// refused the signature.
    #[test]
    fn url_for_is_what_goes_on_the_wire() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/1.0").unwrap();
        assert_eq!(
            endpoint.url_for("/stackMysql/\"a b\"/status?x=1 2"),
            "http://127.0.0.1:8080/1.0/stackMysql/%22a%20b%22/status?x=1%202"
        );
        assert_eq!(
            endpoint.url_for("/x/1.2.3.4%2F32"),
            "http://127.0.0.1:8080/1.0/x/1.2.3.4%2F32"
        );
    }

    #[test]
    fn path_segments_cannot_add_path_parts_or_queries() {
        assert_eq!(
            path_segment("h1.cluster021.hosting.ovh.net"),
            "h1.cluster021.hosting.ovh.net"
        );
        assert_eq!(path_segment("1.2.3.4/32"), "1.2.3.4%2F32");
        assert_eq!(path_segment("a?b#c d"), "a%3Fb%23c%20d");
        assert_eq!(path_segment("a/b?c=d#e f"), "a%2Fb%3Fc%3Dd%23e%20f");
    }

    /// `project: ".."` sent `POST /1.0/cloud/database/mongodb`: a dot segment climbed a level.
    #[test]
    fn dot_segments_cannot_climb_the_path() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/1.0").unwrap();
        for (name, sent) in [("..", "%252E%252E"), (".", "%252E")] {
            let path = format!("/cloud/project/{}/database/mongodb", path_segment(name));
            assert_eq!(
                endpoint.url_for(&path),
                format!("http://127.0.0.1:8080/1.0/cloud/project/{sent}/database/mongodb")
            );
        }
        assert_eq!(path_segment("..."), "...");
        assert_eq!(path_segment(".hidden"), ".hidden");
    }
}
