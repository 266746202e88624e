//! Unit tests of the database routes' logic: creates, updates, users, nodes and IP lists
//! against the catalogue, at fixed instants.

use super::errors::*;
use super::ip_restriction::{normalize_ip_list, IpRestrictionInput};
use super::service::{build_service, update_service, ServiceCreation, ServiceUpdate};
use super::user::{check_roles, check_username};
use super::*;
use serde_json::{json, Value};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn timing() -> Timing {
    Timing {
        wait: Duration::from_secs(10),
        stuck: HashSet::new(),
    }
}

fn create(engine: &str, body: Value) -> Result<Service, ApiError> {
    let body: ServiceCreation = serde_json::from_value(body).map_err(invalid_body)?;
    build_service(engine, body, &timing(), &Project::default(), at(0))
}

fn mongodb() -> Service {
    create(
        "mongodb",
        json!({"plan": "production", "version": "7.0",
                   "nodesPattern": {"flavor": "db2-4", "number": 3, "region": "GRA"}}),
    )
    .unwrap()
}

fn update(s: &mut Service, body: Value, now: DateTime<Utc>) -> Result<(), ApiError> {
    let body: ServiceUpdate = serde_json::from_value(body).map_err(invalid_body)?;
    update_service(s, body, &timing(), now)
}

#[test]
fn ip_blocks_are_normalised_to_canonical_cidr() {
    let cases = [
        ("10.0.0.1", Some("10.0.0.1/32")),
        ("10.0.0.1/32", Some("10.0.0.1/32")),
        ("10.0.0.1/24", Some("10.0.0.0/24")),
        ("0.0.0.0/0", Some("0.0.0.0/0")),
        ("2001:DB8::1", Some("2001:db8::1/128")),
        ("2001:db8::1/48", Some("2001:db8::/48")),
        ("10.0.0.1/33", None),
        ("10.0.0.1/", None),
        ("10.0.0.1/+8", None),
        ("10.0.0", None),
        ("300.0.0.1", None),
        ("example.com", None),
        (" 10.0.0.1", None),
    ];
    for (input, want) in cases {
        assert_eq!(normalize_ip_block(input).as_deref(), want, "{input}");
    }
}

#[test]
fn duplicate_ips_in_one_list_are_refused() {
    let list = vec![
        IpRestrictionInput {
            ip: "10.0.0.1".into(),
            description: None,
            status: None,
        },
        IpRestrictionInput {
            ip: "10.0.0.1/32".into(),
            description: None,
            status: None,
        },
    ];
    let err = normalize_ip_list(list).unwrap_err();
    assert_eq!(err.class, "Client::BadRequest::IpRestrictionAlreadyExists");
}

