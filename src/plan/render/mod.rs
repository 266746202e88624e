//! Rendering a `Plan`: text (Terraform's vocabulary, colour on a terminal), JSON (the saved
//! plan, `--out`) and Markdown (a pull-request comment). All three carry the same content:
//! every change with its action, changed fields and calls, the unknown scopes, the unmanaged
//! objects, the warnings, the errors and the counts; JSON adds the digests apply needs.
//!
//! The pieces every format shares live here, so the three cannot disagree: the header of a
//! change (`DatabaseService/orders-db will be updated in place`), the lines of a changed field
//! (`~ spec.nodes.flavor: "db2-4" -> "db2-8"`, list entries added and removed) and the
//! summary line (`Plan: 1 to create, 2 to update, 0 to delete.`).

mod json;
mod markdown;
mod text;

pub use json::json;
pub use markdown::markdown;
pub use text::{text, TextOptions};

use super::model::{
    Action, Change, Duplicate, FieldChange, InProgress, Operation, Plan, Unmanaged,
};
use serde_json::Value;

/// What a secret is shown as, in every format.
pub const SENSITIVE: &str = "(sensitive)";

/// The summary: `Plan: 1 to create, 2 to update, 0 to delete.` or `No changes. Live state
/// matches the manifests.`, followed by what makes the plan incomplete (unknown scopes) or
/// unappliable (errors). The last line of the text plan, the first of the Markdown one, and
/// `summary` in the JSON one.
pub fn summary(plan: &Plan) -> String {
    let loose = !plan.unmanaged.is_empty() || !plan.duplicates.is_empty();
    let mut line = if plan.has_changes()
        || (plan.unknown.is_empty() && (loose || !plan.in_progress.is_empty()))
    {
        let (create, update, delete) = plan.counts();
        format!("Plan: {create} to create, {update} to update, {delete} to delete.")
    } else if plan.unknown.is_empty() {
        "No changes. Live state matches the manifests.".to_string()
    } else {
        "No changes in the scopes that could be read.".to_string()
    };
    if !plan.in_progress.is_empty() {
        let n = plan.in_progress.len();
        line.push_str(&format!(
            " {} still in progress: apply waits for {}.",
            plural(n, "object", "objects"),
            if n == 1 { "it" } else { "them" }
        ));
    }
    if !plan.has_changes() && plan.unknown.is_empty() {
        if !plan.unmanaged.is_empty() {
            line.push_str(&format!(
                " {} named by no manifest: kept unless --prune.",
                plural(plan.unmanaged.len(), "live object", "live objects")
            ));
        }
        if !plan.duplicates.is_empty() {
            line.push_str(&format!(
                " {}: kept unless --prune.",
                plural(plan.duplicates.len(), "duplicate", "duplicates")
            ));
        }
    }
    if !plan.unknown.is_empty() {
        let n = plan.unknown.len();
        line.push_str(&format!(
            " {} could not be read: the plan is incomplete.",
            plural(n, "scope", "scopes")
        ));
    }
    if !plan.errors.is_empty() {
        line.push_str(&format!(
            " The plan cannot be applied: {}.",
            plural(plan.errors.len(), "error", "errors")
        ));
    }
    line
}

/// `1 resource`, `3 resources`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `create`, `update`, `replace`, `delete`: the action's name in JSON and Markdown.
pub(crate) fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace { .. } => "replace",
        Action::Delete { .. } => "delete",
    }
}

/// The header of a change, without its symbol: `DatabaseService/orders-db will be created`,
/// `... will be updated in place`, `... must be replaced`, `... will be destroyed (reason)`.
pub(crate) fn header(change: &Change) -> String {
    let address = &change.address;
    match &change.action {
        Action::Create => format!("{address} will be created"),
        Action::Update => format!("{address} will be updated in place"),
        Action::Replace { .. } => format!("{address} must be replaced"),
        Action::Delete { reason } => format!("{address} will be destroyed ({reason})"),
    }
}

