//! A plan saved by `plan --out` and applied later (`apply plan.json`): its JSON form, reading it
//! back, and the checks that refuse it (exit 7) before any write.
//!
//! The JSON is `render::json` plus three keys right after `counts`: `manifests` (the manifest
//! path exactly as given to `plan`: a relative path is relative to the directory `plan` ran
//! in, where `apply plan.json` must run too), `prune`, and `identity` (the API and account it
//! was made against, `identity`). It is refused when it belongs to another API or account
//! (`check_identity`), when a live object's digest changed since (`check_live`), or when its
//! manifests no longer give the same changes (`check_changes`).

use super::identity::{ApiIdentity, IDENTITY_KEY};
use crate::family;
use crate::live::{LiveState, Scope, ScopeState};
use crate::manifest::model::ManifestSet;
use crate::plan::model::{Action, Plan, PLAN_FORMAT};
use crate::plan::{self, render, StaleKey};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The key of the manifest path in a saved plan.
pub const MANIFESTS_KEY: &str = "manifests";
/// The key of `--prune` in a saved plan.
pub const PRUNE_KEY: &str = "prune";

/// The JSON plan as `plan --format json` prints it and `plan --out` saves it: `render::json`
/// plus `manifests`, `prune` and `identity` (when known) right after `counts`.
pub fn to_json(
    plan: &Plan,
    manifests: &Path,
    prune: bool,
    identity: Option<&ApiIdentity>,
) -> Value {
    let Value::Object(fields) = render::json(plan) else {
        unreachable!("a plan renders as a JSON object")
    };
    let mut out = Map::new();
    for (key, value) in fields {
        let after = key == "counts";
        out.insert(key, value);
        if after {
            out.insert(MANIFESTS_KEY.into(), manifests.to_string_lossy().into());
            out.insert(PRUNE_KEY.into(), prune.into());
            if let Some(identity) = identity {
                out.insert(
                    IDENTITY_KEY.into(),
                    serde_json::to_value(identity).expect("an identity serializes"),
                );
            }
        }
    }
    Value::Object(out)
}

/// A plan saved by `plan --out`, and what it was made from.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    pub plan: Plan,
    /// The manifest path it was made from, as given to `plan`.
    pub manifests: PathBuf,
    pub prune: bool,
    /// The API and account it was made against (`None`: saved by a version that did not say).
    pub identity: Option<ApiIdentity>,
}

/// Why a file cannot be applied as a saved plan (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read {}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a saved plan: {reason}", path.display())]
    NotAPlan { path: PathBuf, reason: String },
    #[error(
        "the saved plan {} does not say which manifests it was made from (`{MANIFESTS_KEY}`)",
        path.display()
    )]
    NoManifests { path: PathBuf },
}

impl SavedPlanError {
    /// What to do about it (none when the file could not be read: the cause says).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SavedPlanError::Unreadable { .. } => None,
            SavedPlanError::NotAPlan { .. } => {
                Some("save a plan with `reconcile plan DIR --out plan.json`")
            }
            SavedPlanError::NoManifests { .. } => {
                Some("save it again with `reconcile plan DIR --out plan.json`")
            }
        }
    }
}