#[test]
fn a_new_service_has_its_nodes_users_and_defaults() {
    let s = mongodb();
    assert_eq!(s.lifecycle.status(at(0)), Some("CREATING"));
    assert_eq!(s.lifecycle.status(at(10)), Some("READY"));
    assert_eq!(s.active_node_count(at(0)), 3);
    assert_eq!(s.disk_size, 20);
    assert_eq!(s.users[0].username, "admin@admin");
    let json = s.to_json(at(10));
    assert_eq!(json["maintenanceTime"], "22:00:00");
    assert_eq!(json["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(json["nodes"][0]["port"], 27017);
    assert_eq!(json["endpoints"][1]["component"], "mongodbSrv");
}

#[test]
fn creation_errors_follow_the_catalogue() {
    // (engine, changes to a valid mongodb production body, expected class)
    let cases = [
        (
            "mongodb",
            json!({"version": "9.9"}),
            "Client::NotFound::VersionNotFound",
        ),
        (
            "mongodb",
            json!({"plan": "business"}),
            "Client::NotFound::PlanNotFound",
        ),
        (
            "mongodb",
            json!({"flavor": "db9-1"}),
            "Client::NotFound::FlavorNameNotFound",
        ),
        (
            "mongodb",
            json!({"region": "MARS"}),
            "Client::NotFound::RegionNotFound",
        ),
        (
            "mongodb",
            json!({"flavor": "db2-free"}),
            "Client::NotFound::NoMatchingAvailability",
        ),
        (
            "mongodb",
            json!({"version": "6.0"}),
            "Client::NotFound::AvailabilityDoesNotExistAnymore",
        ),
        (
            "mongodb",
            json!({"number": 9}),
            "Client::BadRequest::TooManyNodes",
        ),
        (
            "mongodb",
            json!({"number": 0}),
            "Client::BadRequest::AtLeastOneNode",
        ),
        (
            "mongodb",
            json!({"disk": {"size": 90}}),
            "Client::BadRequest::FlavorDiskSizeTooLow",
        ),
        (
            "mongodb",
            json!({"disk": {"size": 25}}),
            "Client::BadRequest::InvalidDiskSize",
        ),
        ("mongodb", json!({"restApi": true}), "Client::BadRequest"),
        (
            "mongodb",
            json!({"maintenanceTime": "25:00:00"}),
            "Client::BadRequest",
        ),
        ("mongodb", json!({"subnetId": "s1"}), "Client::BadRequest"),
        (
            "mongodb",
            json!({"plan": "discovery", "flavor": "db2-2", "networkId": "n1"}),
            "Client::NotFound::NoMatchingAvailability",
        ),
        (
            "cassandra",
            json!({}),
            "Client::NotFound::EngineNameNotFound",
        ),
    ];
    for (engine, changes, want) in cases {
        let mut body = json!({"plan": "production"});
        let mut nodes = json!({"flavor": "db2-4", "number": 3, "region": "GRA"});
        for (key, value) in changes.as_object().unwrap() {
            match key.as_str() {
                "flavor" | "number" | "region" => nodes[key] = value.clone(),
                _ => body[key] = value.clone(),
            }
        }
        body["nodesPattern"] = nodes;
        let err = create(engine, body.clone()).unwrap_err();
        assert_eq!(err.class, want, "{body}: {}", err.message);
    }
    let list = |flavor: &str, region: &str| {
        let second = json!({"flavor": flavor, "region": region});
        json!([{"flavor": "db1-7", "region": "GRA"}, second])
    };
    let class = |nodes: Value| {
        create(
            "postgresql",
            json!({"plan": "business", "nodesList": nodes}),
        )
        .unwrap_err()
        .class
    };
    assert_eq!(
        class(list("db1-15", "GRA")),
        "Client::BadRequest::NodesFlavorMismatch"
    );
    assert_eq!(
        class(list("db1-7", "SBG")),
        "Client::BadRequest::NodesRegionMismatch"
    );
}

#[test]
fn redis_has_no_storage_and_a_default_user() {
    let nodes = json!({"flavor": "db2-4", "number": 1, "region": "DE"});
    let s = create(
        "valkey",
        json!({"plan": "essential", "nodesPattern": nodes}),
    )
    .unwrap();
    let json = s.to_json(at(10));
    assert_eq!(json["storage"], Value::Null);
    assert_eq!(json["version"], "8.0");
    assert_eq!(json["endpoints"][0]["scheme"], "rediss");
    assert_eq!(s.users[0].username, "default");
}

#[test]
fn a_flavor_change_updates_the_nodes_and_raises_the_disk() {
    let mut s = mongodb();
    update(&mut s, json!({"flavor": "db2-8"}), at(10)).unwrap();
    assert_eq!(s.lifecycle.status(at(11)), Some("UPDATING"));
    assert_eq!(s.lifecycle.status(at(20)), Some("READY"));
    assert_eq!(s.disk_size, 40);
    assert!(s.nodes.iter().all(|n| n.flavor == "db2-8"));
    assert_eq!(s.nodes[0].lifecycle.status(at(11)), Some("UPDATING"));
}

#[test]
fn a_plan_change_moves_the_node_count_into_range() {
    let nodes = json!({"flavor": "db1-7", "number": 1, "region": "GRA"});
    let mut s = create(
        "postgresql",
        json!({"plan": "essential", "nodesPattern": nodes}),
    )
    .unwrap();
    update(&mut s, json!({"plan": "business"}), at(10)).unwrap();
    assert_eq!(s.active_node_count(at(11)), 2);
    let err = update(&mut s, json!({"plan": "essential"}), at(20)).unwrap_err();
    assert_eq!(err.class, "Client::NotFound::PlanInvalidUpgrade");
}

#[test]
fn updates_refuse_read_only_changes_and_empty_changes() {
    let mut s = mongodb();
    let full = s.to_json(at(10));
    assert_eq!(
        update(&mut s, full.clone(), at(10)).unwrap_err().class,
        "Client::BadRequest::NoUpdate"
    );
    assert_eq!(
        update(&mut s, json!({"engine": "postgresql"}), at(10))
            .unwrap_err()
            .class,
        "Client::BadRequest"
    );
    assert_eq!(
        update(&mut s, json!({"networkId": "abc"}), at(10))
            .unwrap_err()
            .class,
        "Client::BadRequest"
    );
    let mut changed = full;
    changed["description"] = json!("renamed");
    update(&mut s, changed, at(10)).unwrap();
    assert_eq!(s.description, "renamed");
    assert_eq!(
        s.lifecycle.status(at(10)),
        Some("READY"),
        "a description change is immediate"
    );
}

#[test]
fn the_disk_can_be_sent_as_disk_or_storage() {
    let mut s = mongodb();
    let mut body = s.to_json(at(10));
    body["storage"]["size"]["value"] = json!(60);
    update(&mut s, body, at(10)).unwrap();
    assert_eq!(s.disk_size, 60);
    let err = update(
        &mut s,
        json!({"disk": {"size": 70}, "storage": {"size": {"unit": "GB", "value": 80}}}),
        at(30),
    )
    .unwrap_err();
    assert_eq!(err.class, "Client::BadRequest");
}

#[test]
fn mongodb_roles_name_their_database() {
    assert!(check_roles(
        "mongodb",
        &["readWrite@orders".into(), "clusterMonitor@admin".into()]
    )
    .is_ok());
    assert_eq!(
        check_roles("mongodb", &["readWrite".into()])
            .unwrap_err()
            .class,
        "Client::NotFound::RoleNotFound"
    );
    assert_eq!(
        check_roles("mongodb", &["root@orders".into()])
            .unwrap_err()
            .class,
        "Client::NotFound::RoleNotFound"
    );
    assert!(check_roles("postgresql", &["replication".into()]).is_ok());
}

#[test]
fn usernames_refuse_forbidden_characters() {
    assert!(check_username("app_1-x.y").is_ok());
    for name in ["a@b", "a b", "a/b", "a:b"] {
        let err = check_username(name).unwrap_err();
        assert_eq!(
            err.class, "Client::BadRequest::UserInvalidNameFormat",
            "{name}"
        );
        assert_eq!(err.message, "Username cannot contain any of '@:/;'\"'");
    }
}
