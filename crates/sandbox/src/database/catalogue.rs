//! The Public Cloud Databases catalogue as data: engines and their versions, plans, flavors,
//! regions, and the offers that tie them together. `GET .../database/capabilities` and
//! `GET .../database/availability` are rendered from it, and every create or update of a
//! database service is validated against it.
//!
//! The values are plausible, not a copy of OVH's live catalogue (which changes every month).
//! What the sandbox promises is the *shape* of the real answers and a catalogue with the
//! situations a client must cope with: several versions per engine with one `DEPRECATED`
//! (postgresql 14, redis 7.2, kafka 3.7, opensearch 1) and one `END_OF_SALE` (mongodb 6.0, which
//! can no longer be ordered), a deprecated engine (redis, replaced by valkey), a flavor that
//! exists but is offered nowhere (`db2-free`: a create with it is `NoMatchingAvailability`), and
//! plans without a private network (mongodb `discovery`, every `essential`).
//!
//! Node counts per engine x plan (the real rules, where known, from the OVH docs):
//! | engine | plan: nodes |
//! |---|---|
//! | mongodb | discovery 3..3 (docs 2025), production 3..8, advanced 3..8 |
//! | postgresql, mysql | essential 1..1, business 2..2, enterprise 3..3 |
//! | redis, valkey | essential 1..1, business 2..2 |
//! | kafka | business 3..3, enterprise 3..9 |
//! | opensearch | essential 1..1, business 3..3, enterprise 3..12 |
//!
//! Storage (GB, per the `disk.size` of a service): from the flavor's own storage up to four times
//! that, by steps of 10, except mongodb `discovery` (fixed at the flavor's storage) and
//! redis/valkey (no configurable storage: `specifications.storage` is absent).
//!
//! Availability rows are engine x version x plan x flavor x region x network (`public`, plus
//! `private` for plans that allow a private network): 384 rows in all.

use serde_json::{json, Value};
use std::cmp::Ordering;

/// Every engine path segment of the API (S-2025 `cloud.project.database.EngineEnum`), in the
/// real spelling. Only some of them have offers in the catalogue (`ENGINES`).
pub const ENGINE_SEGMENTS: &[&str] = &[
    "cassandra",
    "clickhouse",
    "grafana",
    "kafka",
    "kafkaConnect",
    "kafkaMirrorMaker",
    "m3aggregator",
    "m3db",
    "mongodb",
    "mysql",
    "opensearch",
    "postgresql",
    "redis",
    "valkey",
];

/// Every region an offer may be in (`capabilities.regions`).
pub const REGIONS: &[&str] = &["BHS", "DE", "GRA", "SBG", "UK", "WAW"];

/// The disk types a service's storage may have (`capabilities.disks`).
pub const DISK_TYPES: &[&str] = &["high-speed", "high-speed-gen2"];

/// `cloud.project.database.availability.StatusEnum` (S-2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleStatus {
    Beta,
    Stable,
    Deprecated,
    EndOfSale,
    EndOfLife,
    Unavailable,
}

impl LifecycleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStatus::Beta => "BETA",
            LifecycleStatus::Stable => "STABLE",
            LifecycleStatus::Deprecated => "DEPRECATED",
            LifecycleStatus::EndOfSale => "END_OF_SALE",
            LifecycleStatus::EndOfLife => "END_OF_LIFE",
            LifecycleStatus::Unavailable => "UNAVAILABLE",
        }
    }

    /// Whether a new service may still be ordered on something in this status.
    pub fn can_order(self) -> bool {
        matches!(
            self,
            LifecycleStatus::Beta | LifecycleStatus::Stable | LifecycleStatus::Deprecated
        )
    }
}

/// When something went on sale and when it stops (`cloud.project.database.availability.Lifecycle`).
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle {
    pub status: LifecycleStatus,
    pub start_date: &'static str,
    pub end_of_sale: Option<&'static str>,
    pub end_of_life: Option<&'static str>,
}

