//! `reconcile validate` on manifest sets written to temporary directories: one test per class
//! of problem, each pinning the file:line:column, the field, the message and the hint as the
//! user sees them (rendered without colour, since stderr is not a terminal here). Also: the
//! example set in manifests/ is valid, validation never opens a connection, and
//! `reconcile schema` prints the JSON Schema.

use assert_cmd::Command;
use std::path::Path;

fn reconcile() -> Command {
    Command::cargo_bin("reconcile").unwrap()
}

/// What one run printed.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A directory holding `manifests/` with the given files (paths relative to `manifests/`).
struct Set {
    dir: tempfile::TempDir,
}

impl Set {
    fn new(files: &[(&str, &str)]) -> Set {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("manifests").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Set { dir }
    }

    /// `reconcile validate manifests` from the set's directory, with exactly `env` set.
    fn validate(&self, env: &[(&str, &str)]) -> Outcome {
        run(self.dir.path(), &["validate", "manifests"], env)
    }
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let out = reconcile()
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The problems of an invalid set: exit 1, nothing on stdout, the rendered problems on stderr.
fn problems(set: &Set, env: &[(&str, &str)]) -> String {
    let outcome = set.validate(env);
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, "");
    assert!(
        !outcome.stderr.contains('\u{1b}'),
        "no colour off a terminal"
    );
    outcome.stderr
}

pub(crate) const SERVICE: &str = "\
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: orders-db
spec:
  project: p1
  engine: mongodb
  version: \"7.0\"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
";

