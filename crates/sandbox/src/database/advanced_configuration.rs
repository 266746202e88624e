//! The advanced configuration of a database service: the engine settings a user may change
//! (`pg.log_min_duration_statement`, `mysql.sql_mode`, ...), per engine, and the checks a
//! `PUT .../advancedConfiguration` passes, and its three routes.
//!
//! The real model: `GET .../advancedConfiguration` answers a map of string to string (the
//! settings set so far; a new service has none), `PUT` takes the same map, and
//! `GET .../capabilities/advancedConfiguration` lists the properties
//! (`{name, description, type, minimum, maximum, values}`, type `boolean`, `double`, `long` or
//! `string`). The property names and ranges below follow the engines' own settings as OVHcloud
//! exposes them (the `pg.` / `mysql.` / ... prefixes, as in the Terraform provider's examples);
//! the list is a realistic subset, not the whole catalogue.
//!
//! Choices, where the real API is not documented:
//! - A PUT replaces the whole set: a key left out goes back to the engine default (the
//!   Terraform provider always sends its whole map). Values are JSON strings, as in the model.
//! - A PUT applies at once: the service stays `READY` (no `UPDATING`). The provider does not
//!   wait after this PUT, and the managed engines apply these settings without a rebuild.
//! - A PUT needs a `READY` service (`409 ServiceNotReady`), like every other service PUT. The
//!   same map again is accepted (200), not `NoUpdate`.
//! - An unknown key or a value of the wrong type or outside the range is
//!   `400 Client::BadRequest::InvalidAdvancedConfiguration`, naming the key, the value and what
//!   is accepted.

use super::{read_service, write_service, Answer, Engine, Sb};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The type of a property, as `capabilities/advancedConfiguration` names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Boolean,
    /// An integer in `[min, max]`.
    Long {
        min: i64,
        max: i64,
    },
    /// A number in `[min, max]`.
    Double {
        min: f64,
        max: f64,
    },
    /// One of these values.
    Enum(&'static [&'static str]),
    /// Free text up to `max_len` characters.
    Text {
        max_len: usize,
    },
    /// A comma-separated list of these values (`mysql.sql_mode`).
    EnumList(&'static [&'static str]),
}

/// One setting of an engine.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
}

const fn long(name: &'static str, description: &'static str, min: i64, max: i64) -> Property {
    Property {
        name,
        description,
        kind: Kind::Long { min, max },
    }
}

const fn boolean(name: &'static str, description: &'static str) -> Property {
    Property {
        name,
        description,
        kind: Kind::Boolean,
    }
}

const fn one_of(
    name: &'static str,
    description: &'static str,
    values: &'static [&'static str],
) -> Property {
    Property {
        name,
        description,
        kind: Kind::Enum(values),
    }
}

const POSTGRESQL: &[Property] = &[
    long(
        "pg.autovacuum_naptime",
        "Minimum delay between autovacuum runs on any database, in seconds",
        1,
        86_400,
    ),
    long(
        "pg.deadlock_timeout",
        "Time to wait on a lock before checking for a deadlock, in milliseconds",
        500,
        1_800_000,
    ),
    one_of(
        "pg.default_toast_compression",
        "Default TOAST compression method",
        &["lz4", "pglz"],
    ),
    long(
        "pg.idle_in_transaction_session_timeout",
        "Time after which an idle session inside a transaction is closed, in seconds (0: never)",
        0,
        604_800,
    ),
    boolean("pg.jit", "Enable the JIT compiler"),
    one_of(
        "pg.log_error_verbosity",
        "Detail written in the server log for each message",
        &["TERSE", "DEFAULT", "VERBOSE"],
    ),
    long(
        "pg.log_min_duration_statement",
        "Log statements that take at least this many milliseconds (-1: none)",
        -1,
        86_400_000,
    ),
    long(
        "pg.max_connections",
        "Maximum number of connections",
        25,
        10_000,
    ),
    long(
        "pg.max_parallel_workers",
        "Maximum number of parallel workers",
        0,
        96,
    ),
    one_of(
        "pg.pg_stat_statements.track",
        "Which statements pg_stat_statements counts",
        &["all", "top", "none"],
    ),
    long(
        "pg.temp_file_limit",
        "Maximum size of temporary files per process, in kB (-1: unlimited)",
        -1,
        2_147_483_647,
    ),
    one_of(
        "pg.track_io_timing",
        "Collect timing statistics for database I/O",
        &["off", "on"],
    ),
    Property {
        name: "shared_buffers_percentage",
        description: "Share of the memory given to shared buffers, in percent",
        kind: Kind::Double {
            min: 20.0,
            max: 60.0,
        },
    },
    long(
        "work_mem",
        "Memory of each sort or hash operation before spilling to disk, in MB",
        1,
        1_024,
    ),
];

