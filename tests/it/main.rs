//! One integration-test binary; a commented `mod` per area.

// the layout's invariant on the source: no generic code names a family's kinds or scopes
mod architecture;

// shared helpers: an in-process sandbox on 127.0.0.1:0 and a minimal signed caller
mod support;

// What plan_e2e and apply_e2e share.
mod e2e;

// sandbox: signatures, auth error bodies, consumer keys, OAuth2, faults
mod sandbox_auth;

// the binary: flags, exit codes, state files, serve
mod cli;

// the OVH client against wiremock: signing, retries, redaction
mod ovh_client;

// interop: the official python and node clients drive the sandbox binary
mod interop;

// sandbox: web hosting routes and tasks, validated against the real OpenAPI schema
mod openapi;
mod sandbox_hosting;

// sandbox: RunAbove managed stacks
mod sandbox_stack;

// sandbox: Public Cloud database routes, lifecycles, catalogue validation
mod sandbox_database;

// live reads: exactly the scopes the manifests touch, N+1, unknown scopes
mod live;

// engine: executing plans against the sandbox: waits, adoption, partial failure, secrets
mod engine;

// plan and drift against the sandbox binary: creates, no changes, hand edits
mod plan_e2e;

// manifests: parse and validate, every error class with its location
mod validate;

// apply against the sandbox binary: convergence, gates, stale plans, faults, kill -9, secrets
mod apply_e2e;

// the seeded fault campaign: faults, kills and manifest mutations, then a clean re-run
// (examples/fault_campaign.rs runs the same episodes, many of them)
mod campaign;

// interop: Terraform with the official provider, and reconcile, against the sandbox binary
mod terraform;

// errors say what happened, fast: credentials, a missing scope root, an unreachable API
mod errors;

// hostile input refused cheaply: alias bombs, floods of problems, special files, dot segments, proxies
mod hostile;
// managed scopes against the sandbox binary: twins, scopes without manifests, in progress
mod scopes_e2e;
// issue 9: two runs at once (fresh lookups, the run lock, secrets by object), password intents,
// verification after an SSL regeneration, saved plans bound to one API and account
mod apply_trust;
