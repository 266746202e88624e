//! RunAbove managed MySQL stacks, read live on RunAbove's API (`Reader::on_api(&RUNABOVE)`):
//! `GET /stackMysql` (`{"products": [{"id"}]}`), then each cluster, mapped to `LiveStack`.
//! A cluster has no name: which manifest stands for which cluster is the planner's rule
//! (`family::stack::claims`), and it needs every cluster, so the whole family is one scope.

use crate::family::stack::{stack_path, RUNABOVE};
use crate::live::fields::opt_u32;
use crate::live::model::{LiveScope, LiveStack};
use crate::live::read::{ReadError, Reader};
use futures::future::try_join_all;
use serde_json::Value;

pub use crate::family::stack::STACKS_PATH as LIST;

pub(crate) async fn read_scope(reader: &Reader<'_>) -> Result<LiveScope, ReadError> {
    let reader = reader.on_api(&RUNABOVE);
    let listing = reader.get(LIST).await?;
    let ids = product_ids(&listing).ok_or_else(|| {
        ReadError::malformed(LIST, "something other than {\"products\": [{\"id\"}]}")
    })?;
    let read = try_join_all(ids.into_iter().map(|id| {
        let path = stack_path(&id);
        let reader = &reader;
        async move {
            match reader.get_if_present(&path).await? {
                None => Ok(None),
                Some(raw) => stack(id, raw)
                    .map(Some)
                    .map_err(|what| ReadError::malformed(&path, what)),
            }
        }
    }))
    .await?;
    // The claim order is the listing's (`family::stack::claims`).
    let stacks: Vec<LiveStack> = read.into_iter().flatten().collect();
    Ok(LiveScope::StackMysql { stacks })
}

/// The cluster ids of a `GET /stackMysql` answer, in its order (numbers kept as their text).
pub fn product_ids(listing: &Value) -> Option<Vec<String>> {
    listing
        .get("products")?
        .as_array()?
        .iter()
        .map(|product| match product.get("id")? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// A `/stackMysql/{id}` answer as a `LiveStack` (the answer carries no id: the listing's).
pub fn stack(id: String, raw: Value) -> Result<LiveStack, &'static str> {
    let active = raw
        .get("active")
        .and_then(Value::as_bool)
        .ok_or("a mysql cluster without `active`")?;
    let nodes = raw
        .get("nodes")
        .and_then(Value::as_array)
        .map(|nodes| nodes.len() as u32)
        .or_else(|| opt_u32(&raw, "nodes"))
        .ok_or("a mysql cluster without `nodes`")?;
    Ok(LiveStack {
        id,
        nodes,
        active,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_guides_answers_map_to_a_stack() {
        let listing = json!({"products": [{"id": 1001}, {"id": "1002"}]});
        assert_eq!(
            product_ids(&listing),
            Some(vec!["1001".into(), "1002".into()])
        );
        assert_eq!(product_ids(&json!(["1001"])), None);
        let raw = json!({
            "active": false,
            "nodes": [
                {"addr": "10.0.0.1", "product_id": 1001},
                {"addr": "10.0.0.2", "product_id": 1001}
            ],
            "product_id": 1001
        });
        assert_eq!(
            stack("1001".into(), raw.clone()).unwrap(),
            LiveStack {
                id: "1001".into(),
                nodes: 2,
                active: false,
                raw,
            }
        );
        assert!(stack("1".into(), json!({"nodes": []})).is_err());
    }
}