impl Lifecycle {
    const fn stable(start_date: &'static str) -> Self {
        Lifecycle {
            status: LifecycleStatus::Stable,
            start_date,
            end_of_sale: None,
            end_of_life: None,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "startDate": self.start_date,
            "endOfSale": self.end_of_sale,
            "endOfLife": self.end_of_life,
            "status": self.status.as_str(),
        })
    }
}

/// A node flavor (`capabilities.flavors[]`). Memory and storage in GB.
#[derive(Debug)]
pub struct Flavor {
    pub name: &'static str,
    pub core: u32,
    pub memory: u32,
    pub storage: u32,
    pub order: u32,
    pub tags: &'static [&'static str],
    pub lifecycle: Lifecycle,
}

impl Flavor {
    /// The type of disk a node of this flavor has.
    pub fn disk_type(&self) -> &'static str {
        if self.name.starts_with("db1-") {
            "high-speed"
        } else {
            "high-speed-gen2"
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "core": self.core,
            "memory": self.memory,
            "storage": self.storage,
            "order": self.order,
            "tags": self.tags,
            "lifecycle": self.lifecycle.to_json(),
            "specifications": {
                "core": self.core,
                "memory": { "unit": "GB", "value": self.memory },
                "storage": { "unit": "GB", "value": self.storage },
            },
        })
    }
}

const fn flavor(name: &'static str, core: u32, memory: u32, storage: u32, order: u32) -> Flavor {
    Flavor {
        name,
        core,
        memory,
        storage,
        order,
        tags: &[],
        lifecycle: Lifecycle::stable("2021-03-01T00:00:00Z"),
    }
}

pub const FLAVORS: &[Flavor] = &[
    flavor("db1-4", 1, 4, 80, 10),
    flavor("db1-7", 2, 7, 160, 11),
    flavor("db1-15", 4, 15, 320, 12),
    flavor("db1-30", 8, 30, 640, 13),
    flavor("db1-60", 16, 60, 1280, 14),
    Flavor {
        tags: &["free"],
        lifecycle: Lifecycle {
            status: LifecycleStatus::Beta,
            start_date: "2025-06-01T00:00:00Z",
            end_of_sale: None,
            end_of_life: None,
        },
        ..flavor("db2-free", 1, 1, 5, 1)
    },
    flavor("db2-2", 1, 2, 10, 2),
    flavor("db2-4", 2, 4, 20, 3),
    flavor("db2-8", 2, 8, 40, 4),
    flavor("db2-15", 4, 15, 80, 5),
    flavor("db2-30", 8, 30, 160, 6),
    flavor("db2-60", 16, 60, 320, 7),
    flavor("db2-120", 32, 120, 640, 8),
];

/// A plan (`capabilities.plans[]`). `backup_retention` is an ISO 8601 duration.
#[derive(Debug)]
pub struct Plan {
    pub name: &'static str,
    pub description: &'static str,
    pub backup_retention_days: u32,
    /// Plans are ordered by level: moving to a lower `order` is a downgrade.
    pub order: u32,
}

impl Plan {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "backupRetention": format!("P{}D", self.backup_retention_days),
            "order": self.order,
            "tags": [],
            "lifecycle": Lifecycle::stable("2021-03-01T00:00:00Z").to_json(),
        })
    }
}

pub const PLANS: &[Plan] = &[
    Plan {
        name: "discovery",
        description: "Discovery plan, for development and testing",
        backup_retention_days: 1,
        order: 0,
    },
    Plan {
        name: "essential",
        description: "Essential plan, one node, for non-critical workloads",
        backup_retention_days: 2,
        order: 1,
    },
    Plan {
        name: "production",
        description: "Production plan, a replica set for production workloads",
        backup_retention_days: 2,
        order: 2,
    },
    Plan {
        name: "business",
        description: "Business plan, high availability for production workloads",
        backup_retention_days: 14,
        order: 3,
    },
    Plan {
        name: "advanced",
        description: "Advanced plan, dedicated resources for demanding workloads",
        backup_retention_days: 7,
        order: 4,
    },
    Plan {
        name: "enterprise",
        description: "Enterprise plan, high availability and read replicas",
        backup_retention_days: 30,
        order: 5,
    },
];

