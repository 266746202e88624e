//! Issue 9, "trust": what happens around a run, the real binary against a `sandbox serve`
//! child. Two applies at once (a fresh lookup before each create, the run lock, secrets files
//! keyed by endpoint and object id), passwords never silently lost (intents), a verification
//! that reads what the run changed (an SSL regeneration), and saved plans that belong to one
//! API and one account.

use crate::apply_e2e::{get, sandbox, Census};
use crate::e2e::{api, Workspace, DEFAULTS, WEB};

const SHOP_WWW: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-www }
spec: { domain: www.shop.example, path: www, ssl: true }
---
apiVersion: reconcile/v1
kind: HostingSsl
metadata: { name: shop-ssl }
spec: {}
"#;

const SHOP_APEX: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-apex }
spec: { domain: shop.example, path: www, ssl: true }
"#;

/// Issue 9 item 6: after `POST .../ssl/regenerate`, apply's verification compared the SSL
/// domains with the answer read before the write and exited 1 "did not converge", while a
/// plan right after exited 0.
#[tokio::test]
async fn the_verification_reads_the_ssl_domains_a_regeneration_changed() {
    let sandbox = sandbox(&["--ready-after", "300ms"]);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[("reconcile.yaml", DEFAULTS), ("web/shop.yaml", SHOP_WWW)],
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    // A second domain with ssl: the certificate no longer covers it and is regenerated.
    ws.write("web/apex.yaml", SHOP_APEX);
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert!(
        run.stdout.contains("~ HostingSsl/shop-ssl"),
        "no regeneration planned: {run:?}"
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("did not converge"), "{run:?}");
    ws.assert_in_sync();
    let domains = get(&api(&sandbox.endpoint, 20), &format!("{WEB}/ssl/domains")).await;
    assert_eq!(
        domains,
        serde_json::json!(["shop.example", "www.shop.example"]),
        "{domains}"
    );
    let census = Census::take(&api(&sandbox.endpoint, 20)).await;
    assert_eq!(
        census,
        Census::of(&["domain/shop.example", "domain/www.shop.example"])
    );
}
