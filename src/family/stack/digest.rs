//! The digests of the stacks' scope, for apply's stale-plan guard (`plan::digest`): its keys
//! (`DigestKey`, rendered as a saved plan's `digests` keys) and `digest`, which fills them.
//!
//! Keys: `stackMysql` (the ids), `stackMysql/{id}`.

use crate::family;
use crate::live::{LiveScope, Scope};
use crate::manifest::model::Kind;
use crate::plan::Digests;
use std::fmt;

/// What one digest of the stacks' scope digests: a cluster, or the listing of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestKey {
    /// `stackMysql`: the ids of every managed MySQL stack.
    Stacks,
    /// `stackMysql/{id}`.
    Stack { id: String },
}

impl fmt::Display for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestKey::Stacks => f.write_str("stackMysql"),
            DigestKey::Stack { id } => write!(f, "stackMysql/{id}"),
        }
    }
}

impl DigestKey {
    /// What the key digests, in words (`family::DigestKey::label`).
    pub(crate) fn label(&self, names: &dyn family::KeyNames) -> Option<String> {
        match self {
            DigestKey::Stacks => Some("the managed MySQL stacks".to_string()),
            DigestKey::Stack { id } => names.planned(id),
        }
    }

    /// The listings the scope always has, whatever it holds.
    pub(crate) fn listings() -> Vec<DigestKey> {
        vec![DigestKey::Stacks]
    }

    /// For a listing: the kind of the objects it lists.
    pub(crate) fn lists(&self) -> Option<Kind> {
        match self {
            DigestKey::Stacks => Some(Kind::ManagedStackMysql),
            DigestKey::Stack { .. } => None,
        }
    }

    /// For a listing: the key of its object `id`.
    pub(crate) fn child(&self, id: &str) -> Option<DigestKey> {
        match self {
            DigestKey::Stacks => Some(DigestKey::Stack { id: id.to_owned() }),
            DigestKey::Stack { .. } => None,
        }
    }

    /// For an object: the listings under it (none: no object of this family lists others).
    pub(crate) fn listings_under(&self) -> Vec<DigestKey> {
        Vec::new()
    }
}

impl From<DigestKey> for family::DigestKey {
    fn from(key: DigestKey) -> Self {
        family::DigestKey::Stack(key)
    }
}

/// The digests of the stacks' scope: every cluster.
pub(super) fn digest(scope: &Scope, live: &LiveScope, out: &mut Digests) {
    let (Scope::StackMysql, LiveScope::StackMysql { stacks }) = (scope, live) else {
        return;
    };
    out.listing(DigestKey::Stacks, stacks.iter().map(|s| s.id.as_str()));
    for stack in stacks {
        let key = DigestKey::Stack {
            id: stack.id.clone(),
        };
        out.object(key, stack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text is a contract (saved plans' `digests` keys): every key renders exactly as
    /// before, and the listing's clusters render under it.
    #[test]
    fn keys_render_as_saved_plans_hold_them() {
        let [stacks] = &DigestKey::listings()[..] else {
            panic!("one listing")
        };
        assert_eq!(stacks.to_string(), "stackMysql");
        assert_eq!(stacks.lists(), Some(Kind::ManagedStackMysql));
        let stack = stacks.child("st-1").unwrap();
        assert_eq!(stack.to_string(), "stackMysql/st-1");
        assert_eq!((stack.lists(), stack.child("x")), (None, None));
        assert_eq!(stack.listings_under(), Vec::new());
        assert_eq!(
            family::DigestKey::from(stack).to_string(),
            "stackMysql/st-1"
        );
    }
}