const MYSQL_SQL_MODES: &[&str] = &[
    "ALLOW_INVALID_DATES",
    "ANSI",
    "ANSI_QUOTES",
    "ERROR_FOR_DIVISION_BY_ZERO",
    "HIGH_NOT_PRECEDENCE",
    "IGNORE_SPACE",
    "NO_AUTO_VALUE_ON_ZERO",
    "NO_DIR_IN_CREATE",
    "NO_ENGINE_SUBSTITUTION",
    "NO_UNSIGNED_SUBTRACTION",
    "NO_ZERO_DATE",
    "NO_ZERO_IN_DATE",
    "ONLY_FULL_GROUP_BY",
    "PIPES_AS_CONCAT",
    "REAL_AS_FLOAT",
    "STRICT_ALL_TABLES",
    "STRICT_TRANS_TABLES",
    "TIME_TRUNCATE_FRACTIONAL",
    "TRADITIONAL",
];

const MYSQL: &[Property] = &[
    long(
        "mysql.connect_timeout",
        "Seconds the server waits for a connect packet",
        2,
        3_600,
    ),
    Property {
        name: "mysql.default_time_zone",
        description: "Default time zone, as an offset ('+02:00') or 'SYSTEM'",
        kind: Kind::Text { max_len: 100 },
    },
    long(
        "mysql.innodb_lock_wait_timeout",
        "Seconds a transaction waits for a row lock",
        1,
        3_600,
    ),
    Property {
        name: "mysql.long_query_time",
        description: "Seconds after which a query counts as slow",
        kind: Kind::Double {
            min: 0.0,
            max: 3_600.0,
        },
    },
    long(
        "mysql.max_allowed_packet",
        "Largest packet or generated string, in bytes",
        102_400,
        1_073_741_824,
    ),
    boolean(
        "mysql.slow_query_log",
        "Write slow queries to the slow query log",
    ),
    Property {
        name: "mysql.sql_mode",
        description: "Global SQL modes, comma-separated",
        kind: Kind::EnumList(MYSQL_SQL_MODES),
    },
    boolean(
        "mysql.sql_require_primary_key",
        "Refuse tables without a primary key",
    ),
    long(
        "mysql.wait_timeout",
        "Seconds the server waits for activity on an idle connection",
        1,
        2_147_483,
    ),
];

const MAXMEMORY_POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "volatile-lru",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
    "volatile-lfu",
    "allkeys-lfu",
];

const REDIS: &[Property] = &[
    long(
        "redis.lfu_decay_time",
        "LFU counter decay time, in minutes",
        1,
        120,
    ),
    long(
        "redis.lfu_log_factor",
        "LFU counter logarithm factor",
        0,
        100,
    ),
    one_of(
        "redis.maxmemory_policy",
        "Eviction policy when memory is full",
        MAXMEMORY_POLICIES,
    ),
    Property {
        name: "redis.notify_keyspace_events",
        description: "Keyspace events to publish (letters of 'KEg$lshzxeA')",
        kind: Kind::Text { max_len: 32 },
    },
    one_of("redis.persistence", "Persistence to disk", &["off", "rdb"]),
    long(
        "redis.timeout",
        "Seconds before an idle client is closed (0: never)",
        0,
        31_536_000,
    ),
];

const VALKEY: &[Property] = &[
    long(
        "valkey.lfu_decay_time",
        "LFU counter decay time, in minutes",
        1,
        120,
    ),
    long(
        "valkey.lfu_log_factor",
        "LFU counter logarithm factor",
        0,
        100,
    ),
    one_of(
        "valkey.maxmemory_policy",
        "Eviction policy when memory is full",
        MAXMEMORY_POLICIES,
    ),
    Property {
        name: "valkey.notify_keyspace_events",
        description: "Keyspace events to publish (letters of 'KEg$lshzxeA')",
        kind: Kind::Text { max_len: 32 },
    },
    one_of("valkey.persistence", "Persistence to disk", &["off", "rdb"]),
    long(
        "valkey.timeout",
        "Seconds before an idle client is closed (0: never)",
        0,
        31_536_000,
    ),
];