/// The options a service may have (`capabilities.options[]`; types from
/// `cloud.project.database.TypeEnum`).
const OPTIONS: &[(&str, &str)] = &[
    ("backup", "boolean"),
    ("backup-retention", "duration"),
    ("deletion-protection", "boolean"),
    ("ip-restriction", "string"),
    ("maintenance-time", "string"),
    ("private-network", "boolean"),
    ("prometheus", "boolean"),
];

/// How the storage of an offer can be sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageRule {
    /// No configurable storage (in-memory engines).
    None,
    /// Exactly the flavor's storage.
    Fixed,
    /// From the flavor's storage to `factor` times it, by `step` GB.
    Scalable { factor: u32, step: u32 },
}

const SCALABLE: StorageRule = StorageRule::Scalable {
    factor: 4,
    step: 10,
};

/// What an engine sells under one plan: node counts, flavors, storage, network.
#[derive(Debug)]
pub struct Offer {
    pub plan: &'static str,
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub flavors: &'static [&'static str],
    pub storage: StorageRule,
    pub private_network: bool,
}

/// An engine version and its lifecycle.
#[derive(Debug)]
pub struct Version {
    pub name: &'static str,
    pub lifecycle: Lifecycle,
    pub upstream_end_of_life: Option<&'static str>,
}

const fn version(name: &'static str, start_date: &'static str) -> Version {
    Version {
        name,
        lifecycle: Lifecycle::stable(start_date),
        upstream_end_of_life: None,
    }
}

/// An engine with offers (`capabilities.engines[]`).
#[derive(Debug)]
pub struct Engine {
    pub name: &'static str,
    /// `analysis`, `operational` or `streaming`.
    pub category: &'static str,
    pub description: &'static str,
    pub ssl_modes: &'static [&'static str],
    /// `distributed`, `n/a` or `replicated`.
    pub storage: &'static str,
    pub default_version: &'static str,
    pub default_plan: &'static str,
    pub versions: &'static [Version],
    pub offers: &'static [Offer],
    pub regions: &'static [&'static str],
    pub lifecycle: Lifecycle,
    /// Whether services of this engine are backed up (null `backups` on the service otherwise).
    pub backups: bool,
}

const MAIN_REGIONS: &[&str] = &["GRA", "SBG", "DE"];

