//! The OVH API request signature, the one piece of OVH authentication both sides need: the
//! reconciler's client signs with it (`reconcile::ovh::signing`) and the simulator checks with it
//! (`reconcile_sandbox::auth`), so the simulator does not depend on the reconciler.
//!
//! `X-Ovh-Signature = "$1$" + sha1_hex(AS + "+" + CK + "+" + METHOD + "+" + URL + "+" + BODY +
//! "+" + TIMESTAMP)`, lower-case hex, where URL is the full target URL (query included) and BODY
//! the exact bytes sent.

use sha1::{Digest, Sha1};

/// `"$1$" + lowercase sha1 hex` of the signed fields joined by `+`; `method` is upper-cased.
pub fn signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    url: &str,
    body: &[u8],
    timestamp: i64,
) -> String {
    let mut hasher = Sha1::new();
    hasher.update(application_secret.as_bytes());
    hasher.update(b"+");
    hasher.update(consumer_key.as_bytes());
    hasher.update(b"+");
    hasher.update(method.to_ascii_uppercase().as_bytes());
    hasher.update(b"+");
    hasher.update(url.as_bytes());
    hasher.update(b"+");
    hasher.update(body);
    hasher.update(b"+");
    hasher.update(timestamp.to_string().as_bytes());
    let digest = hasher.finalize();
    let mut out = String::with_capacity(3 + 2 * digest.len());
    out.push_str("$1$");
    for byte in digest.iter() {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python-ovh 1.2.0's signature of `GET https://eu.api.ovh.com/1.0/me` (the first of the
    /// vectors pinned in the reconciler's `ovh::signing` tests, which re-check them all).
    #[test]
    fn a_signature_matches_python_ovh() {
        let got = signature(
            "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
            "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
            "GET",
            "https://eu.api.ovh.com/1.0/me",
            b"",
            1700000042,
        );
        assert_eq!(got, "$1$0c5dabc045f4a012804c214272fc7d7914e3d01f");
    }

    #[test]
    fn the_method_is_signed_upper_case() {
        let lower = signature("AS", "CK", "get", "https://x/1.0/me", b"", 1);
        let upper = signature("AS", "CK", "GET", "https://x/1.0/me", b"", 1);
        assert_eq!(lower, upper);
    }
}
