//! Plans, live states and step reports for the tests of `apply` and `report::apply`.

use crate::engine::{StepOutcome, StepReport};
use crate::live::{LiveScope, LiveService, LiveState, Scope, ScopeState};
use crate::manifest::model::{Address, Kind};
use crate::plan::model::{Action, Change, Plan};
use serde_json::Value;

pub fn address(kind: Kind, name: &str) -> Address {
    Address {
        kind,
        name: name.to_string(),
    }
}

pub fn change(kind: Kind, name: &str, action: Action, live_id: Option<&str>) -> Change {
    Change {
        address: address(kind, name),
        action,
        wave: 0,
        fields: Vec::new(),
        calls: Vec::new(),
        live_id: live_id.map(str::to_string),
        depends_on: Vec::new(),
    }
}

pub fn delete() -> Action {
    Action::Delete {
        reason: "no manifest names it".into(),
    }
}

pub fn replace(field: &str) -> Action {
    Action::Replace {
        forced_by: vec![field.into()],
    }
}

pub fn live_service(id: &str, protected: bool) -> LiveService {
    LiveService {
        id: id.into(),
        engine: "mongodb".into(),
        description: format!("svc-{id}"),
        status: "READY".into(),
        created_at: String::new(),
        plan: "production".into(),
        version: "7.0".into(),
        flavor: "db2-4".into(),
        node_count: 3,
        region: "GRA".into(),
        storage: None,
        network_id: None,
        subnet_id: None,
        ip_restrictions: Vec::new(),
        maintenance_time: None,
        deletion_protection: Some(protected),
        users: None,
        raw: Value::Null,
    }
}

pub fn live(services: Vec<LiveService>) -> LiveState {
    let mut live = LiveState::default();
    live.scopes.insert(
        Scope::Database {
            project: "p1".into(),
            engine: "mongodb".into(),
        },
        ScopeState::Known(LiveScope::Database { services }),
    );
    live
}

pub fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        changes,
        ..Plan::default()
    }
}

pub fn step(kind: Kind, name: &str, action: Action, outcome: StepOutcome) -> StepReport {
    StepReport {
        address: address(kind, name),
        action,
        outcome,
        live_id: None,
        elapsed_ms: 1500,
        adopted: false,
        warnings: Vec::new(),
        resumed: false,
    }
}

pub fn failed() -> StepOutcome {
    StepOutcome::Failed {
        message: "the service is not ready".into(),
        status: Some(409),
        class: Some("Client::Conflict::ServiceNotReady".into()),
        query_id: Some("SB.ext-1.1.2.3".into()),
    }
}

pub fn in_progress() -> StepOutcome {
    StepOutcome::InProgress {
        last_status: "CREATING".into(),
    }
}