pub const ENGINES: &[Engine] = &[
    Engine {
        name: "mongodb",
        category: "operational",
        description: "MongoDB is a document-oriented NoSQL database",
        ssl_modes: &["required"],
        storage: "replicated",
        default_version: "8.0",
        default_plan: "production",
        versions: &[
            Version {
                name: "6.0",
                lifecycle: Lifecycle {
                    status: LifecycleStatus::EndOfSale,
                    start_date: "2022-10-01T00:00:00Z",
                    end_of_sale: Some("2025-07-31T00:00:00Z"),
                    end_of_life: Some("2027-01-31T00:00:00Z"),
                },
                upstream_end_of_life: Some("2025-07-31T00:00:00Z"),
            },
            version("7.0", "2023-11-01T00:00:00Z"),
            version("8.0", "2025-02-01T00:00:00Z"),
        ],
        offers: &[
            Offer {
                plan: "discovery",
                min_nodes: 3,
                max_nodes: 3,
                flavors: &["db2-2"],
                storage: StorageRule::Fixed,
                private_network: false,
            },
            Offer {
                plan: "production",
                min_nodes: 3,
                max_nodes: 8,
                flavors: &["db2-4", "db2-8", "db2-15"],
                storage: SCALABLE,
                private_network: true,
            },
            Offer {
                plan: "advanced",
                min_nodes: 3,
                max_nodes: 8,
                flavors: &["db2-15", "db2-30"],
                storage: SCALABLE,
                private_network: true,
            },
        ],
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2021-03-01T00:00:00Z"),
        backups: true,
    },
    Engine {
        name: "postgresql",
        category: "operational",
        description: "PostgreSQL is a relational database",
        ssl_modes: &["require"],
        storage: "replicated",
        default_version: "17",
        default_plan: "business",
        versions: &[
            Version {
                name: "14",
                lifecycle: Lifecycle {
                    status: LifecycleStatus::Deprecated,
                    start_date: "2021-11-01T00:00:00Z",
                    end_of_sale: Some("2027-05-12T00:00:00Z"),
                    end_of_life: Some("2027-11-12T00:00:00Z"),
                },
                upstream_end_of_life: Some("2026-11-12T00:00:00Z"),
            },
            version("15", "2022-12-01T00:00:00Z"),
            version("16", "2023-11-01T00:00:00Z"),
            version("17", "2024-11-01T00:00:00Z"),
        ],
        offers: RELATIONAL_OFFERS,
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2021-03-01T00:00:00Z"),
        backups: true,
    },
    Engine {
        name: "mysql",
        category: "operational",
        description: "MySQL is a relational database",
        ssl_modes: &["REQUIRED"],
        storage: "replicated",
        default_version: "8",
        default_plan: "business",
        versions: &[version("8", "2021-06-01T00:00:00Z")],
        offers: RELATIONAL_OFFERS,
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2021-06-01T00:00:00Z"),
        backups: true,
    },
    Engine {
        name: "redis",
        category: "operational",
        description: "Redis is an in-memory key-value store (replaced by Valkey)",
        ssl_modes: &["required"],
        storage: "n/a",
        default_version: "7.2",
        default_plan: "essential",
        versions: &[Version {
            name: "7.2",
            lifecycle: Lifecycle {
                status: LifecycleStatus::Deprecated,
                start_date: "2023-10-01T00:00:00Z",
                end_of_sale: Some("2027-03-31T00:00:00Z"),
                end_of_life: Some("2027-09-30T00:00:00Z"),
            },
            upstream_end_of_life: None,
        }],
        offers: &[
            Offer {
                plan: "essential",
                min_nodes: 1,
                max_nodes: 1,
                flavors: &["db1-4"],
                storage: StorageRule::None,
                private_network: false,
            },
            Offer {
                plan: "business",
                min_nodes: 2,
                max_nodes: 2,
                flavors: &["db1-7"],
                storage: StorageRule::None,
                private_network: true,
            },
        ],
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle {
            status: LifecycleStatus::Deprecated,
            start_date: "2021-06-01T00:00:00Z",
            end_of_sale: Some("2027-03-31T00:00:00Z"),
            end_of_life: Some("2027-09-30T00:00:00Z"),
        },
        backups: true,
    },
    Engine {
        name: "valkey",
        category: "operational",
        description: "Valkey is an in-memory key-value store, compatible with Redis",
        ssl_modes: &["required"],
        storage: "n/a",
        default_version: "8.0",
        default_plan: "essential",
        versions: &[version("8.0", "2025-03-01T00:00:00Z")],
        offers: &[
            Offer {
                plan: "essential",
                min_nodes: 1,
                max_nodes: 1,
                flavors: &["db2-4", "db2-8"],
                storage: StorageRule::None,
                private_network: false,
            },
            Offer {
                plan: "business",
                min_nodes: 2,
                max_nodes: 2,
                flavors: &["db2-4", "db2-8", "db2-15"],
                storage: StorageRule::None,
                private_network: true,
            },
        ],
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2025-03-01T00:00:00Z"),
        backups: true,
    },
    Engine {
        name: "kafka",
        category: "streaming",
        description: "Kafka is a distributed event streaming platform",
        ssl_modes: &["required"],
        storage: "distributed",
        default_version: "3.8",
        default_plan: "business",
        versions: &[
            Version {
                name: "3.7",
                lifecycle: Lifecycle {
                    status: LifecycleStatus::Deprecated,
                    start_date: "2024-04-01T00:00:00Z",
                    end_of_sale: Some("2027-01-31T00:00:00Z"),
                    end_of_life: Some("2027-04-30T00:00:00Z"),
                },
                upstream_end_of_life: None,
            },
            version("3.8", "2024-10-01T00:00:00Z"),
        ],
        offers: &[
            Offer {
                plan: "business",
                min_nodes: 3,
                max_nodes: 3,
                flavors: &["db1-7", "db1-15"],
                storage: SCALABLE,
                private_network: true,
            },
            Offer {
                plan: "enterprise",
                min_nodes: 3,
                max_nodes: 9,
                flavors: &["db1-15", "db1-30"],
                storage: SCALABLE,
                private_network: true,
            },
        ],
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2021-06-01T00:00:00Z"),
        backups: false,
    },
    Engine {
        name: "opensearch",
        category: "analysis",
        description: "OpenSearch is a search and analytics engine",
        ssl_modes: &["required"],
        storage: "distributed",
        default_version: "2",
        default_plan: "business",
        versions: &[
            Version {
                name: "1",
                lifecycle: Lifecycle {
                    status: LifecycleStatus::Deprecated,
                    start_date: "2022-01-01T00:00:00Z",
                    end_of_sale: Some("2027-01-31T00:00:00Z"),
                    end_of_life: Some("2027-06-30T00:00:00Z"),
                },
                upstream_end_of_life: Some("2025-05-06T00:00:00Z"),
            },
            version("2", "2022-10-01T00:00:00Z"),
        ],
        offers: &[
            Offer {
                plan: "essential",
                min_nodes: 1,
                max_nodes: 1,
                flavors: &["db1-4"],
                storage: SCALABLE,
                private_network: false,
            },
            Offer {
                plan: "business",
                min_nodes: 3,
                max_nodes: 3,
                flavors: &["db1-7", "db1-15"],
                storage: SCALABLE,
                private_network: true,
            },
            Offer {
                plan: "enterprise",
                min_nodes: 3,
                max_nodes: 12,
                flavors: &["db1-15", "db1-30"],
                storage: SCALABLE,
                private_network: true,
            },
        ],
        regions: MAIN_REGIONS,
        lifecycle: Lifecycle::stable("2022-01-01T00:00:00Z"),
        backups: true,
    },
];