#[test]
fn an_unknown_field_suggests_the_closest_one() {
    let set = Set::new(&[(
        "orders.yaml",
        &format!("{SERVICE}  ipRestriction:\n    - ip: 203.0.113.0/24\n  maintenancetime: \"03:00:00\"\n"),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × unknown field `ipRestriction`
        ╭─[manifests/orders.yaml:11:3]
     10 │   nodes: { flavor: db2-4, region: GRA, count: 3 }
     11 │   ipRestriction:
        ·   ──────┬──────
        ·         ╰── spec.ipRestriction
     12 │     - ip: 203.0.113.0/24
        ╰────
      help: did you mean `ipRestrictions`?

      × unknown field `maintenancetime`
        ╭─[manifests/orders.yaml:13:3]
     12 │     - ip: 203.0.113.0/24
     13 │   maintenancetime: "03:00:00"
        ·   ───────┬───────
        ·          ╰── spec.maintenancetime
        ╰────
      help: did you mean `maintenanceTime`?

    error: 2 problems in 1 file
    "#);
}

#[test]
fn a_wrong_type_is_reported_at_the_value() {
    let set = Set::new(&[(
        "orders.yaml",
        &SERVICE.replace("count: 3", "count: \"3\"").replace("plan: production", "plan: production\n  storage: lots\n  deletionProtection: yes\n  ipRestrictions: { ip: 10.0.0.0/8 }"),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × expected an integer, found a string
        ╭─[manifests/orders.yaml:10:12]
      9 │   plan: production
     10 │   storage: lots
        ·            ──┬─
        ·              ╰── spec.storage
     11 │   deletionProtection: yes
        ╰────

      × expected true or false, found a string
        ╭─[manifests/orders.yaml:11:23]
     10 │   storage: lots
     11 │   deletionProtection: yes
        ·                       ─┬─
        ·                        ╰── spec.deletionProtection
     12 │   ipRestrictions: { ip: 10.0.0.0/8 }
        ╰────
      help: write `true` or `false`

      × expected a list, found a map
        ╭─[manifests/orders.yaml:12:19]
     11 │   deletionProtection: yes
     12 │   ipRestrictions: { ip: 10.0.0.0/8 }
        ·                   ▲
        ·                   ╰── spec.ipRestrictions
     13 │   nodes: { flavor: db2-4, region: GRA, count: "3" }
        ╰────

      × expected an integer, found a string
        ╭─[manifests/orders.yaml:13:47]
     12 │   ipRestrictions: { ip: 10.0.0.0/8 }
     13 │   nodes: { flavor: db2-4, region: GRA, count: "3" }
        ·                                               ─┬─
        ·                                                ╰── spec.nodes.count
        ╰────
      help: remove the quotes: `3`

    error: 4 problems in 1 file
    "#);
}

#[test]
fn a_missing_field_is_reported_at_the_map_that_lacks_it() {
    let set = Set::new(&[(
        "orders.yaml",
        &SERVICE
            .replace("region: GRA, ", "")
            .replace("  engine: mongodb\n", ""),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × missing field `engine`
       ╭─[manifests/orders.yaml:5:1]
     4 │   name: orders-db
     5 │ spec:
       · ──┬─
       ·   ╰── spec.engine
     6 │   project: p1
       ╰────
      help: add `engine:` (Engine: mongodb, postgresql, mysql, redis, valkey, kafka, opensearch, ... Changing it replaces)

      × missing field `region`
       ╭─[manifests/orders.yaml:9:3]
     8 │   plan: production
     9 │   nodes: { flavor: db2-4, count: 3 }
       ·   ──┬──
       ·     ╰── spec.nodes.region
       ╰────
      help: add `region:` (Region, e.g. GRA. Changing it replaces)

    error: 2 problems in 1 file
    "#);
}

#[test]
fn the_envelope_api_version_kind_and_metadata() {
    let set = Set::new(&[(
        "all.yaml",
        "apiVersion: reconcile/v2\nkind: DatabaseServce\nmetadata: { name: a }\nspec: {}\n---\nkind: DatabaseUser\nmetdata: { name: b }\nspec: { service: a, username: b }\n",
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × unsupported apiVersion `reconcile/v2`
       ╭─[manifests/all.yaml:1:13]
     1 │ apiVersion: reconcile/v2
       ·             ──────┬─────
       ·                   ╰── apiVersion
     2 │ kind: DatabaseServce
       ╰────
      help: write `apiVersion: reconcile/v1`

      × unknown kind `DatabaseServce`
       ╭─[manifests/all.yaml:2:7]
     1 │ apiVersion: reconcile/v2
     2 │ kind: DatabaseServce
       ·       ───────┬──────
       ·              ╰── kind
     3 │ metadata: { name: a }
       ╰────
      help: did you mean `DatabaseService`?

      × missing field `apiVersion`
       ╭─[manifests/all.yaml:6:1]
     5 │ ---
     6 │ kind: DatabaseUser
       · ▲
       · ╰── apiVersion
     7 │ metdata: { name: b }
       ╰────
      help: add `apiVersion: reconcile/v1`

      × missing field `metadata`
       ╭─[manifests/all.yaml:6:1]
     5 │ ---
     6 │ kind: DatabaseUser
       · ▲
       · ╰── metadata
     7 │ metdata: { name: b }
       ╰────
      help: add `metadata: { name: ... }`

      × unknown field `metdata`
       ╭─[manifests/all.yaml:7:1]
     6 │ kind: DatabaseUser
     7 │ metdata: { name: b }
       · ───┬───
       ·    ╰── metdata
     8 │ spec: { service: a, username: b }
       ╰────
      help: did you mean `metadata`?

    error: 5 problems in 1 file
    "#);
}

#[test]
fn names_are_dns_labels() {
    let set = Set::new(&[(
        "orders.yaml",
        &SERVICE.replace("name: orders-db", "name: Orders_DB"),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × `Orders_DB` is not a valid name
       ╭─[manifests/orders.yaml:4:9]
     3 │ metadata:
     4 │   name: Orders_DB
       ·         ────┬────
       ·             ╰── metadata.name
     5 │ spec:
       ╰────
      help: names are lower-case letters, digits and `-`, starting and ending with a letter or digit: `orders-db`?

    error: 1 problem in 1 file
    "#);
}

#[test]
fn a_duplicate_name_names_both_places() {
    // The same name under another kind is fine: names are unique per kind.
    let user = "apiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: orders-db }\nspec: { service: orders-db, username: app }\n";
    let set = Set::new(&[
        ("a/orders.yaml", SERVICE),
        ("b/orders-again.yaml", &format!("{user}---\n{SERVICE}")),
    ]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × duplicate name: `DatabaseService/orders-db` is already defined
        ╭─[manifests/b/orders-again.yaml:9:9]
      8 │ metadata:
      9 │   name: orders-db
        ·         ────┬────
        ·             ╰── metadata.name
     10 │ spec:
        ╰────
      help: first defined at manifests/a/orders.yaml:4:9; names are unique per kind, rename one of them

    error: 1 problem in 1 file
    "#);
}

#[test]
fn a_missing_environment_variable_is_reported_at_its_scalar() {
    let set = Set::new(&[(
        "orders.yaml",
        &SERVICE
            .replace("project: p1", "project: ${OVH_CLOUD_PROJECT}")
            .replace("region: GRA", "region: \"${REGION:-GRA}\"")
            .replace("flavor: db2-4", "flavor: \"db2-${SIZE}\""),
    )]);
    insta::assert_snapshot!(problems(&set, &[("SIZE", "4")]), @r#"
      × environment variable `OVH_CLOUD_PROJECT` is not set
       ╭─[manifests/orders.yaml:6:12]
     5 │ spec:
     6 │   project: ${OVH_CLOUD_PROJECT}
       ·            ──────────┬─────────
       ·                      ╰── spec.project
     7 │   engine: mongodb
       ╰────
      help: set it (`export OVH_CLOUD_PROJECT=...`), give a default with `${OVH_CLOUD_PROJECT:-value}`, or write `$${` for a literal `${`

    error: 1 problem in 1 file
    "#);
}

#[test]
fn interpolation_defaults_and_escapes_make_a_valid_set() {
    let set = Set::new(&[
        ("reconcile.yaml", "project: ${OVH_CLOUD_PROJECT:-demo-project}\n"),
        (
            "orders.yaml",
            &SERVICE
                .replace("  project: p1\n", "")
                .replace("plan: production", "plan: production\n  ipRestrictions:\n    - { ip: 10.0.0.0/8, description: \"costs $${HOME} and $5\" }"),
        ),
    ]);
    let outcome = set.validate(&[]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stderr, "1 resource valid\n");
    assert_eq!(outcome.stdout, "");
}

#[test]
fn ip_restrictions_bad_blocks_host_bits_and_duplicates() {
    let set = Set::new(&[(
        "orders.yaml",
        &format!(
            "{SERVICE}  ipRestrictions:\n    - {{ ip: 203.0.113.0/24, description: office }}\n    - {{ ip: 10.0.0.1/8 }}\n    - {{ ip: 10.0.0.0/33 }}\n    - {{ ip: not-an-ip }}\n    - {{ ip: 198.51.100.7 }}\n    - {{ ip: 198.51.100.7/32 }}\n    - {{ ip: \"2001:db8::/32\" }}\n    - {{ ip: \"2001:DB8::/32\" }}\n"
        ),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × `10.0.0.1/8` has host bits set
        ╭─[manifests/orders.yaml:13:13]
     12 │     - { ip: 203.0.113.0/24, description: office }
     13 │     - { ip: 10.0.0.1/8 }
        ·             ─────┬────
        ·                  ╰── spec.ipRestrictions[1].ip
     14 │     - { ip: 10.0.0.0/33 }
        ╰────
      help: write the block `10.0.0.0/8`, or `10.0.0.1/32` for the one address

      × `10.0.0.0/33` has a bad prefix length `/33`
        ╭─[manifests/orders.yaml:14:13]
     13 │     - { ip: 10.0.0.1/8 }
     14 │     - { ip: 10.0.0.0/33 }
        ·             ─────┬─────
        ·                  ╰── spec.ipRestrictions[2].ip
     15 │     - { ip: not-an-ip }
        ╰────
      help: the prefix length of an IPv4 block is 0 to 32

      × `not-an-ip` is not an IP address or CIDR block
        ╭─[manifests/orders.yaml:15:13]
     14 │     - { ip: 10.0.0.0/33 }
     15 │     - { ip: not-an-ip }
        ·             ────┬────
        ·                 ╰── spec.ipRestrictions[3].ip
     16 │     - { ip: 198.51.100.7 }
        ╰────
      help: write an IPv4 or IPv6 address or block, e.g. `203.0.113.0/24` or `2001:db8::/32`

      × `198.51.100.7/32` is listed twice
        ╭─[manifests/orders.yaml:17:13]
     16 │     - { ip: 198.51.100.7 }
     17 │     - { ip: 198.51.100.7/32 }
        ·             ───────┬───────
        ·                    ╰── spec.ipRestrictions[5].ip
     18 │     - { ip: "2001:db8::/32" }
        ╰────
      help: also at spec.ipRestrictions[4] (line 16); remove one of them

      × `2001:db8::/32` is listed twice
        ╭─[manifests/orders.yaml:19:13]
     18 │     - { ip: "2001:db8::/32" }
     19 │     - { ip: "2001:DB8::/32" }
        ·             ───────┬───────
        ·                    ╰── spec.ipRestrictions[7].ip
        ╰────
      help: also at spec.ipRestrictions[6] (line 18); remove one of them

    error: 5 problems in 1 file
    "#);
}

#[test]
fn a_maintenance_time_is_hh_mm_ss() {
    let set = Set::new(&[(
        "orders.yaml",
        &format!("{SERVICE}  maintenanceTime: \"3:00\"\n"),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × `3:00` is not a time of day
        ╭─[manifests/orders.yaml:11:20]
     10 │   nodes: { flavor: db2-4, region: GRA, count: 3 }
     11 │   maintenanceTime: "3:00"
        ·                    ───┬──
        ·                       ╰── spec.maintenanceTime
        ╰────
      help: write HH:MM:SS, e.g. "03:00:00"

    error: 1 problem in 1 file
    "#);
}

#[test]
fn zero_nodes_and_zero_storage_are_refused() {
    let set = Set::new(&[(
        "orders.yaml",
        &format!("{}  storage: 0\n", SERVICE.replace("count: 3", "count: 0")),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × must be at least 1, found 0
        ╭─[manifests/orders.yaml:10:47]
      9 │   plan: production
     10 │   nodes: { flavor: db2-4, region: GRA, count: 0 }
        ·                                               ┬
        ·                                               ╰── spec.nodes.count
     11 │   storage: 0
        ╰────

      × must be at least 1, found 0
        ╭─[manifests/orders.yaml:11:12]
     10 │   nodes: { flavor: db2-4, region: GRA, count: 0 }
     11 │   storage: 0
        ·            ┬
        ·            ╰── spec.storage
        ╰────

    error: 2 problems in 1 file
    "#);
}

#[test]
fn a_dangling_reference_suggests_the_existing_names() {
    let users = "apiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: app }\nspec: { service: order-db, username: app }\n---\napiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: billing }\nspec: { service: billing-db, username: billing }\n";
    let set = Set::new(&[("orders.yaml", SERVICE), ("users.yaml", users)]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × no DatabaseService is named `order-db`
       ╭─[manifests/users.yaml:4:18]
     3 │ metadata: { name: app }
     4 │ spec: { service: order-db, username: app }
       ·                  ────┬───
       ·                      ╰── spec.service
     5 │ ---
       ╰────
      help: did you mean `orders-db`?

      × no DatabaseService is named `billing-db`
       ╭─[manifests/users.yaml:9:18]
     8 │ metadata: { name: billing }
     9 │ spec: { service: billing-db, username: billing }
       ·                  ─────┬────
       ·                       ╰── spec.service
       ╰────
      help: DatabaseService names here: `orders-db`

    error: 2 problems in 1 file
    "#);
}

const HOSTING_DB: &str = "\
apiVersion: reconcile/v1
kind: HostingDatabase
metadata: { name: shop-db }
spec:
  hosting: demo.cluster021.hosting.ovh.net
  capability: sqlPerso
  type: mysql
  user: demoshop
";

#[test]
fn a_secret_written_inline_is_refused_and_never_printed() {
    let set = Set::new(&[(
        "shop.yaml",
        &format!(
            "{HOSTING_DB}  password: \"hunter2-Secret\"\n  apiToken: tok-123456\n---\n{}",
            HOSTING_DB
                .replace("shop-db", "shop-db2")
                .replace("demoshop", "demoshop2")
                + "  password: ${SHOP_DB_PASSWORD}\n"
        ),
    )]);
    let stderr = problems(&set, &[("SHOP_DB_PASSWORD", "x")]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("tok-123456"), "{stderr}");
    insta::assert_snapshot!(stderr, @r#"
      × secret written inline
        ╭─[manifests/shop.yaml:9:13]
      8 │   user: demoshop
      9 │   password: ****************
        ·             ────────┬───────
        ·                     ╰── spec.password
     10 │   apiToken: **********
        ╰────
      help: keep it out of the manifest: `password: { fromEnv: NAME }` (an environment variable) or `password: { fromFile: path }` (a file, relative to this manifest)

      × secret written inline
        ╭─[manifests/shop.yaml:10:13]
      9 │   password: ****************
     10 │   apiToken: **********
        ·             ─────┬────
        ·                  ╰── spec.apiToken
     11 │ ---
        ╰────
      help: keep it out of the manifest: `apiToken: { fromEnv: NAME }` (an environment variable) or `apiToken: { fromFile: path }` (a file, relative to this manifest)

      × secret written inline
        ╭─[manifests/shop.yaml:20:13]
     19 │   user: demoshop2
     20 │   password: ${SHOP_DB_PASSWORD}
        ·             ─────────┬─────────
        ·                      ╰── spec.password
        ╰────
      help: write `password: { fromEnv: SHOP_DB_PASSWORD }`: a secret is read when it is needed, never interpolated into a manifest

    error: 3 problems in 1 file
    "#);
}

#[test]
fn a_secret_reference_has_exactly_one_source() {
    let set =
        Set::new(&[(
            "shop.yaml",
            &format!(
            "{HOSTING_DB}  password: {{ fromEnv: A, fromFile: a.txt }}\n---\n{}  password: {{}}\n",
            HOSTING_DB.replace("shop-db", "shop-db2").replace("demoshop", "demoshop2")
        ),
        )]);
    insta::assert_snapshot!(problems(&set, &[("A", "x")]), @r#"
      × a secret comes from `fromEnv` or `fromFile`, not both
        ╭─[manifests/shop.yaml:9:3]
      8 │   user: demoshop
      9 │   password: { fromEnv: A, fromFile: a.txt }
        ·   ────┬───
        ·       ╰── spec.password
     10 │ ---
        ╰────
      help: keep one of them

      × a secret reference needs `fromEnv` or `fromFile`
        ╭─[manifests/shop.yaml:19:3]
     18 │   user: demoshop2
     19 │   password: {}
        ·   ────┬───
        ·       ╰── spec.password
        ╰────
      help: `password: { fromEnv: NAME }` or `password: { fromFile: path }`

    error: 2 problems in 1 file
    "#);
}

#[test]
fn a_secret_from_the_environment_must_be_set() {
    let set = Set::new(&[(
        "shop.yaml",
        &format!("{HOSTING_DB}  password: {{ fromEnv: SHOP_DB_PASSWORD }}\n"),
    )]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × environment variable `SHOP_DB_PASSWORD` is not set
       ╭─[manifests/shop.yaml:9:24]
     8 │   user: demoshop
     9 │   password: { fromEnv: SHOP_DB_PASSWORD }
       ·                        ────────┬───────
       ·                                ╰── spec.password.fromEnv
       ╰────
      help: export SHOP_DB_PASSWORD before running reconcile; the secret itself never goes in a manifest

    error: 1 problem in 1 file
    "#);
    let outcome = set.validate(&[("SHOP_DB_PASSWORD", "Sandbox2024")]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
}

#[test]
fn a_secret_file_is_relative_to_its_manifest_and_must_exist() {
    let set = Set::new(&[
        (
            "hosting/shop.yaml",
            &format!("{HOSTING_DB}  password: {{ fromFile: secrets/shop-db.password }}\n"),
        ),
        ("hosting/secret/shop-db.password", "Sandbox2024"),
    ]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × secret file `secrets/shop-db.password` does not exist
       ╭─[manifests/hosting/shop.yaml:9:25]
     8 │   user: demoshop
     9 │   password: { fromFile: secrets/shop-db.password }
       ·                         ────────────┬───────────
       ·                                     ╰── spec.password.fromFile
       ╰────
      help: `fromFile` is relative to the manifest's directory: looked for `manifests/hosting/secrets/shop-db.password`

    error: 1 problem in 1 file
    "#);
    std::fs::create_dir_all(set.dir.path().join("manifests/hosting/secrets")).unwrap();
    std::fs::write(
        set.dir
            .path()
            .join("manifests/hosting/secrets/shop-db.password"),
        "Sandbox2024",
    )
    .unwrap();
    let outcome = set.validate(&[]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
}

#[test]
fn a_custom_certificate_needs_its_key() {
    let ssl = "apiVersion: reconcile/v1\nkind: HostingSsl\nmetadata: { name: shop-ssl }\nspec:\n  hosting: demo.cluster021.hosting.ovh.net\n  certificate: { fromFile: shop.pem }\n";
    let set = Set::new(&[
        ("shop.yaml", ssl),
        ("shop.pem", "-----BEGIN CERTIFICATE-----\n"),
    ]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × a custom `certificate` needs its `key`
       ╭─[manifests/shop.yaml:6:3]
     5 │   hosting: demo.cluster021.hosting.ovh.net
     6 │   certificate: { fromFile: shop.pem }
       ·   ─────┬─────
       ·        ╰── spec.certificate
       ╰────
      help: add `key: { fromFile: ... }` with the certificate's private key

    error: 1 problem in 1 file
    "#);
}

#[test]
fn one_ssl_certificate_per_hosting() {
    // The second takes its hosting from reconcile.yaml: the same one.
    let ssl = "apiVersion: reconcile/v1\nkind: HostingSsl\nmetadata: { name: shop-ssl }\nspec: { hosting: demo.cluster021.hosting.ovh.net }\n---\napiVersion: reconcile/v1\nkind: HostingSsl\nmetadata: { name: shop-ssl-again }\nspec: {}\n";
    let set = Set::new(&[
        (
            "reconcile.yaml",
            "hosting: demo.cluster021.hosting.ovh.net\n",
        ),
        ("ssl.yaml", ssl),
    ]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × the SSL certificate of hosting `demo.cluster021.hosting.ovh.net` is already managed
       ╭─[manifests/ssl.yaml:9:1]
     8 │ metadata: { name: shop-ssl-again }
     9 │ spec: {}
       · ──┬─
       ·   ╰── spec.hosting
       ╰────
      help: HostingSsl/shop-ssl manages it already (manifests/ssl.yaml:4:18); one live object, one manifest

    error: 1 problem in 1 file
    "#);
}

#[test]
fn project_and_hosting_come_from_the_spec_or_reconcile_yaml() {
    let domain = "apiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www }\nspec: { domain: www.shop.example, path: www }\n";
    let set = Set::new(&[
        ("orders.yaml", &SERVICE.replace("  project: p1\n", "")),
        ("shop.yaml", domain),
    ]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × no Public Cloud project: `project` is not set
       ╭─[manifests/orders.yaml:5:1]
     4 │   name: orders-db
     5 │ spec:
       · ──┬─
       ·   ╰── spec.project
     6 │   engine: mongodb
       ╰────
      help: set `project:` in this spec, or `project:` in reconcile.yaml at the root of the manifests

      × no Web Hosting service: `hosting` is not set
       ╭─[manifests/shop.yaml:4:1]
     3 │ metadata: { name: shop-www }
     4 │ spec: { domain: www.shop.example, path: www }
       · ──┬─
       ·   ╰── spec.hosting
       ╰────
      help: set `hosting:` in this spec, or `hosting:` in reconcile.yaml at the root of the manifests

    error: 2 problems in 2 files
    "#);

    std::fs::write(
        set.dir.path().join("manifests/reconcile.yaml"),
        "project: p1\nhosting: demo.cluster021.hosting.ovh.net\n",
    )
    .unwrap();
    let outcome = set.validate(&[]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stderr, "2 resources valid\n");
}

#[test]
fn a_mongodb_user_with_and_without_admin_is_one_user() {
    let users = "apiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: app }\nspec: { service: orders-db, username: app }\n---\napiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: app-admin }\nspec: { service: orders-db, username: app@admin }\n";
    let set = Set::new(&[("orders.yaml", SERVICE), ("users.yaml", users)]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × user `app@admin` of DatabaseService/orders-db is already managed
       ╭─[manifests/users.yaml:9:39]
     8 │ metadata: { name: app-admin }
     9 │ spec: { service: orders-db, username: app@admin }
       ·                                       ────┬────
       ·                                           ╰── spec.username
       ╰────
      help: DatabaseUser/app manages it already (manifests/users.yaml:4:39); one live object, one manifest; mongodb users live in `admin`: `app` and `app@admin` are the same user

    error: 1 problem in 1 file
    "#);
}

#[test]
fn a_domain_attached_twice_to_one_hosting() {
    let domains = "apiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www }\nspec: { hosting: h1, domain: www.shop.example, path: www }\n---\napiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www2 }\nspec: { hosting: h1, domain: WWW.shop.example., path: www2 }\n---\napiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: other-www }\nspec: { hosting: h2, domain: www.shop.example, path: www }\n";
    let set = Set::new(&[("domains.yaml", domains)]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × domain `WWW.shop.example.` of hosting `h1` is already managed
        ╭─[manifests/domains.yaml:9:30]
      8 │ metadata: { name: shop-www2 }
      9 │ spec: { hosting: h1, domain: WWW.shop.example., path: www2 }
        ·                              ────────┬────────
        ·                                      ╰── spec.domain
     10 │ ---
        ╰────
      help: HostingAttachedDomain/shop-www manages it already (manifests/domains.yaml:4:30); one live object, one manifest

    error: 1 problem in 1 file
    "#);
}

#[test]
fn a_pinned_stack_claimed_twice() {
    let stacks = "apiVersion: reconcile/v1\nkind: ManagedStackMysql\nmetadata: { name: shop }\nspec: { id: 1001 }\n---\napiVersion: reconcile/v1\nkind: ManagedStackMysql\nmetadata: { name: blog }\nspec: { id: 1001, nodes: 1 }\n";
    let set = Set::new(&[("stacks.yaml", stacks)]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × stack `1001` is already managed
       ╭─[manifests/stacks.yaml:9:13]
     8 │ metadata: { name: blog }
     9 │ spec: { id: 1001, nodes: 1 }
       ·             ──┬─
       ·               ╰── spec.id
       ╰────
      help: ManagedStackMysql/shop manages it already (manifests/stacks.yaml:4:13); one live object, one manifest

      × must be at least 2, found 1
       ╭─[manifests/stacks.yaml:9:26]
     8 │ metadata: { name: blog }
     9 │ spec: { id: 1001, nodes: 1 }
       ·                          ┬
       ·                          ╰── spec.nodes
       ╰────

    error: 2 problems in 1 file
    "#);
}

#[test]
fn a_syntax_error_does_not_hide_the_other_documents() {
    let text = format!(
        "{SERVICE}  storage: [40\n---\n{}---\nplan: a\nplan: b\n",
        SERVICE
            .replace("orders-db", "billing-db")
            .replace("mongodb", "postgresql")
            .replace("project: p1", "project: p1\n  projet: p2")
    );
    let set = Set::new(&[("orders.yaml", &text)]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × invalid YAML: unclosed bracket '['
        ╭─[manifests/orders.yaml:11:12]
     10 │   nodes: { flavor: db2-4, region: GRA, count: 3 }
     11 │   storage: [40
        ·            ▲
     12 │ ---
        ╰────

      × unknown field `projet`
        ╭─[manifests/orders.yaml:19:3]
     18 │   project: p1
     19 │   projet: p2
        ·   ───┬──
        ·      ╰── spec.projet
     20 │   engine: postgresql
        ╰────
      help: did you mean `project`?

      × not a manifest: this document has no `apiVersion` and no `kind`
        ╭─[manifests/orders.yaml:25:1]
     24 │ ---
     25 │ plan: a
        · ▲
     26 │ plan: b
        ╰────
      help: start each document with `apiVersion: reconcile/v1` and `kind: ...`; keep other YAML files out of the manifest directory

      × duplicate key `plan`
        ╭─[manifests/orders.yaml:26:1]
     25 │ plan: a
     26 │ plan: b
        · ──┬─
        ·   ╰── plan
        ╰────
      help: `plan` is already set at line 25; keep one of them

    error: 4 problems in 1 file
    "#);
}

#[test]
fn every_problem_of_every_file_in_one_run() {
    let set = Set::new(&[
        ("a.yaml", &SERVICE.replace("count: 3", "count: 0")),
        (
            "b/b.yaml",
            &SERVICE
                .replace("orders-db", "b-db")
                .replace("engine:", "engin:"),
        ),
        (
            "b/c/c.yml",
            &SERVICE.replace("orders-db", "c-db").replace(
                "plan: production",
                "plan: production\n  maintenanceTime: noon",
            ),
        ),
        ("ignored.txt", "not: yaml: at: all"),
        (".hidden/d.yaml", "not a manifest"),
    ]);
    let stderr = problems(&set, &[]);
    let headers: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("╭─["))
        .map(str::trim)
        .collect();
    assert_eq!(
        headers,
        [
            "╭─[manifests/a.yaml:10:47]",
            "╭─[manifests/b/b.yaml:5:1]",
            "╭─[manifests/b/b.yaml:7:3]",
            "╭─[manifests/b/c/c.yml:10:20]",
        ],
        "{stderr}"
    );
    assert!(
        stderr.ends_with("error: 4 problems in 3 files\n"),
        "{stderr}"
    );
}

#[test]
fn a_path_without_manifests_is_an_error() {
    let set = Set::new(&[("notes.txt", "hello")]);
    insta::assert_snapshot!(problems(&set, &[]), @r#"
      × manifests: no manifests found: no *.yaml or *.yml file here
      help: check the path; hidden directories (.git, .reconcile) are not read

    error: 1 problem in 1 file
    "#);
    let outcome = run(set.dir.path(), &["validate", "nowhere"], &[]);
    assert_eq!(outcome.code, 1);
    insta::assert_snapshot!(outcome.stderr, @r#"
      × nowhere: no such file or directory
      help: give a directory of manifests (*.yaml, *.yml) or one manifest file

    error: 1 problem in 1 file
    "#);
}

#[test]
fn the_example_set_is_valid_on_a_fresh_machine() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outcome = run(repo, &["validate", "manifests/"], &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stderr, "8 resources valid\n");
    assert_eq!(outcome.stdout, "");
}

/// Validation is offline: with OVH_ENDPOINT pointing at a listener, a valid and an invalid
/// set both finish without a single connection to it.
#[test]
fn validate_makes_no_network_call() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}/1.0", listener.local_addr().unwrap());
    let env = [
        ("OVH_ENDPOINT", endpoint.as_str()),
        ("OVH_APPLICATION_KEY", "ak"),
        ("OVH_APPLICATION_SECRET", "as"),
        ("OVH_CONSUMER_KEY", "ck"),
    ];
    let valid = Set::new(&[("orders.yaml", SERVICE)]);
    let outcome = valid.validate(&env);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let invalid = Set::new(&[("orders.yaml", &SERVICE.replace("count: 3", "count: 0"))]);
    let outcome = invalid.validate(&env);
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("must be at least 1, found 0"),
        "{}",
        outcome.stderr
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("validate connected to the endpoint: {other:?}"),
    }
    // And a closed port changes nothing either.
    let outcome = valid.validate(&[("OVH_ENDPOINT", "http://127.0.0.1:9/1.0")]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
}

#[test]
fn schema_prints_the_json_schema_of_a_document() {
    let outcome = run(Path::new(env!("CARGO_MANIFEST_DIR")), &["schema"], &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let schema: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let document = &schema["$defs"]["Document"];
    assert_eq!(
        document["required"],
        serde_json::json!(["apiVersion", "kind", "metadata", "spec"])
    );
    let kinds: Vec<&str> = schema["$defs"]["Kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "DatabaseService",
            "DatabaseUser",
            "HostingAttachedDomain",
            "HostingSsl",
            "HostingDatabase",
            "ManagedStackMysql"
        ]
    );
    insta::assert_json_snapshot!(document["allOf"][0], @r##"
    {
      "if": {
        "properties": {
          "kind": {
            "const": "DatabaseService"
          }
        },
        "required": [
          "kind"
        ]
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/DatabaseServiceSpec"
          }
        }
      }
    }
    "##);
    insta::assert_json_snapshot!(schema["$defs"]["IpRestrictionSpec"], @r#"
    {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "ip": {
          "type": "string",
          "description": "An IPv4 or IPv6 block in CIDR form (a bare address means /32 or /128)."
        },
        "description": {
          "type": "string",
          "default": ""
        }
      },
      "required": [
        "ip"
      ]
    }
    "#);
}