/// True when `apply` is given a saved plan rather than manifests: a file named `*.json`.
pub fn is_saved_plan(target: &Path) -> bool {
    target.is_file()
        && target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Reads the saved plan at `path`.
pub fn read(path: &Path) -> Result<SavedPlan, SavedPlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// The saved plan in `text` (read from `path`, named in errors).
pub fn parse(path: &Path, text: &str) -> Result<SavedPlan, SavedPlanError> {
    let not_a_plan = |reason: String| SavedPlanError::NotAPlan {
        path: path.to_path_buf(),
        reason,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| not_a_plan(e.to_string()))?;
    if value["format"] != PLAN_FORMAT {
        return Err(not_a_plan(format!(
            "its format is {}, not {PLAN_FORMAT:?}",
            value["format"]
        )));
    }
    let Some(manifests) = value[MANIFESTS_KEY].as_str().map(PathBuf::from) else {
        return Err(SavedPlanError::NoManifests {
            path: path.to_path_buf(),
        });
    };
    let prune = value[PRUNE_KEY].as_bool();
    let identity = serde_json::from_value::<ApiIdentity>(value[IDENTITY_KEY].clone()).ok();
    let plan: Plan = serde_json::from_value(value).map_err(|e| not_a_plan(e.to_string()))?;
    // A plan saved before `prune` was recorded: it was made with --prune if it deletes.
    let prune = prune.unwrap_or_else(|| {
        plan.changes
            .iter()
            .any(|c| matches!(c.action, Action::Delete { .. }))
    });
    Ok(SavedPlan {
        plan,
        manifests,
        prune,
        identity,
    })
}

/// Why a saved plan is refused (exit 7): it belongs elsewhere, or it is stale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    #[error(
        "the saved plan {} does not say which API and account it was made against (`{IDENTITY_KEY}`)",
        path.display()
    )]
    NoIdentity { path: PathBuf },
    #[error(
        "the saved plan {} belongs to another API or account; it differs in {}",
        path.display(),
        mismatches.join("; and in ")
    )]
    OtherApi {
        path: PathBuf,
        mismatches: Vec<String>,
    },
    #[error(
        "the saved plan {} is stale: {} changed since it was made:\n  {}",
        path.display(),
        render::plural(objects.len(), "live object", "live objects"),
        objects.join("\n  ")
    )]
    LiveChanged { path: PathBuf, objects: Vec<String> },
    #[error(
        "the saved plan {} is stale: the manifests in {} no longer give the same changes for {}",
        path.display(),
        manifests.display(),
        resources.join(", ")
    )]
    ManifestsChanged {
        path: PathBuf,
        manifests: PathBuf,
        resources: Vec<String>,
    },
}

impl StalePlan {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            StalePlan::NoIdentity { .. } | StalePlan::OtherApi { .. } => {
                "plan again against this API (reconcile plan DIR --out plan.json), review it, then \
                 apply the new plan"
            }
            StalePlan::LiveChanged { .. } | StalePlan::ManifestsChanged { .. } => {
                "plan again (reconcile plan DIR --out plan.json), review it, then apply the new plan"
            }
        }
    }

    /// What the apply report lists under `stale`: the objects, resources or identity
    /// differences, or the message itself when the plan names no identity.
    pub fn items(&self) -> Vec<String> {
        match self {
            StalePlan::NoIdentity { .. } => vec![self.to_string()],
            StalePlan::OtherApi { mismatches, .. } => mismatches.clone(),
            StalePlan::LiveChanged { objects, .. } => objects.clone(),
            StalePlan::ManifestsChanged { resources, .. } => resources.clone(),
        }
    }
}

/// The identity a saved plan recorded; refused when it records none (a plan saved by a
/// version that did not say cannot be trusted to belong here).
pub fn recorded_identity<'a>(
    path: &Path,
    saved: Option<&'a ApiIdentity>,
) -> Result<&'a ApiIdentity, StalePlan> {
    saved.ok_or_else(|| StalePlan::NoIdentity {
        path: path.to_path_buf(),
    })
}

/// Refuses a saved plan made against another endpoint, with another credential or for another
/// account than this run's connection (`now`).
pub fn check_identity(
    path: &Path,
    saved: &ApiIdentity,
    now: &ApiIdentity,
) -> Result<(), StalePlan> {
    let mismatches = saved.mismatches(now);
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(StalePlan::OtherApi {
            path: path.to_path_buf(),
            mismatches,
        })
    }
}