const RELATIONAL_OFFERS: &[Offer] = &[
    Offer {
        plan: "essential",
        min_nodes: 1,
        max_nodes: 1,
        flavors: &["db1-4", "db1-7"],
        storage: SCALABLE,
        private_network: false,
    },
    Offer {
        plan: "business",
        min_nodes: 2,
        max_nodes: 2,
        flavors: &["db1-7", "db1-15"],
        storage: SCALABLE,
        private_network: true,
    },
    Offer {
        plan: "enterprise",
        min_nodes: 3,
        max_nodes: 3,
        flavors: &["db1-15", "db1-30"],
        storage: SCALABLE,
        private_network: true,
    },
];

/// Whether `segment` is one of the API's engine path segments.
pub fn is_engine_segment(segment: &str) -> bool {
    ENGINE_SEGMENTS.contains(&segment)
}

/// The engine with offers named `name`.
pub fn engine(name: &str) -> Option<&'static Engine> {
    ENGINES.iter().find(|e| e.name == name)
}

pub fn flavor_named(name: &str) -> Option<&'static Flavor> {
    FLAVORS.iter().find(|f| f.name == name)
}

pub fn plan_named(name: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.name == name)
}

pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

impl Engine {
    pub fn version(&self, name: &str) -> Option<&'static Version> {
        // `versions` is `'static` for every engine in `ENGINES`.
        let versions: &'static [Version] = self.versions;
        versions.iter().find(|v| v.name == name)
    }

    pub fn offer(&self, plan: &str) -> Option<&'static Offer> {
        let offers: &'static [Offer] = self.offers;
        offers.iter().find(|o| o.plan == plan)
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "category": self.category,
            "defaultVersion": self.default_version,
            "description": self.description,
            "lifecycle": self.lifecycle.to_json(),
            "sslModes": self.ssl_modes,
            "storage": self.storage,
            "tags": [],
            "versions": self.versions.iter().map(|v| v.name).collect::<Vec<_>>(),
        })
    }
}

