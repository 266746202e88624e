//! The error answers of the database routes, with the real classes and message templates.

use crate::error::ApiError;

pub(super) fn service_not_found(id: &str) -> ApiError {
    ApiError::not_found("ServiceNotFound", format!("Service {id} does not exist"))
}

pub(super) fn service_not_ready(id: &str) -> ApiError {
    ApiError::conflict(
        "ServiceNotReady",
        format!("Service {id} is not in state READY"),
    )
}

pub(super) fn no_update() -> ApiError {
    ApiError::bad_request("NoUpdate", "No update required")
}

pub(super) fn invalid_body(detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("", format!("Invalid body: {detail}"))
}

pub(super) fn read_only(field: &str) -> ApiError {
    ApiError::bad_request(
        "",
        format!("Invalid body: {field} is read-only and cannot be changed"),
    )
}

pub(super) fn no_matching_availability() -> ApiError {
    ApiError::not_found(
        "NoMatchingAvailability",
        "No offer matches your expectations, please refer to the availability endpoint",
    )
}

pub(super) fn invalid_ip(ip: &str) -> ApiError {
    ApiError::not_found(
        "IpRestrictionInvalidFormat",
        format!("{ip} is not a valid ip restriction"),
    )
}

pub(super) fn ip_not_found(ip: &str) -> ApiError {
    ApiError::not_found(
        "IpRestrictionNotFound",
        format!("Ip restriction {ip} does not exist"),
    )
}

pub(super) fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found("UserNotFound", format!("User {id} does not exist"))
}

pub(super) fn node_not_found(id: &str) -> ApiError {
    ApiError::not_found("NodeNotFound", format!("Node {id} does not exist"))
}

pub(super) fn user_already_exists(engine: &str, username: &str) -> ApiError {
    let class = match engine {
        "mongodb" => "MongodbUserAlreadyExist",
        "postgresql" => "PostgresUserAlreadyExist",
        "mysql" => "MysqlUserAlreadyExist",
        "redis" | "valkey" => "RedisUserAlreadyExist",
        "kafka" => "KafkaUserAlreadyExist",
        "opensearch" => "OpensearchUserAlreadyExist",
        _ => "UserAlreadyExist",
    };
    ApiError::conflict(class, format!("user \"{username}\" already exist"))
}

pub(super) fn nodes_out_of_range(count: u32, min: u32, max: u32) -> Result<(), ApiError> {
    if count < min {
        Err(ApiError::bad_request(
            "NotEnoughNodes",
            format!("Minimum number of nodes for your offer is {min}"),
        ))
    } else if count > max {
        Err(ApiError::bad_request(
            "TooManyNodes",
            format!("Maximum number of nodes for your offer is {max}"),
        ))
    } else {
        Ok(())
    }
}