/// Refuses a saved plan when a live object it was based on changed, appeared or went since
/// (`plan::stale`), naming each one.
pub fn check_live(
    path: &Path,
    saved: &Plan,
    live: &LiveState,
    manifests: &ManifestSet,
) -> Result<(), StalePlan> {
    let stale = plan::stale(saved, live);
    if stale.is_empty() {
        return Ok(());
    }
    Err(StalePlan::LiveChanged {
        path: path.to_path_buf(),
        objects: stale
            .iter()
            .map(|key| describe(key, saved, live, manifests))
            .collect(),
    })
}

/// Refuses a saved plan whose manifests (`manifests`, as recorded) no longer give the same
/// changes as the plan made `now` from the same live state.
pub fn check_changes(
    path: &Path,
    manifests: &Path,
    saved: &Plan,
    now: &Plan,
) -> Result<(), StalePlan> {
    let resources = differing_changes(saved, now);
    if resources.is_empty() {
        return Ok(());
    }
    Err(StalePlan::ManifestsChanged {
        path: path.to_path_buf(),
        manifests: manifests.to_path_buf(),
        resources,
    })
}

/// The resources whose change (action, fields and calls, as the JSON plan shows them) differs
/// between a saved plan and the plan made now from the same live state.
pub fn differing_changes(saved: &Plan, now: &Plan) -> Vec<String> {
    let shown = |plan: &Plan| -> BTreeMap<String, Value> {
        render::json(plan)["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let key = c["resource"].as_str().unwrap_or_default().to_string();
                (key, json!([c["action"], c["fields"], c["calls"]]))
            })
            .collect()
    };
    let (saved, now) = (shown(saved), shown(now));
    saved
        .keys()
        .chain(now.keys())
        .filter(|key| saved.get(*key) != now.get(*key))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A stale digest key with, where it can be told, what it is: the resource of the plan's
/// change on that object, else the object as the manifests or the live state name it.
pub fn describe(key: &StaleKey, plan: &Plan, live: &LiveState, manifests: &ManifestSet) -> String {
    let StaleKey::Known(known) = key else {
        return key.to_string();
    };
    let names = Names {
        plan,
        live,
        manifests,
    };
    match known.label(&names) {
        Some(label) => format!("{key} ({label})"),
        None => key.to_string(),
    }
}

/// What `describe` names objects after: the plan's changes, the live state, the manifests.
struct Names<'a> {
    plan: &'a Plan,
    live: &'a LiveState,
    manifests: &'a ManifestSet,
}

impl family::KeyNames for Names<'_> {
    fn planned(&self, id: &str) -> Option<String> {
        self.plan
            .changes
            .iter()
            .find(|c| c.live_id.as_deref() == Some(id))
            .map(|c| c.address.to_string())
    }

    fn live(&self, scope: Scope, ids: &[&str]) -> Option<String> {
        live_object(self.live, scope, ids, self.manifests)
    }
}