/// A wave as people count it: 1 for the first wave the plan has, and so on.
pub(crate) fn wave_number(plan: &Plan, wave: usize) -> usize {
    let mut waves: Vec<usize> = plan.changes.iter().map(|c| c.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    waves.iter().position(|&w| w == wave).unwrap_or(0) + 1
}

/// How many waves the plan has.
pub(crate) fn wave_count(plan: &Plan) -> usize {
    let mut waves: Vec<usize> = plan.changes.iter().map(|c| c.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    waves.len()
}

/// `forced_by` fields that no field line carries (`# forces replacement`), so that a replace
/// always says why even when the planner lists the forcing field only in the action.
pub(crate) fn forced_by_unlisted(change: &Change) -> Vec<&str> {
    match &change.action {
        Action::Replace { forced_by } => forced_by
            .iter()
            .filter(|path| {
                !change
                    .fields
                    .iter()
                    .any(|f| f.forces_replace && &&f.path == path)
            })
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    }
}

/// One line of a changed field: `symbol` is `+`, `-` or `~`; `depth` 1 for the entries of a
/// list under its field line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldLine {
    pub symbol: &'static str,
    pub depth: usize,
    pub text: String,
    /// Ends with `# forces replacement`.
    pub forces_replace: bool,
}

/// The lines of one changed field of a change doing `action`. A value is compact JSON; a
/// secret is `(sensitive)` (with no value at all, it is being set: `+` on a create, `~`
/// otherwise); a list whose entries were added or removed is shown entry by entry, removed
/// first, each with its own `-` or `+`.
pub(crate) fn field_lines(field: &FieldChange, action: &Action) -> Vec<FieldLine> {
    let line = |symbol, text: String| FieldLine {
        symbol,
        depth: 0,
        text,
        forces_replace: field.forces_replace,
    };
    let path = &field.path;
    let shown = |value: &Value| {
        if field.sensitive {
            SENSITIVE.to_string()
        } else {
            compact(value)
        }
    };
    match (&field.old, &field.new) {
        (None, Some(new)) => vec![line("+", format!("{path}: {}", shown(new)))],
        (Some(old), None) => vec![line("-", format!("{path}: {}", shown(old)))],
        (None, None) | (Some(_), Some(_)) if field.sensitive => {
            let symbol = match action {
                Action::Create => "+",
                _ => "~",
            };
            vec![line(symbol, format!("{path}: {SENSITIVE}"))]
        }
        (None, None) => vec![line("~", path.clone())],
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            let (removed, added) = list_diff(old, new);
            if removed.is_empty() && added.is_empty() {
                // Same entries in another order, where the order matters.
                let text = format!("{path}: {} -> {}", compact_list(old), compact_list(new));
                return vec![line("~", text)];
            }
            let mut lines = vec![line("~", format!("{path}:"))];
            let entry = |symbol, value: &Value| FieldLine {
                symbol,
                depth: 1,
                text: compact(value),
                forces_replace: false,
            };
            lines.extend(removed.iter().map(|v| entry("-", v)));
            lines.extend(added.iter().map(|v| entry("+", v)));
            lines
        }
        (Some(old), Some(new)) => {
            vec![line(
                "~",
                format!("{path}: {} -> {}", compact(old), compact(new)),
            )]
        }
    }
}

/// Entries of `old` not in `new` and entries of `new` not in `old`, as multisets, each in its
/// list's order.
fn list_diff<'a>(old: &'a [Value], new: &'a [Value]) -> (Vec<&'a Value>, Vec<&'a Value>) {
    let mut matched = vec![false; new.len()];
    let mut removed = Vec::new();
    for value in old {
        match (0..new.len()).find(|&i| !matched[i] && &new[i] == value) {
            Some(i) => matched[i] = true,
            None => removed.push(value),
        }
    }
    let added = new
        .iter()
        .zip(&matched)
        .filter(|(_, matched)| !**matched)
        .map(|(value, _)| value)
        .collect();
    (removed, added)
}

fn compact_list(values: &[Value]) -> String {
    compact(&Value::Array(values.to_vec()))
}