const KAFKA: &[Property] = &[
    boolean(
        "kafka.auto_create_topics_enable",
        "Create a topic when a client uses one that does not exist",
    ),
    long(
        "kafka.default_replication_factor",
        "Replication factor of automatically created topics",
        1,
        10,
    ),
    one_of(
        "kafka.log_cleanup_policy",
        "Default cleanup policy of log segments",
        &["delete", "compact", "compact,delete"],
    ),
    long(
        "kafka.log_retention_hours",
        "Hours a log segment is kept (-1: forever)",
        -1,
        2_147_483_647,
    ),
    long(
        "kafka.message_max_bytes",
        "Largest record batch size allowed, in bytes",
        0,
        100_001_200,
    ),
    long(
        "kafka.num_partitions",
        "Partitions of automatically created topics",
        1,
        1_000,
    ),
];

const OPENSEARCH: &[Property] = &[
    boolean(
        "opensearch.action_auto_create_index_enabled",
        "Create an index when a document is written to one that does not exist",
    ),
    boolean(
        "opensearch.action_destructive_requires_name",
        "Refuse to delete indices by wildcard",
    ),
    long(
        "opensearch.http_max_content_length",
        "Largest HTTP request body, in bytes",
        1,
        2_147_483_647,
    ),
    long(
        "opensearch.indices_query_bool_max_clause_count",
        "Most clauses a boolean query may hold",
        64,
        4_096,
    ),
    boolean(
        "opensearch.override_main_response_version",
        "Answer the root endpoint with an Elasticsearch-compatible version",
    ),
    long(
        "opensearch.thread_pool_search_size",
        "Threads of the search thread pool",
        1,
        128,
    ),
];

const MONGODB: &[Property] = &[
    long(
        "mongod.net.maxIncomingConnections",
        "Maximum number of simultaneous connections",
        1,
        1_000_000,
    ),
    one_of(
        "mongod.operationProfiling.mode",
        "Which operations the profiler records",
        &["off", "slowOp", "all"],
    ),
    long(
        "mongod.operationProfiling.slowOpThresholdMs",
        "Operations slower than this many milliseconds are slow",
        0,
        36_000_000,
    ),
    long(
        "mongod.setParameter.transactionLifetimeLimitSeconds",
        "Lifetime of a multi-document transaction, in seconds",
        1,
        86_400,
    ),
];

/// The settings of `engine` (empty for an engine without any).
pub fn properties(engine: &str) -> &'static [Property] {
    match engine {
        "postgresql" => POSTGRESQL,
        "mysql" => MYSQL,
        "redis" => REDIS,
        "valkey" => VALKEY,
        "kafka" => KAFKA,
        "opensearch" => OPENSEARCH,
        "mongodb" => MONGODB,
        _ => &[],
    }
}

impl Property {
    /// `cloud.project.database.capabilities.advancedConfiguration.Property`.
    pub fn to_json(&self) -> Value {
        let (kind, minimum, maximum, values) = match self.kind {
            Kind::Boolean => ("boolean", Value::Null, Value::Null, Value::Null),
            Kind::Long { min, max } => ("long", json!(min), json!(max), Value::Null),
            Kind::Double { min, max } => ("double", json!(min), json!(max), Value::Null),
            Kind::Enum(values) | Kind::EnumList(values) => {
                ("string", Value::Null, Value::Null, json!(values))
            }
            Kind::Text { .. } => ("string", Value::Null, Value::Null, Value::Null),
        };
        json!({
            "name": self.name,
            "description": self.description,
            "type": kind,
            "minimum": minimum,
            "maximum": maximum,
            "values": values,
        })
    }

    /// Checks one value; the error says what is accepted.
    fn check(&self, value: &str) -> Result<(), String> {
        match self.kind {
            Kind::Boolean => match value {
                "true" | "false" => Ok(()),
                _ => Err("a boolean, \"true\" or \"false\"".into()),
            },
            Kind::Long { min, max } => match value.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(format!("an integer from {min} to {max}")),
            },
            Kind::Double { min, max } => match value.parse::<f64>() {
                Ok(n) if n.is_finite() && (min..=max).contains(&n) => Ok(()),
                _ => Err(format!("a number from {min} to {max}")),
            },
            Kind::Enum(values) => {
                if values.contains(&value) {
                    Ok(())
                } else {
                    Err(format!("one of {}", values.join(", ")))
                }
            }
            Kind::EnumList(values) => {
                if value.split(',').all(|v| values.contains(&v.trim())) {
                    Ok(())
                } else {
                    Err(format!("a comma-separated list of {}", values.join(", ")))
                }
            }
            Kind::Text { max_len } => {
                if value.chars().count() <= max_len {
                    Ok(())
                } else {
                    Err(format!("text of at most {max_len} characters"))
                }
            }
        }
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::bad_request("InvalidAdvancedConfiguration", message)
}

