//! The catalogue checks a create or update of a database service goes through, in the order
//! the real API reports their errors: engine switches, times, regions, disk size, node role,
//! and the offer (engine x version x plan x flavor x region) itself.

use super::catalogue::{self, Availability};
use super::errors::{invalid_body, no_matching_availability};
use crate::error::ApiError;

/// Refuses the kafka and opensearch switches on other engines, as unknown fields.
pub(super) fn check_engine_switches(
    engine: &str,
    kafka: bool,
    opensearch: bool,
) -> Result<(), ApiError> {
    if kafka && engine != "kafka" {
        return Err(invalid_body(format!(
            "unknown field `restApi`/`schemaRegistry` for engine {engine}"
        )));
    }
    if opensearch && engine != "opensearch" {
        return Err(invalid_body(format!(
            "unknown field `aclsEnabled` for engine {engine}"
        )));
    }
    Ok(())
}

/// `HH:MM:SS`.
pub(super) fn check_time(field: &str, value: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = value.split(':').collect();
    let valid = parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] < "24"
        && parts[1] < "60"
        && parts[2] < "60";
    if valid {
        Ok(())
    } else {
        Err(invalid_body(format!(
            "{field} must be a time HH:MM:SS, got {value:?}"
        )))
    }
}

pub(super) fn check_regions(regions: &[String]) -> Result<(), ApiError> {
    match regions.iter().find(|r| !catalogue::is_region(r)) {
        Some(r) => Err(ApiError::not_found(
            "RegionNotFound",
            format!("Region {r} does not exist"),
        )),
        None => Ok(()),
    }
}

pub(super) fn no_storage(size: u32, engine: &str) -> ApiError {
    ApiError::bad_request(
        "InvalidDiskSize",
        format!(
            "Disk size {size} GB is not valid for your offer: {engine} has no configurable storage"
        ),
    )
}

/// Checks a disk size against an offer's range.
pub(super) fn check_disk_size(
    flavor: &str,
    range: catalogue::StorageRange,
    size: u32,
) -> Result<(), ApiError> {
    if size > range.maximum {
        return Err(ApiError::bad_request(
            "FlavorDiskSizeTooLow",
            format!(
                "Requested flavor {flavor} does not offer enough disk space. It has {} GB while at least {size} is required",
                range.maximum
            ),
        ));
    }
    if !range.contains(size) {
        return Err(ApiError::bad_request(
            "InvalidDiskSize",
            format!(
                "Disk size {size} GB is not valid for your offer: it must be between {} and {} GB, by steps of {} GB",
                range.minimum,
                range.maximum,
                range.step.max(1)
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_role(role: &str, engine: &str) -> Result<(), ApiError> {
    match role {
        "STANDARD" => Ok(()),
        "ANALYTICS" if engine == "mongodb" => Ok(()),
        _ => Err(invalid_body(format!(
            "role {role:?} is not valid for engine {engine}"
        ))),
    }
}

/// The catalogue checks shared by create and update, in the order the errors are reported.
pub(super) struct OfferRequest<'a> {
    pub(super) engine: &'static catalogue::Engine,
    pub(super) version: &'a str,
    pub(super) plan: &'a str,
    pub(super) flavor: &'a str,
    pub(super) region: &'a str,
    pub(super) network: &'a str,
}

impl OfferRequest<'_> {
    pub(super) fn find(&self) -> Result<Availability, ApiError> {
        if self.engine.version(self.version).is_none() {
            return Err(ApiError::not_found(
                "VersionNotFound",
                format!("Version {} does not exist", self.version),
            ));
        }
        if catalogue::plan_named(self.plan).is_none() || self.engine.offer(self.plan).is_none() {
            return Err(ApiError::not_found(
                "PlanNotFound",
                format!("Plan {} does not exist", self.plan),
            ));
        }
        if catalogue::flavor_named(self.flavor).is_none() {
            return Err(ApiError::not_found(
                "FlavorNameNotFound",
                format!("Flavor {} does not exist", self.flavor),
            ));
        }
        if !catalogue::is_region(self.region) {
            return Err(ApiError::not_found(
                "RegionNotFound",
                format!("Region {} does not exist", self.region),
            ));
        }
        catalogue::find(
            self.engine.name,
            self.version,
            self.plan,
            self.flavor,
            self.region,
            self.network,
        )
        .ok_or_else(no_matching_availability)
    }
}

pub(super) fn availability_gone() -> ApiError {
    ApiError::not_found(
        "AvailabilityDoesNotExistAnymore",
        "Your offer is not available anymore",
    )
}