/// A value as compact JSON: `"db2-4"`, `3`, `true`, `{"ip":"203.0.113.0/24"}`.
pub(crate) fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// A call as one line: `POST /cloud/project/p1/database/mongodb {"description":"orders-db"}`.
pub(crate) fn call_line(call: &Operation) -> String {
    match call.body() {
        Some(body) => format!("{call} {}", compact(body)),
        None => call.to_string(),
    }
}

/// An unmanaged object in words: `DatabaseService "orders-db-old" (id 4f1c...) in database
/// mongodb in project p1`; the label is left out when it is the id (a domain, a stack id).
pub(crate) fn unmanaged_line(object: &Unmanaged) -> String {
    if object.label.is_empty() || object.label == object.id {
        format!("{} {} in {}", object.kind, object.id, object.scope)
    } else {
        format!(
            "{} {:?} (id {}) in {}",
            object.kind, object.label, object.id, object.scope
        )
    }
}

/// `DatabaseService "orders-db" (id 9d2e, created at T) in SCOPE: duplicate of
/// DatabaseService/orders-db (id 5f0c, created at T)`.
pub(crate) fn duplicate_line(duplicate: &Duplicate) -> String {
    let created = if duplicate.created_at.is_empty() {
        String::new()
    } else {
        format!(", created at {}", duplicate.created_at)
    };
    format!(
        "{} {:?} (id {}{created}) in {}: {}",
        duplicate.kind,
        duplicate.of.name,
        duplicate.id,
        duplicate.scope,
        super::duplicate_reason(duplicate)
    )
}

/// `DatabaseService/orders-db (id 5f0c): CREATING`.
pub(crate) fn in_progress_line(object: &InProgress) -> String {
    format!("{} (id {}): {}", object.address, object.id, object.status)
}