/// Parses and checks the body of `PUT .../advancedConfiguration` for `engine`: a JSON object
/// of string values, every key a property of the engine, every value acceptable.
pub fn parse(engine: &str, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("", format!("Invalid body: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "",
            "Invalid body: expected an object of setting names to string values",
        ));
    };
    let known = properties(engine);
    let mut settings = BTreeMap::new();
    for (key, value) in fields {
        let Some(property) = known.iter().find(|p| p.name == key) else {
            let names: Vec<&str> = known.iter().map(|p| p.name).collect();
            return Err(invalid(format!(
                "{key} is not an advanced configuration property of {engine}; known: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        let Value::String(text) = value else {
            return Err(invalid(format!(
                "{key}: the value must be a JSON string, got {value}"
            )));
        };
        property
            .check(&text)
            .map_err(|accepted| invalid(format!("{key}: {text:?} is not {accepted}")))?;
        settings.insert(key, text);
    }
    Ok(settings)
}

pub(super) async fn get(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, _| {
        Ok(Json(json!(s.advanced_configuration)))
    })
}

/// Replaces the settings at once; the service stays `READY` (the choices are listed above).
pub(super) async fn put(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    write_service(&sb, &project, &engine, &id, |s, _, now| {
        s.ensure_ready(now)?;
        s.advanced_configuration = parse(&s.engine, &body)?;
        Ok(Json(json!(s.advanced_configuration)))
    })
}

pub(super) async fn capabilities(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, _| {
        Ok(Json(
            properties(&s.engine).iter().map(|p| p.to_json()).collect(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_with_offers_has_properties_with_unique_names() {
        for engine in [
            "mongodb",
            "postgresql",
            "mysql",
            "redis",
            "valkey",
            "kafka",
            "opensearch",
        ] {
            let names: std::collections::BTreeSet<&str> =
                properties(engine).iter().map(|p| p.name).collect();
            assert!(!names.is_empty(), "{engine}");
            assert_eq!(names.len(), properties(engine).len(), "{engine}");
        }
    }

    #[test]
    fn values_are_checked_against_their_property() {
        let ok = |engine: &str, body: &str| parse(engine, body.as_bytes());
        assert!(ok("postgresql", r#"{"pg.log_min_duration_statement": "1000"}"#).is_ok());
        assert!(ok(
            "postgresql",
            r#"{"pg.jit": "true", "shared_buffers_percentage": "25.5"}"#
        )
        .is_ok());
        assert!(ok(
            "mysql",
            r#"{"mysql.sql_mode": "ANSI,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,STRICT_ALL_TABLES"}"#
        )
        .is_ok());

        let message =
            |engine: &str, body: &str| parse(engine, body.as_bytes()).unwrap_err().message;
        assert_eq!(
            message("postgresql", r#"{"pg.log_min_duration_statement": "-2"}"#),
            "pg.log_min_duration_statement: \"-2\" is not an integer from -1 to 86400000"
        );
        assert_eq!(
            message("postgresql", r#"{"pg.jit": "yes"}"#),
            "pg.jit: \"yes\" is not a boolean, \"true\" or \"false\""
        );
        assert_eq!(
            message("postgresql", r#"{"pg.jit": true}"#),
            "pg.jit: the value must be a JSON string, got true"
        );
        assert!(message("postgresql", r#"{"mysql.sql_mode": "ANSI"}"#)
            .starts_with("mysql.sql_mode is not an advanced configuration property of postgresql; known: pg.autovacuum_naptime, "));
        assert_eq!(
            parse("redis", br#"{"redis.persistence": "aof"}"#)
                .unwrap_err()
                .class,
            "Client::BadRequest::InvalidAdvancedConfiguration"
        );
        assert_eq!(
            parse("kafka", b"[]").unwrap_err().class,
            "Client::BadRequest"
        );
    }
}