/// `public` or `private`.
pub const NETWORKS: &[&str] = &["public", "private"];

/// A storage range in GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageRange {
    pub minimum: u32,
    pub maximum: u32,
    pub step: u32,
}

impl StorageRange {
    pub fn contains(&self, size: u32) -> bool {
        size >= self.minimum
            && size <= self.maximum
            && (self.step == 0 || (size - self.minimum) % self.step == 0)
    }
}

/// One row of `GET .../database/availability`: something that can be ordered (or could be).
#[derive(Debug, Clone, Copy)]
pub struct Availability {
    pub engine: &'static Engine,
    pub version: &'static Version,
    pub offer: &'static Offer,
    pub plan: &'static Plan,
    pub flavor: &'static Flavor,
    pub region: &'static str,
    pub network: &'static str,
}

impl Availability {
    /// The storage a service on this row may have (`None`: not configurable).
    pub fn storage(&self) -> Option<StorageRange> {
        match self.offer.storage {
            StorageRule::None => None,
            StorageRule::Fixed => Some(StorageRange {
                minimum: self.flavor.storage,
                maximum: self.flavor.storage,
                step: 0,
            }),
            StorageRule::Scalable { factor, step } => Some(StorageRange {
                minimum: self.flavor.storage,
                maximum: self.flavor.storage * factor,
                step,
            }),
        }
    }

    /// The lifecycle of the row: the engine's if it is further along, else the version's.
    pub fn lifecycle(&self) -> Lifecycle {
        let engine = self.engine.lifecycle;
        let version = self.version.lifecycle;
        if rank(engine.status) > rank(version.status) {
            engine
        } else {
            version
        }
    }

    pub fn is_default(&self) -> bool {
        self.version.name == self.engine.default_version
            && self.offer.plan == self.engine.default_plan
            && self.offer.flavors.first() == Some(&self.flavor.name)
            && self.engine.regions.first() == Some(&self.region)
            && self.network == "public"
    }

