//! The one diff every kind goes through: both sides reduced (by the kind's `normalise`) to a
//! `Fields` map of manifest paths to canonical JSON values, then compared here.
//!
//! A field the manifest leaves out (a server default: `storage`, `maintenanceTime`, `ssl`,
//! `cdn`, ...) is simply absent from the desired map and is never compared. A path under an
//! *owned* prefix (the whole `ipRestrictions` list) that only the live side has is a removal.
//! A desired `null` is an explicit "none" (e.g. `spec.network`: absent means public), compared
//! like any value.

use super::model::FieldChange;
use serde_json::Value;
use std::collections::BTreeMap;

/// Manifest path (`spec.nodes.flavor`, `spec.ipRestrictions[10.0.0.0/24]`) -> canonical value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub BTreeMap<String, Value>);

impl Fields {
    pub fn set(&mut self, path: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(path.into(), value.into());
    }

    /// Sets the field only when the manifest (or the live object) has a value.
    pub fn set_some<T: Into<Value>>(&mut self, path: &str, value: Option<T>) {
        if let Some(value) = value {
            self.set(path, value);
        }
    }
}

/// How a kind's fields behave in a diff.
pub struct Rules {
    /// Paths whose change cannot be made in place.
    pub forcing: &'static [&'static str],
    /// Prefixes of paths the manifest owns entirely: a live-only entry is removed.
    pub owned: &'static [&'static str],
}

/// The changed fields, in path order; `old`/`new` are `None` for an absent (or null) value.
pub fn diff(live: &Fields, desired: &Fields, rules: &Rules) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (path, new) in &desired.0 {
        let old = live.0.get(path);
        if old.unwrap_or(&Value::Null) != new {
            changes.push(change(path, old.cloned(), Some(new.clone()), rules));
        }
    }
    for (path, old) in &live.0 {
        let owned = rules.owned.iter().any(|prefix| path.starts_with(prefix));
        if owned && !desired.0.contains_key(path) {
            changes.push(change(path, Some(old.clone()), None, rules));
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

/// Every desired field as `(none) -> value`: what a create shows.
pub fn created(desired: &Fields) -> Vec<FieldChange> {
    created_with(&[], desired)
}

/// `created`, plus the identity fields a reader wants to see on a create (engine, project,
/// username, domain) although they are never diffed.
pub fn created_with(identity: &[(&str, Value)], desired: &Fields) -> Vec<FieldChange> {
    let mut all = desired.clone();
    for (path, value) in identity {
        all.set(*path, value.clone());
    }
    all.0
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(path, value)| FieldChange {
            path: path.clone(),
            old: None,
            new: Some(value.clone()),
            sensitive: false,
            forces_replace: false,
        })
        .collect()
}

/// A secret field: shown as `(sensitive)`, its value never carried.
pub fn sensitive(path: &str) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        old: None,
        new: None,
        sensitive: true,
        forces_replace: false,
    }
}

/// The paths of `changes` that force a replace.
pub fn forced_by(changes: &[FieldChange]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.forces_replace)
        .map(|c| c.path.clone())
        .collect()
}

pub fn changed(changes: &[FieldChange], path: &str) -> bool {
    changes.iter().any(|c| c.path == path)
}

pub fn changed_under(changes: &[FieldChange], prefix: &str) -> bool {
    changes.iter().any(|c| c.path.starts_with(prefix))
}

fn change(path: &str, old: Option<Value>, new: Option<Value>, rules: &Rules) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        old: old.filter(|v| !v.is_null()),
        new: new.filter(|v| !v.is_null()),
        sensitive: false,
        forces_replace: rules.forcing.contains(&path),
    }
}
