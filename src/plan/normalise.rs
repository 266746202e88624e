//! Canonical forms the diff compares, so that two spellings of the same thing never show up as
//! a change. Each family keeps its own (`family::database::normalise`: CIDR blocks, usernames,
//! role sets, maintenance times, regions; `family::hosting::normalise`: domains, folders,
//! flags); here are the rules every family shares: live objects on their way out
//! (`DELETING`) and on their way in (busy).

/// A live object on its way out (`DELETING`, `deleting`) is treated as absent: a create is
/// planned (apply waits for the old one to go), and it is neither unmanaged nor digested.
pub fn is_leaving(status: &str) -> bool {
    status.eq_ignore_ascii_case("deleting")
}

/// A status on the way to `READY` / `created` / `running`: the API is still working on the
/// object (database `CREATING`, `PENDING`, `UPDATING`; a hosting task; a stack `creating`).
pub fn is_busy(status: &str) -> bool {
    status.eq_ignore_ascii_case("pending")
        || HOSTING_ON_THE_WAY
            .iter()
            .any(|busy| status.eq_ignore_ascii_case(busy))
}

/// A hosting object's statuses on the way to `created` (database `CREATING` and `UPDATING`
/// are the same words in capitals); the engine's hosting waits go through these.
pub const HOSTING_ON_THE_WAY: &[&str] = &[
    "creating",
    "updating",
    "importing",
    "regenerating",
    "checking",
    "dumping",
    "optimizing",
    "restoring",
];
