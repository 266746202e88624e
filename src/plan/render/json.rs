//! The plan as JSON: what `--format json` prints and `--out plan.json` saves. It is the plan's
//! own serde form (so `serde_json::from_value::<Plan>` reads it back, digests included, for
//! apply's stale-plan guard) with, added for readers and scripts: `format` (`PLAN_FORMAT`),
//! `summary` (the text plan's last line), `counts`, and `resource` (`Kind/name`) on every
//! change. A sensitive field's values are `"(sensitive)"` here too, whatever the plan holds.

use super::{summary, SENSITIVE};
use crate::plan::model::{Action, Change, Plan, PLAN_FORMAT};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// The whole plan as a JSON object: `format`, `summary`, `counts`, then the plan's fields
/// (`changes`, `unchanged`, `unmanaged`, `unknown`, `warnings`, `errors`, `digests`).
///
/// `counts.create` and `counts.delete` include the replaces, as the summary line does;
/// `counts.replace` says how many there are.
pub fn json(plan: &Plan) -> Value {
    let mut out = Map::new();
    out.insert("format".into(), json!(PLAN_FORMAT));
    out.insert("summary".into(), json!(summary(plan)));
    out.insert("counts".into(), counts(plan));
    let Ok(Value::Object(fields)) = serde_json::to_value(masked(plan).as_ref()) else {
        unreachable!("a Plan serializes to a JSON object")
    };
    for (key, mut value) in fields {
        if key == "changes" {
            add_resource_names(&mut value);
        }
        out.insert(key, value);
    }
    Value::Object(out)
}

/// The plan with every sensitive value replaced by `(sensitive)`.
fn masked(plan: &Plan) -> Cow<'_, Plan> {
    let sensitive = |c: &Change| c.fields.iter().any(|f| f.sensitive);
    if !plan.changes.iter().any(sensitive) {
        return Cow::Borrowed(plan);
    }
    let mut plan = plan.clone();
    for field in plan.changes.iter_mut().flat_map(|c| &mut c.fields) {
        if field.sensitive {
            for value in [&mut field.old, &mut field.new].into_iter().flatten() {
                *value = json!(SENSITIVE);
            }
        }
    }
    Cow::Owned(plan)
}

fn counts(plan: &Plan) -> Value {
    let (create, update, delete) = plan.counts();
    let replace = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Replace { .. }))
        .count();
    let mut counts = json!({
        "create": create,
        "update": update,
        "replace": replace,
        "delete": delete,
        "unchanged": plan.unchanged.len(),
        "unmanaged": plan.unmanaged.len(),
        "unknown": plan.unknown.len(),
        "warnings": plan.warnings.len(),
        "errors": plan.errors.len(),
    });
    // Only when there are some, so that a plan without them reads exactly as before.
    for (key, n) in [
        ("duplicates", plan.duplicates.len()),
        ("inProgress", plan.in_progress.len()),
    ] {
        if n > 0 {
            counts[key] = json!(n);
        }
    }
    counts
}