    pub fn to_json(&self) -> Value {
        let storage = self.storage();
        let lifecycle = self.lifecycle();
        let gb = |value: u32| json!({ "unit": "GB", "value": value });
        let backup_days = self
            .engine
            .backups
            .then_some(self.plan.backup_retention_days);
        let storage_code = storage.filter(|s| s.maximum > s.minimum).map(|_| {
            let generation = if self.flavor.name.starts_with("db1-") {
                ""
            } else {
                "-gen2"
            };
            format!(
                "databases.{}-{}-additionnal-storage{generation}.hour.consumption",
                self.engine.name, self.offer.plan
            )
        });
        json!({
            "engine": self.engine.name,
            "version": self.version.name,
            "plan": self.offer.plan,
            "region": self.region,
            "default": self.is_default(),
            "category": self.engine.category,
            "specifications": {
                "flavor": self.flavor.name,
                "network": self.network,
                "nodes": { "minimum": self.offer.min_nodes, "maximum": self.offer.max_nodes },
                "storage": storage.map(|s| json!({
                    "minimum": gb(s.minimum),
                    "maximum": gb(s.maximum),
                    "step": gb(s.step),
                })),
            },
            "lifecycle": lifecycle.to_json(),
            "backups": { "available": self.engine.backups, "retentionDays": backup_days },
            "planCode": format!(
                "databases.{}-{}-{}.hour.consumption",
                self.engine.name, self.offer.plan, self.flavor.name
            ),
            "planCodeStorage": storage_code,
            // Deprecated flat fields, still sent by the real API.
            "flavor": self.flavor.name,
            "network": self.network,
            "minNodeNumber": self.offer.min_nodes,
            "maxNodeNumber": self.offer.max_nodes,
            "minDiskSize": storage.map_or(0, |s| s.minimum),
            "maxDiskSize": storage.map_or(0, |s| s.maximum),
            "stepDiskSize": storage.map_or(0, |s| s.step),
            "backup": "automatic",
            "backupRetentionDays": backup_days.unwrap_or(0),
            "status": lifecycle.status.as_str(),
            "startDate": lifecycle.start_date,
            "endOfLife": lifecycle.end_of_life,
            "upstreamEndOfLife": self.version.upstream_end_of_life,
        })
    }
}

fn rank(status: LifecycleStatus) -> u8 {
    match status {
        LifecycleStatus::Beta | LifecycleStatus::Stable => 0,
        LifecycleStatus::Deprecated => 1,
        LifecycleStatus::EndOfSale => 2,
        LifecycleStatus::EndOfLife => 3,
        LifecycleStatus::Unavailable => 4,
    }
}

/// Every availability row, in a stable order (engine, version, plan, flavor, region, network).
pub fn availabilities() -> impl Iterator<Item = Availability> {
    ENGINES.iter().flat_map(|engine| {
        engine.versions.iter().flat_map(move |version| {
            engine.offers.iter().flat_map(move |offer| {
                let plan = plan_named(offer.plan).expect("every offer names a known plan");
                offer.flavors.iter().flat_map(move |flavor_name| {
                    let flavor =
                        flavor_named(flavor_name).expect("every offer names a known flavor");
                    engine.regions.iter().flat_map(move |region| {
                        let networks: &'static [&'static str] = if offer.private_network {
                            NETWORKS
                        } else {
                            &NETWORKS[..1]
                        };
                        networks.iter().map(move |network| Availability {
                            engine,
                            version,
                            offer,
                            plan,
                            flavor,
                            region,
                            network,
                        })
                    })
                })
            })
        })
    })
}

/// The row for exactly this combination, if the catalogue has one.
pub fn find(
    engine: &str,
    version: &str,
    plan: &str,
    flavor: &str,
    region: &str,
    network: &str,
) -> Option<Availability> {
    availabilities().find(|a| {
        a.engine.name == engine
            && a.version.name == version
            && a.offer.plan == plan
            && a.flavor.name == flavor
            && a.region == region
            && a.network == network
    })
}

/// `GET .../database/capabilities`.
pub fn capabilities_json() -> Value {
    json!({
        "disks": DISK_TYPES,
        "engines": ENGINES.iter().map(Engine::to_json).collect::<Vec<_>>(),
        "flavors": FLAVORS.iter().map(Flavor::to_json).collect::<Vec<_>>(),
        "options": OPTIONS
            .iter()
            .map(|(name, kind)| json!({ "name": name, "type": kind }))
            .collect::<Vec<_>>(),
        "plans": PLANS.iter().map(Plan::to_json).collect::<Vec<_>>(),
        "regions": REGIONS,
    })
}