/// Hand-built plans covering every action and section, shared by the renderers' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::live::Scope;
    use crate::manifest::model::{Address, Kind};
    use crate::plan::model::*;
    use serde_json::json;

    pub fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.to_string(),
        }
    }

    pub fn field(
        path: &str,
        old: Option<serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> FieldChange {
        FieldChange {
            path: path.to_string(),
            old,
            new,
            sensitive: false,
            forces_replace: false,
        }
    }

    /// A call as a saved plan shows it: what the renderers print does not depend on its
    /// family (each family's `Call` has its own rendering tests).
    fn call(method: &str, path: &str, body: Option<serde_json::Value>) -> Operation {
        Operation::Saved(crate::family::SavedCall {
            method: method.to_string(),
            path: path.to_string(),
            body,
        })
    }

    fn mongodb() -> Scope {
        Scope::Database {
            project: "p1".into(),
            engine: "mongodb".into(),
        }
    }

    /// Every action, a sensitive field, a list diff, unknown, unmanaged, warnings, errors.
    pub fn everything() -> Plan {
        let orders = address(Kind::DatabaseService, "orders-db");
        let billing = address(Kind::DatabaseService, "billing-db");
        let app = address(Kind::DatabaseUser, "orders-app");
        let shop_db = address(Kind::HostingDatabase, "shop-db");
        let legacy = address(Kind::HostingAttachedDomain, "legacy.shop.example");
        Plan {
            changes: vec![
                Change {
                    address: orders.clone(),
                    action: Action::Update,
                    wave: 0,
                    fields: vec![
                        field("spec.nodes.flavor", Some(json!("db2-4")), Some(json!("db2-8"))),
                        field(
                            "spec.ipRestrictions",
                            Some(json!([
                                { "ip": "203.0.113.0/24", "description": "office" },
                                { "ip": "198.51.100.7/32", "description": "vpn" },
                            ])),
                            Some(json!([
                                { "ip": "203.0.113.0/24", "description": "office" },
                                { "ip": "192.0.2.0/28", "description": "ci" },
                            ])),
                        ),
                        field("spec.storage", None, Some(json!(80))),
                    ],
                    calls: vec![
                        call(
                            "PUT",
                            "/cloud/project/p1/database/mongodb/5f0c",
                            Some(json!({ "nodesPattern": { "flavor": "db2-8" } })),
                        ),
                        call(
                            "DELETE",
                            "/cloud/project/p1/database/mongodb/5f0c/ipRestriction/198.51.100.7%2F32",
                            None,
                        ),
                    ],
                    live_id: Some("5f0c".into()),
                    depends_on: vec![],
                },
                Change {
                    address: billing.clone(),
                    action: Action::Replace {
                        forced_by: vec!["spec.nodes.region".into()],
                    },
                    wave: 0,
                    fields: vec![
                        FieldChange {
                            forces_replace: true,
                            ..field("spec.nodes.region", Some(json!("GRA")), Some(json!("SBG")))
                        },
                        field("spec.version", Some(json!("15")), Some(json!("16"))),
                    ],
                    calls: vec![
                        call("DELETE", "/cloud/project/p1/database/postgresql/77aa", None),
                        call(
                            "POST",
                            "/cloud/project/p1/database/postgresql",
                            Some(json!({ "description": "billing-db", "version": "16" })),
                        ),
                    ],
                    live_id: Some("77aa".into()),
                    depends_on: vec![],
                },
                Change {
                    address: legacy.clone(),
                    action: Action::Delete {
                        reason: "no manifest names it and --prune is given".into(),
                    },
                    wave: 0,
                    fields: vec![],
                    calls: vec![call(
                        "DELETE",
                        "/hosting/web/h1/attachedDomain/legacy.shop.example",
                        None,
                    )],
                    live_id: Some("legacy.shop.example".into()),
                    depends_on: vec![],
                },
                Change {
                    address: app.clone(),
                    action: Action::Create,
                    wave: 1,
                    fields: vec![
                        field("spec.username", None, Some(json!("app"))),
                        field("spec.roles", None, Some(json!(["readWrite@orders"]))),
                    ],
                    calls: vec![call(
                        "POST",
                        "/cloud/project/p1/database/mongodb/{id}/user",
                        Some(json!({ "name": "app", "roles": ["readWrite@orders"] })),
                    )],
                    live_id: None,
                    depends_on: vec![orders.clone()],
                },
                Change {
                    address: shop_db.clone(),
                    action: Action::Create,
                    wave: 1,
                    fields: vec![
                        field("spec.user", None, Some(json!("shopdb"))),
                        FieldChange {
                            sensitive: true,
                            ..field("spec.password", None, Some(json!("hunter2")))
                        },
                    ],
                    calls: vec![call(
                        "POST",
                        "/hosting/web/h1/database",
                        Some(json!({ "user": "shopdb", "password": "***" })),
                    )],
                    live_id: None,
                    depends_on: vec![],
                },
            ],
            unchanged: vec![
                address(Kind::HostingSsl, "shop-ssl"),
                address(Kind::HostingAttachedDomain, "shop-www"),
                address(Kind::DatabaseUser, "orders-report"),
            ],
            unmanaged: vec![
                Unmanaged {
                    kind: Kind::DatabaseService,
                    scope: mongodb(),
                    id: "9d2e".into(),
                    label: "orders-db-copy".into(),
                },
                Unmanaged {
                    kind: Kind::HostingAttachedDomain,
                    scope: Scope::Hosting {
                        hosting: "h1".into(),
                    },
                    id: "old.shop.example".into(),
                    label: "old.shop.example".into(),
                },
            ],
            unknown: vec![UnknownScope {
                scope: Scope::Database {
                    project: "p1".into(),
                    engine: "redis".into(),
                },
                reason: "GET /cloud/project/p1/database/redis: 503 Service Unavailable".into(),
                affected: vec![address(Kind::DatabaseService, "sessions")],
            }],
            warnings: vec![Finding {
                address: billing.clone(),
                field: "spec.version".into(),
                message: "postgresql 16 reaches end of sale on 2026-06-30".into(),
            }],
            errors: vec![Finding {
                address: address(Kind::DatabaseService, "sessions"),
                field: "spec.nodes.flavor".into(),
                message: "flavor db9-1 is not offered for redis in GRA; allowed: db1-4, db1-7".into(),
            }],
            digests: [
                ("database/p1/mongodb/5f0c".to_string(), "sha1:aa".to_string()),
                ("database/p1/postgresql/77aa".to_string(), "sha1:bb".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Plan::default()
        }
    }

    /// No change to make, but a twin of a service, a live object no manifest names and a
    /// service still being created.
    pub fn unsettled() -> Plan {
        let orders = address(Kind::DatabaseService, "orders-db");
        Plan {
            unchanged: vec![orders.clone(), address(Kind::DatabaseService, "billing-db")],
            unmanaged: vec![Unmanaged {
                kind: Kind::DatabaseService,
                scope: mongodb(),
                id: "9d2e".into(),
                label: "orders-db-copy".into(),
            }],
            duplicates: vec![Duplicate {
                kind: Kind::DatabaseService,
                scope: mongodb(),
                id: "7b1c".into(),
                created_at: "2026-01-01T10:00:05Z".into(),
                of: orders.clone(),
                of_id: "5f0c".into(),
                of_created_at: "2026-01-01T10:00:00Z".into(),
            }],
            in_progress: vec![InProgress {
                address: address(Kind::DatabaseService, "billing-db"),
                id: "77aa".into(),
                status: "CREATING".into(),
            }],
            ..Plan::default()
        }
    }

    /// Nothing to do: two resources match.
    pub fn in_sync() -> Plan {
        Plan {
            unchanged: vec![
                address(Kind::DatabaseService, "orders-db"),
                address(Kind::DatabaseUser, "orders-app"),
            ],
            digests: [(
                "database/p1/mongodb/5f0c".to_string(),
                "sha1:aa".to_string(),
            )]
            .into_iter()
            .collect(),
            ..Plan::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_says_what_the_plan_does_and_what_stops_it() {
        assert_eq!(
            summary(&everything()),
            "Plan: 3 to create, 1 to update, 2 to delete. 1 scope could not be read: the plan \
             is incomplete. The plan cannot be applied: 1 error."
        );
        assert_eq!(
            summary(&in_sync()),
            "No changes. Live state matches the manifests."
        );
        let unknown_only = Plan {
            unknown: everything().unknown,
            ..in_sync()
        };
        assert_eq!(
            summary(&unknown_only),
            "No changes in the scopes that could be read. 1 scope could not be read: the plan \
             is incomplete."
        );
    }

    #[test]
    fn a_list_shows_entries_added_and_removed_and_an_order_change_whole() {
        let lines = |old, new| -> Vec<String> {
            field_lines(&field("spec.roles", Some(old), Some(new)), &Action::Update)
                .into_iter()
                .map(|l| format!("{}{} {}", "  ".repeat(l.depth), l.symbol, l.text))
                .collect()
        };
        assert_eq!(
            lines(json!(["a", "b", "b"]), json!(["b", "c"])),
            ["~ spec.roles:", "  - \"a\"", "  - \"b\"", "  + \"c\""]
        );
        assert_eq!(
            lines(json!(["a", "b"]), json!(["b", "a"])),
            ["~ spec.roles: [\"a\",\"b\"] -> [\"b\",\"a\"]"]
        );
    }

    #[test]
    fn a_sensitive_field_never_shows_its_value() {
        for (old, new, action, symbol) in [
            (
                Some(json!("old-secret")),
                Some(json!("new-secret")),
                Action::Update,
                "~",
            ),
            (None, Some(json!("new-secret")), Action::Update, "+"),
            (
                Some(json!(["old-secret"])),
                Some(json!(["new-secret"])),
                Action::Update,
                "~",
            ),
            (None, None, Action::Create, "+"),
            (None, None, Action::Update, "~"),
        ] {
            let lines = field_lines(
                &FieldChange {
                    sensitive: true,
                    ..field("spec.password", old, new)
                },
                &action,
            );
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert_eq!(lines[0].symbol, symbol, "{lines:?}");
            assert_eq!(lines[0].text, format!("spec.password: {SENSITIVE}"));
        }
    }
}