/// `"resource": "Kind/name"` first in every change, for `jq '.changes[].resource'`.
fn add_resource_names(changes: &mut Value) {
    let Value::Array(changes) = changes else {
        return;
    };
    for change in changes {
        let Value::Object(fields) = change else {
            continue;
        };
        let address = &fields["address"];
        let name = format!(
            "{}/{}",
            address["kind"].as_str().unwrap_or_default(),
            address["name"].as_str().unwrap_or_default()
        );
        let mut with_name = Map::new();
        with_name.insert("resource".into(), json!(name));
        with_name.append(fields);
        *fields = with_name;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures::*;

    #[test]
    fn a_saved_plan_reads_back_as_the_same_plan_without_its_secrets() {
        for plan in [everything(), in_sync(), Plan::default()] {
            let saved = serde_json::to_string_pretty(&json(&plan)).unwrap();
            assert!(!saved.contains("hunter2"), "{saved}");
            let read: Plan = serde_json::from_str(&saved).unwrap();
            assert_eq!(read, *masked(&plan));
        }
        let mut everything = everything();
        let password = &mut everything.changes[4].fields[1];
        assert!(password.sensitive);
        password.new = Some(json!(SENSITIVE));
        assert_eq!(*masked(&everything), everything);
    }

    #[test]
    fn duplicates_and_in_progress_are_listed_and_counted() {
        let plan = unsettled();
        let value = json(&plan);
        insta::assert_json_snapshot!(value["counts"], @r#"
            {
              "create": 0,
              "update": 0,
              "replace": 0,
              "delete": 0,
              "unchanged": 2,
              "unmanaged": 1,
              "unknown": 0,
              "warnings": 0,
              "errors": 0,
              "duplicates": 1,
              "inProgress": 1
            }
            "#);
        insta::assert_json_snapshot!((&value["duplicates"], &value["inProgress"]), @r#"
            [
              [
                {
                  "kind": "DatabaseService",
                  "scope": {
                    "type": "database",
                    "project": "p1",
                    "engine": "mongodb"
                  },
                  "id": "7b1c",
                  "createdAt": "2026-01-01T10:00:05Z",
                  "of": {
                    "kind": "DatabaseService",
                    "name": "orders-db"
                  },
                  "ofId": "5f0c",
                  "ofCreatedAt": "2026-01-01T10:00:00Z"
                }
              ],
              [
                {
                  "address": {
                    "kind": "DatabaseService",
                    "name": "billing-db"
                  },
                  "id": "77aa",
                  "status": "CREATING"
                }
              ]
            ]
            "#);
        let read: Plan = serde_json::from_value(value).unwrap();
        assert_eq!(read, plan);
        // Without any, the keys are absent: a plan without them reads exactly as before.
        let quiet = json(&in_sync());
        assert!(quiet.get("duplicates").is_none() && quiet.get("inProgress").is_none());
        assert!(quiet["counts"].get("inProgress").is_none());
    }

    #[test]
    fn every_action_and_section() {
        insta::assert_json_snapshot!(json(&everything()), @r#"
        {
          "format": "reconcile-plan/1",
          "summary": "Plan: 3 to create, 1 to update, 2 to delete. 1 scope could not be read: the plan is incomplete. The plan cannot be applied: 1 error.",
          "counts": {
            "create": 3,
            "update": 1,
            "replace": 1,
            "delete": 2,
            "unchanged": 3,
            "unmanaged": 2,
            "unknown": 1,
            "warnings": 1,
            "errors": 1
          },
          "changes": [
            {
              "resource": "DatabaseService/orders-db",
              "address": {
                "kind": "DatabaseService",
                "name": "orders-db"
              },
              "action": {
                "type": "update"
              },
              "wave": 0,
              "fields": [
                {
                  "path": "spec.nodes.flavor",
                  "old": "db2-4",
                  "new": "db2-8",
                  "sensitive": false,
                  "forcesReplace": false
                },
                {
                  "path": "spec.ipRestrictions",
                  "old": [
                    {
                      "ip": "203.0.113.0/24",
                      "description": "office"
                    },
                    {
                      "ip": "198.51.100.7/32",
                      "description": "vpn"
                    }
                  ],
                  "new": [
                    {
                      "ip": "203.0.113.0/24",
                      "description": "office"
                    },
                    {
                      "ip": "192.0.2.0/28",
                      "description": "ci"
                    }
                  ],
                  "sensitive": false,
                  "forcesReplace": false
                },
                {
                  "path": "spec.storage",
                  "old": null,
                  "new": 80,
                  "sensitive": false,
                  "forcesReplace": false
                }
              ],
              "calls": [
                {
                  "method": "PUT",
                  "path": "/cloud/project/p1/database/mongodb/5f0c",
                  "body": {
                    "nodesPattern": {
                      "flavor": "db2-8"
                    }
                  }
                },
                {
                  "method": "DELETE",
                  "path": "/cloud/project/p1/database/mongodb/5f0c/ipRestriction/198.51.100.7%2F32",
                  "body": null
                }
              ],
              "liveId": "5f0c",
              "dependsOn": []
            },
            {
              "resource": "DatabaseService/billing-db",
              "address": {
                "kind": "DatabaseService",
                "name": "billing-db"
              },
              "action": {
                "type": "replace",
                "forced_by": [
                  "spec.nodes.region"
                ]
              },
              "wave": 0,
              "fields": [
                {
                  "path": "spec.nodes.region",
                  "old": "GRA",
                  "new": "SBG",
                  "sensitive": false,
                  "forcesReplace": true
                },
                {
                  "path": "spec.version",
                  "old": "15",
                  "new": "16",
                  "sensitive": false,
                  "forcesReplace": false
                }
              ],
              "calls": [
                {
                  "method": "DELETE",
                  "path": "/cloud/project/p1/database/postgresql/77aa",
                  "body": null
                },
                {
                  "method": "POST",
                  "path": "/cloud/project/p1/database/postgresql",
                  "body": {
                    "description": "billing-db",
                    "version": "16"
                  }
                }
              ],
              "liveId": "77aa",
              "dependsOn": []
            },
            {
              "resource": "HostingAttachedDomain/legacy.shop.example",
              "address": {
                "kind": "HostingAttachedDomain",
                "name": "legacy.shop.example"
              },
              "action": {
                "type": "delete",
                "reason": "no manifest names it and --prune is given"
              },
              "wave": 0,
              "fields": [],
              "calls": [
                {
                  "method": "DELETE",
                  "path": "/hosting/web/h1/attachedDomain/legacy.shop.example",
                  "body": null
                }
              ],
              "liveId": "legacy.shop.example",
              "dependsOn": []
            },
            {
              "resource": "DatabaseUser/orders-app",
              "address": {
                "kind": "DatabaseUser",
                "name": "orders-app"
              },
              "action": {
                "type": "create"
              },
              "wave": 1,
              "fields": [
                {
                  "path": "spec.username",
                  "old": null,
                  "new": "app",
                  "sensitive": false,
                  "forcesReplace": false
                },
                {
                  "path": "spec.roles",
                  "old": null,
                  "new": [
                    "readWrite@orders"
                  ],
                  "sensitive": false,
                  "forcesReplace": false
                }
              ],
              "calls": [
                {
                  "method": "POST",
                  "path": "/cloud/project/p1/database/mongodb/{id}/user",
                  "body": {
                    "name": "app",
                    "roles": [
                      "readWrite@orders"
                    ]
                  }
                }
              ],
              "liveId": null,
              "dependsOn": [
                {
                  "kind": "DatabaseService",
                  "name": "orders-db"
                }
              ]
            },
            {
              "resource": "HostingDatabase/shop-db",
              "address": {
                "kind": "HostingDatabase",
                "name": "shop-db"
              },
              "action": {
                "type": "create"
              },
              "wave": 1,
              "fields": [
                {
                  "path": "spec.user",
                  "old": null,
                  "new": "shopdb",
                  "sensitive": false,
                  "forcesReplace": false
                },
                {
                  "path": "spec.password",
                  "old": null,
                  "new": "(sensitive)",
                  "sensitive": true,
                  "forcesReplace": false
                }
              ],
              "calls": [
                {
                  "method": "POST",
                  "path": "/hosting/web/h1/database",
                  "body": {
                    "user": "shopdb",
                    "password": "***"
                  }
                }
              ],
              "liveId": null,
              "dependsOn": []
            }
          ],
          "unchanged": [
            {
              "kind": "HostingSsl",
              "name": "shop-ssl"
            },
            {
              "kind": "HostingAttachedDomain",
              "name": "shop-www"
            },
            {
              "kind": "DatabaseUser",
              "name": "orders-report"
            }
          ],
          "unmanaged": [
            {
              "kind": "DatabaseService",
              "scope": {
                "type": "database",
                "project": "p1",
                "engine": "mongodb"
              },
              "id": "9d2e",
              "label": "orders-db-copy"
            },
            {
              "kind": "HostingAttachedDomain",
              "scope": {
                "type": "hosting",
                "hosting": "h1"
              },
              "id": "old.shop.example",
              "label": "old.shop.example"
            }
          ],
          "unknown": [
            {
              "scope": {
                "type": "database",
                "project": "p1",
                "engine": "redis"
              },
              "reason": "GET /cloud/project/p1/database/redis: 503 Service Unavailable",
              "affected": [
                {
                  "kind": "DatabaseService",
                  "name": "sessions"
                }
              ]
            }
          ],
          "warnings": [
            {
              "address": {
                "kind": "DatabaseService",
                "name": "billing-db"
              },
              "field": "spec.version",
              "message": "postgresql 16 reaches end of sale on 2026-06-30"
            }
          ],
          "errors": [
            {
              "address": {
                "kind": "DatabaseService",
                "name": "sessions"
              },
              "field": "spec.nodes.flavor",
              "message": "flavor db9-1 is not offered for redis in GRA; allowed: db1-4, db1-7"
            }
          ],
          "digests": {
            "database/p1/mongodb/5f0c": "sha1:aa",
            "database/p1/postgresql/77aa": "sha1:bb"
          }
        }
        "#);
    }

    #[test]
    fn no_changes() {
        insta::assert_json_snapshot!(json(&in_sync()), @r#"
        {
          "format": "reconcile-plan/1",
          "summary": "No changes. Live state matches the manifests.",
          "counts": {
            "create": 0,
            "update": 0,
            "replace": 0,
            "delete": 0,
            "unchanged": 2,
            "unmanaged": 0,
            "unknown": 0,
            "warnings": 0,
            "errors": 0
          },
          "changes": [],
          "unchanged": [
            {
              "kind": "DatabaseService",
              "name": "orders-db"
            },
            {
              "kind": "DatabaseUser",
              "name": "orders-app"
            }
          ],
          "unmanaged": [],
          "unknown": [],
          "warnings": [],
          "errors": [],
          "digests": {
            "database/p1/mongodb/5f0c": "sha1:aa"
          }
        }
        "#);
    }
}