/// Compares dotted versions numerically (`"3.10" > "3.9"`, `"17" > "8"`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_offer_names_known_plans_flavors_and_regions() {
        for engine in ENGINES {
            assert!(is_engine_segment(engine.name), "{}", engine.name);
            assert!(
                engine.version(engine.default_version).is_some(),
                "{}",
                engine.name
            );
            assert!(
                engine.offer(engine.default_plan).is_some(),
                "{}",
                engine.name
            );
            for offer in engine.offers {
                assert!(plan_named(offer.plan).is_some(), "{}", offer.plan);
                assert!(offer.min_nodes >= 1 && offer.min_nodes <= offer.max_nodes);
                for flavor in offer.flavors {
                    assert!(flavor_named(flavor).is_some(), "{flavor}");
                }
            }
            for region in engine.regions {
                assert!(is_region(region), "{region}");
            }
        }
    }

    #[test]
    fn availability_rows_are_unique_and_few() {
        let rows: Vec<_> = availabilities().collect();
        assert_eq!(rows.len(), 384);
        let keys: HashSet<_> = rows
            .iter()
            .map(|a| {
                (
                    a.engine.name,
                    a.version.name,
                    a.offer.plan,
                    a.flavor.name,
                    a.region,
                    a.network,
                )
            })
            .collect();
        assert_eq!(keys.len(), rows.len());
        for engine in ENGINES {
            let defaults = rows
                .iter()
                .filter(|a| a.engine.name == engine.name && a.is_default())
                .count();
            assert_eq!(defaults, 1, "{} has one default row", engine.name);
        }
    }

    #[test]
    fn the_catalogue_has_deprecated_and_end_of_sale_rows() {
        let statuses: HashSet<_> = availabilities().map(|a| a.lifecycle().status).collect();
        assert!(statuses.contains(&LifecycleStatus::Deprecated));
        assert!(statuses.contains(&LifecycleStatus::EndOfSale));
        let eos = find("mongodb", "6.0", "production", "db2-4", "GRA", "public").unwrap();
        assert!(!eos.lifecycle().status.can_order());
        // The engine's lifecycle wins when it is further along than the version's.
        let redis = find("redis", "7.2", "essential", "db1-4", "GRA", "public").unwrap();
        assert_eq!(redis.lifecycle().status, LifecycleStatus::Deprecated);
    }

    #[test]
    fn lookups_find_offers_and_storage_ranges() {
        let row = find("mongodb", "7.0", "production", "db2-4", "GRA", "private").unwrap();
        assert_eq!((row.offer.min_nodes, row.offer.max_nodes), (3, 8));
        let range = row.storage().unwrap();
        assert_eq!((range.minimum, range.maximum, range.step), (20, 80, 10));
        assert!(
            range.contains(40) && !range.contains(45) && !range.contains(90) && !range.contains(10)
        );
        assert!(find("mongodb", "7.0", "discovery", "db2-2", "GRA", "private").is_none());
        assert!(find("mongodb", "7.0", "production", "db2-free", "GRA", "public").is_none());
        let discovery = find("mongodb", "7.0", "discovery", "db2-2", "GRA", "public").unwrap();
        assert_eq!(discovery.storage().unwrap().maximum, 10);
        let valkey = find("valkey", "8.0", "essential", "db2-4", "DE", "public").unwrap();
        assert!(valkey.storage().is_none());
        assert_eq!(valkey.to_json()["specifications"]["storage"], Value::Null);
    }

    #[test]
    fn capabilities_have_the_real_shape() {
        let caps = capabilities_json();
        let keys: Vec<_> = caps.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["disks", "engines", "flavors", "options", "plans", "regions"]
        );
        assert_eq!(
            caps["flavors"][0]["specifications"]["memory"],
            json!({"unit": "GB", "value": 4})
        );
        assert_eq!(caps["plans"][0]["backupRetention"], "P1D");
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("3.10", "3.9"), Ordering::Greater);
        assert_eq!(compare_versions("17", "8"), Ordering::Greater);
        assert_eq!(compare_versions("7.0", "7.0"), Ordering::Equal);
        assert_eq!(compare_versions("6.0", "8.0"), Ordering::Less);
    }
}
