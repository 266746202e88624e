//! RunAbove managed MySQL stacks, read live: `GET /stackMysql` (ids, oldest first), then each
//! stack, mapped to `LiveStack`. The API has no name or description: which manifest claims
//! which stack is the planner's rule, and it needs every stack, so the whole family is one
//! scope.

use super::fields::{opt_string, opt_u32, string};
use super::model::{LiveScope, LiveStack};
use super::read::{segment, ReadError, Reader};
use futures::future::try_join_all;
use serde_json::Value;

pub(crate) async fn read_scope(reader: &Reader<'_>) -> Result<LiveScope, ReadError> {
    let list = "/stackMysql";
    let ids = reader.list(list).await?;
    let read = try_join_all(ids.iter().map(|id| {
        let path = format!("{list}/{}", segment(id));
        async move {
            match reader.get_if_present(&path).await? {
                None => Ok(None),
                Some(raw) => stack(raw)
                    .map(Some)
                    .map_err(|what| ReadError::malformed(&path, what)),
            }
        }
    }))
    .await?;
    let mut stacks: Vec<LiveStack> = read.into_iter().flatten().collect();
    // The claim order: oldest first, ties by id.
    stacks.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(LiveScope::StackMysql { stacks })
}

/// A `/stackMysql/{id}` answer as a `LiveStack` (`nodes` defaults to 1, RunAbove's default).
pub fn stack(raw: Value) -> Result<LiveStack, &'static str> {
    if !raw.is_object() {
        return Err("something other than a mysql stack");
    }
    let id = opt_string(&raw, "id").ok_or("a mysql stack without an id")?;
    Ok(LiveStack {
        id,
        region: string(&raw, "region"),
        flavor: string(&raw, "flavor"),
        nodes: opt_u32(&raw, "nodes").unwrap_or(1),
        version: string(&raw, "version"),
        status: string(&raw, "status"),
        created_at: string(&raw, "createdAt"),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stack_maps_its_fields() {
        let raw = json!({
            "id": "5d1c3c0e-2f4b-4f7e-9d0c-8b1f0e7a6c21", "name": null, "region": "SBG-1",
            "flavor": "ra.s", "nodes": 3, "version": "5.6", "status": "running",
            "createdAt": "2025-03-01T10:00:00+00:00",
            "endpoint": {"host": "5d1c3c0e.stackmysql.sbg-1.runabove.io", "port": 3306}
        });
        assert_eq!(
            stack(raw.clone()).unwrap(),
            LiveStack {
                id: "5d1c3c0e-2f4b-4f7e-9d0c-8b1f0e7a6c21".into(),
                region: "SBG-1".into(),
                flavor: "ra.s".into(),
                nodes: 3,
                version: "5.6".into(),
                status: "running".into(),
                created_at: "2025-03-01T10:00:00+00:00".into(),
                raw,
            }
        );
    }

    #[test]
    fn a_stack_without_nodes_has_one_and_without_id_is_malformed() {
        let raw = json!({"id": "s", "region": "BHS-1", "flavor": "ra.m", "status": "creating"});
        assert_eq!(stack(raw).unwrap().nodes, 1);
        assert!(stack(json!({"region": "BHS-1"})).is_err());
    }
}