/// How the family of `scope` names the live object at `ids` there (`Family::describe_live`),
/// when the scope is known.
fn live_object(
    live: &LiveState,
    scope: Scope,
    ids: &[&str],
    manifests: &ManifestSet,
) -> Option<String> {
    match live.scopes.get(&scope)? {
        ScopeState::Known(objects) => {
            family::of_scope(&scope).describe_live(objects, ids, manifests)
        }
        ScopeState::Unknown { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::*;
    use crate::family::{database, hosting, stack};
    use crate::manifest::model::Kind;
    use crate::plan::model::FieldChange;
    use crate::plan::DigestKey;

    #[test]
    fn a_saved_plan_whose_manifests_give_other_changes_names_them() {
        let saved = plan(vec![
            change(Kind::DatabaseService, "a", Action::Create, None),
            change(Kind::DatabaseService, "b", Action::Update, Some("s1")),
        ]);
        let mut now = saved.clone();
        now.changes[1].fields.push(FieldChange {
            path: "spec.nodes.flavor".into(),
            old: Some(json!("db2-4")),
            new: Some(json!("db2-8")),
            sensitive: false,
            forces_replace: false,
        });
        now.changes
            .push(change(Kind::DatabaseUser, "c", Action::Create, None));
        assert_eq!(differing_changes(&saved, &saved), Vec::<String>::new());
        assert_eq!(
            differing_changes(&saved, &now),
            ["DatabaseService/b", "DatabaseUser/c"]
        );
    }

    fn service_key(id: &str) -> StaleKey {
        StaleKey::Known(DigestKey::Database(database::DigestKey::Service {
            project: "p1".into(),
            engine: "mongodb".into(),
            id: id.into(),
        }))
    }

    #[test]
    fn stale_keys_are_named_after_what_they_digest() {
        let mut manifests = ManifestSet::default();
        manifests.resources.clear();
        let live = live(vec![live_service("s1", false)]);
        let plan = plan(vec![change(
            Kind::DatabaseService,
            "orders-db",
            Action::Update,
            Some("s2"),
        )]);
        let named = |key| describe(&key, &plan, &live, &manifests);
        assert_eq!(
            named(service_key("s1")),
            "database/p1/mongodb/s1 (service \"svc-s1\")"
        );
        assert_eq!(
            named(service_key("s2")),
            "database/p1/mongodb/s2 (DatabaseService/orders-db)"
        );
        assert_eq!(
            named(StaleKey::Known(DigestKey::Database(
                database::DigestKey::Services {
                    project: "p1".into(),
                    engine: "mongodb".into(),
                }
            ))),
            "database/p1/mongodb (the mongodb services of project p1)"
        );
        assert_eq!(
            named(StaleKey::Known(DigestKey::Hosting(
                hosting::DigestKey::AttachedDomain {
                    hosting: "h".into(),
                    domain: "www.example".into(),
                }
            ))),
            "hosting/h/attachedDomain/www.example (attached domain www.example)"
        );
        assert_eq!(
            named(StaleKey::Known(DigestKey::Stack(stack::DigestKey::Stack {
                id: "st".into()
            }))),
            "stackMysql/st"
        );
        assert_eq!(
            named(StaleKey::Recorded("something/else".into())),
            "something/else"
        );
    }

    #[test]
    fn a_saved_plan_is_stale_when_an_object_changed_came_or_went_and_says_which() {
        let mut manifests = ManifestSet::default();
        manifests.resources.clear();
        let then = live(vec![live_service("s1", false), live_service("s2", false)]);
        let mut saved = plan(vec![change(
            Kind::DatabaseService,
            "orders-db",
            Action::Update,
            Some("s2"),
        )]);
        saved.digests = plan::live_digests(&then);
        // Something this run cannot name: kept, shown as recorded.
        saved
            .digests
            .insert("stackMysql/gone".into(), "0000".into());
        let path = Path::new("plan.json");
        assert_eq!(
            check_live(path, &saved, &then, &manifests),
            Err(StalePlan::LiveChanged {
                path: path.into(),
                objects: vec!["stackMysql/gone".into()],
            })
        );
        saved.digests.remove("stackMysql/gone");
        assert_eq!(check_live(path, &saved, &then, &manifests), Ok(()));

        let mut s1 = live_service("s1", false);
        s1.flavor = "db2-8".into();
        let now = live(vec![s1, live_service("s3", false)]);
        let stale = check_live(path, &saved, &now, &manifests).unwrap_err();
        insta::assert_snapshot!(format!("error: {stale}\nhint: {}", stale.hint()), @r#"
            error: the saved plan plan.json is stale: 4 live objects changed since it was made:
              database/p1/mongodb (the mongodb services of project p1)
              database/p1/mongodb/s1 (service "svc-s1")
              database/p1/mongodb/s2 (DatabaseService/orders-db)
              database/p1/mongodb/s3 (service "svc-s3")
            hint: plan again (reconcile plan DIR --out plan.json), review it, then apply the new plan
            "#);
        assert_eq!(stale.items().len(), 4);
    }

    #[test]
    fn a_saved_plan_belongs_to_one_api_and_account() {
        let path = Path::new("plan.json");
        let identity = ApiIdentity {
            endpoint: "https://eu.api.ovh.com/1.0".into(),
            application_key: Some("ak".into()),
            client_id: None,
            account: Some("xx1-ovh".into()),
            credential_id: None,
        };
        assert_eq!(recorded_identity(path, Some(&identity)), Ok(&identity));
        assert_eq!(check_identity(path, &identity, &identity), Ok(()));
        let unsaid = recorded_identity(path, None).unwrap_err();
        assert_eq!(
            unsaid.to_string(),
            "the saved plan plan.json does not say which API and account it was made against (`identity`)"
        );
        assert_eq!(unsaid.items(), [unsaid.to_string()]);
        let other = ApiIdentity {
            account: Some("yy2-ovh".into()),
            ..identity.clone()
        };
        let elsewhere = check_identity(path, &identity, &other).unwrap_err();
        assert_eq!(
            elsewhere.to_string(),
            "the saved plan plan.json belongs to another API or account; it differs in the \
             account: the plan was made for xx1-ovh, this run is yy2-ovh"
        );
        assert_eq!(
            elsewhere.hint(),
            "plan again against this API (reconcile plan DIR --out plan.json), review it, then apply the new plan"
        );
    }

    #[test]
    fn a_saved_plan_reads_back_what_plan_out_wrote() {
        let path = Path::new("plan.json");
        let saved = plan(vec![change(Kind::DatabaseUser, "u", delete(), Some("u1"))]);
        let json = to_json(&saved, Path::new("manifests"), true, None);
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let counts = keys.iter().position(|k| *k == "counts").unwrap();
        assert_eq!(keys[counts + 1..counts + 3], ["manifests", "prune"]);
        let read = parse(path, &json.to_string()).unwrap();
        assert_eq!(read.plan, saved);
        assert_eq!(read.manifests, Path::new("manifests"));
        assert!(read.prune);
        assert_eq!(read.identity, None);

        // A plan saved before `prune` was recorded: made with --prune when it deletes.
        let mut older = json.clone();
        older.as_object_mut().unwrap().remove(PRUNE_KEY);
        assert!(parse(path, &older.to_string()).unwrap().prune);
    }

    #[test]
    fn what_is_not_a_saved_plan_is_refused_with_how_to_save_one() {
        let path = Path::new("p.json");
        let said = |text: &str| {
            let e = parse(path, text).unwrap_err();
            format!("{e} / {}", e.hint().unwrap_or("-"))
        };
        assert_eq!(
            said("{"),
            "p.json is not a saved plan: EOF while parsing an object at line 1 column 1 / \
             save a plan with `reconcile plan DIR --out plan.json`"
        );
        assert_eq!(
            said(r#"{"format": "reconcile-drift/1"}"#),
            "p.json is not a saved plan: its format is \"reconcile-drift/1\", not \
             \"reconcile-plan/1\" / save a plan with `reconcile plan DIR --out plan.json`"
        );
        assert_eq!(
            said(r#"{"format": "reconcile-plan/1"}"#),
            "the saved plan p.json does not say which manifests it was made from (`manifests`) / \
             save it again with `reconcile plan DIR --out plan.json`"
        );
        let missing = read(Path::new("/nonexistent/plan.json")).unwrap_err();
        assert!(!is_saved_plan(Path::new("/nonexistent/plan.json")));
        assert_eq!(missing.to_string(), "cannot read /nonexistent/plan.json");
        assert_eq!(missing.hint(), None);
    }

    #[test]
    fn a_json_file_is_a_saved_plan_and_anything_else_is_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, "{}").unwrap();
            path
        };
        assert!(is_saved_plan(&file("plan.json")));
        assert!(is_saved_plan(&file("PLAN.JSON")));
        assert!(!is_saved_plan(&file("plan.yaml")));
        let folder = dir.path().join("manifests.json");
        std::fs::create_dir(&folder).unwrap();
        assert!(!is_saved_plan(&folder));
    }
}
