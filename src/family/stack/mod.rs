//! RunAbove managed MySQL stacks, on RunAbove's API (declared here: `RUNABOVE`): the calls,
//! their paths (`/stackMysql[/{id}]`). Which cluster a manifest stands for is `claims`.

pub(crate) mod digest;
pub(crate) mod engine;
pub(crate) mod live;
pub mod model;
pub(crate) mod plan;
#[cfg(test)]
mod plan_tests;
pub(crate) mod resume;
pub mod spec;

/// What one digest of its scopes digests (the stale-plan guard).
pub use digest::DigestKey;

/// The identity rule: which live cluster each manifest stands for (plan, engine and resume).
pub(crate) use plan::{claimants, claims};

use super::segment;
use super::Family;
use crate::live::read::{ReadError, Reader};
use crate::live::{LiveScope, LiveState, Scope};
use crate::manifest::model::{Address, Kind, ManifestSet, Resource, Spec};
use crate::manifest::validate::{ManagedObject, SpecCheck};
use crate::ovh::{ApiRate, Credentials, DeclaredApi, Endpoint, NamedEndpoint};
use crate::plan::{Context, Digests, Draft, Finding, Plan};
use crate::sandbox::RunningSandbox;
use futures::future::BoxFuture;
use serde_json::Value;

/// A call on RunAbove's managed MySQL clusters.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `POST /stackMysql` (no body unless `nodes` is given). The answer carries no id: the
    /// cluster is found again by the claim rule.
    Create { body: Option<Value> },
    /// `DELETE /stackMysql/{id}`.
    Delete { id: String },
}

impl Call {
    pub fn method(&self) -> &'static str {
        match self {
            Call::Create { .. } => "POST",
            Call::Delete { .. } => "DELETE",
        }
    }

    pub fn path(&self) -> String {
        match self {
            Call::Create { .. } => STACKS_PATH.to_owned(),
            Call::Delete { id } => stack_path(id),
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Call::Create { body } => body.as_ref(),
            Call::Delete { .. } => None,
        }
    }
}

/// `/stackMysql`: every cluster (`{"products": [{"id"}]}`).
pub const STACKS_PATH: &str = "/stackMysql";

/// `/stackMysql/{id}`.
pub fn stack_path(id: &str) -> String {
    format!("{STACKS_PATH}/{}", segment(id))
}

/// RunAbove's API (OVH's labs brand), where the stacks live: signed like OVH's, with no OAuth2.
/// Given by `--runabove-endpoint` (else `RUNABOVE_ENDPOINT`); by default RunAbove's public API
/// for application keys. With OAuth2 (or Digest) credentials and no endpoint given, stack calls
/// stay on the OVH endpoint (which answers 404).
pub static RUNABOVE: DeclaredApi = DeclaredApi {
    key: "runabove",
    flag: "runabove-endpoint",
    env: "RUNABOVE_ENDPOINT",
    help:
        "RunAbove's API, where ManagedStackMysql lives: `runabove` (https://api.runabove.com/1.0, \
           the default with application keys) or a URL such as a sandbox's `runabove_endpoint=`",
    parse: |input| Endpoint::parse_named(input, &RUNABOVE_PUBLIC),
    default_endpoint: runabove_by_default,
    sandbox_endpoint: runabove_in_sandbox,
    rate: ApiRate::SameAsMain,
};

/// RunAbove's public API, `runabove` on the command line.
const RUNABOVE_PUBLIC: NamedEndpoint = NamedEndpoint {
    name: "runabove",
    base: "https://api.runabove.com/1.0",
    example_url: "http://127.0.0.1:8080/runabove/1.0",
};

fn runabove_by_default(credentials: &Credentials) -> Option<Endpoint> {
    match credentials {
        Credentials::Application { .. } => Some(Endpoint::named(&RUNABOVE_PUBLIC)),
        Credentials::OAuth2 { .. } | Credentials::Digest { .. } => None,
    }
}

fn runabove_in_sandbox(running: &RunningSandbox) -> &str {
    &running.runabove_endpoint
}

/// How messages name the stacks' scope.
pub(crate) fn fmt_scope(f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("managed MySQL stacks")
}

/// RunAbove managed MySQL behind the family contract; its calls go to RunAbove's API.
pub(crate) struct Stacks;

impl Family for Stacks {
    fn kinds(&self) -> &'static [Kind] {
        &[Kind::ManagedStackMysql]
    }

    fn spec_schema(
        &self,
        kind: Kind,
        generator: &mut schemars::SchemaGenerator,
    ) -> schemars::Schema {
        match kind {
            Kind::ManagedStackMysql => generator.subschema_for::<spec::ManagedStackMysqlSpec>(),
            other => unreachable!("{other:?} is not a stack kind"),
        }
    }

    fn spec_from_json(&self, kind: Kind, value: Value) -> Result<Spec, serde_json::Error> {
        Ok(match kind {
            Kind::ManagedStackMysql => Spec::ManagedStackMysql(serde_json::from_value(value)?),
            other => unreachable!("{other:?} is not a stack kind"),
        })
    }

    fn check_spec(&self, spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
        spec::check(spec, check)
    }

    fn managed_object<'s>(
        &self,
        spec: &'s Spec,
        _specs: &dyn Fn(&Address) -> Option<&'s Spec>,
    ) -> Option<ManagedObject> {
        spec::managed_object(spec)
    }

    fn owns(&self, scope: &Scope) -> bool {
        matches!(scope, Scope::StackMysql)
    }

    /// The one scope of every cluster, when a `ManagedStackMysql` exists or `reconcile.yaml`
    /// declares `manages.stackMysql`.
    fn scopes(&self, manifests: &ManifestSet) -> Vec<Scope> {
        let named = manifests
            .resources
            .iter()
            .any(|resource| matches!(resource.spec, Spec::ManagedStackMysql(_)));
        if named || manifests.defaults.manages.stack_mysql {
            vec![Scope::StackMysql]
        } else {
            Vec::new()
        }
    }

    fn read_scope<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        _: &'a Scope,
        _: &'a ManifestSet,
        _: bool,
    ) -> BoxFuture<'a, Result<LiveScope, ReadError>> {
        Box::pin(live::read_scope(reader))
    }

    fn missing(&self, _: &Scope) -> String {
        "the managed MySQL stacks route".to_owned()
    }

    fn scope_of(&self, resource: &Resource, ctx: &Context) -> Result<Scope, Finding> {
        plan::scope_of(resource, ctx)
    }

    fn plan_scope(
        &self,
        scope: &Scope,
        live: &LiveScope,
        resources: &[&Resource],
        ctx: &Context,
        out: &mut Draft,
    ) {
        plan::plan_scope(scope, live, resources, ctx, out)
    }

    fn digest(&self, scope: &Scope, live: &LiveScope, out: &mut Digests) {
        digest::digest(scope, live, out)
    }

    fn api(&self) -> Option<&'static DeclaredApi> {
        Some(&RUNABOVE)
    }

    fn resume(
        &self,
        address: &Address,
        spec: &Spec,
        manifests: &ManifestSet,
        live: &LiveState,
        id: Option<&str>,
    ) -> Option<super::Resume> {
        resume::resume_for(address, spec, manifests, live, id).map(super::Resume::Stack)
    }

    /// Stack creates are serialised across the run's steps.
    fn run_state(&self, plan: &Plan) -> Option<Box<dyn std::any::Any + Send + Sync>> {
        Some(Box::new(engine::RunState::new(plan)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Operation;
    use serde_json::json;

    fn rendered(call: Call) -> String {
        Operation::Stack(call).to_string()
    }

    #[test]
    fn every_call_renders_the_method_and_path_the_api_expects() {
        let create = Call::Create {
            body: Some(json!({"nodes": 3})),
        };
        assert_eq!(create.body(), Some(&json!({"nodes": 3})));
        assert_eq!(rendered(create), "POST /stackMysql");
        assert_eq!(rendered(Call::Create { body: None }), "POST /stackMysql");
        assert_eq!(
            rendered(Call::Delete { id: "5d1c".into() }),
            "DELETE /stackMysql/5d1c"
        );
    }

    #[test]
    fn odd_ids_are_escaped_and_cannot_add_path_parts() {
        assert_eq!(
            rendered(Call::Delete {
                id: "1/../2?x".into()
            }),
            "DELETE /stackMysql/1%2F..%2F2%3Fx"
        );
        assert_eq!(stack_path("."), "/stackMysql/%252E");
    }

    /// RunAbove's declaration reads `--runabove-endpoint` as before its move here: its name,
    /// a URL, or one clear error; by default its public API for application keys only.
    #[test]
    fn runabove_is_named_or_a_url_and_the_default_for_application_keys() {
        let parse = RUNABOVE.parse;
        let public = parse("runabove").unwrap();
        assert_eq!(public.name(), Some("runabove"));
        assert_eq!(public.base_url(), "https://api.runabove.com/1.0");
        assert_eq!(public.oauth2_token_url(), None);
        let local = parse(" http://127.0.0.1:8080/runabove/1.0/ ").unwrap();
        assert_eq!(local.base_url(), "http://127.0.0.1:8080/runabove/1.0");
        assert_eq!(
            parse("runabove-ca").unwrap_err().to_string(),
            "unknown runabove endpoint `runabove-ca`; \
             hint: use runabove or a url such as http://127.0.0.1:8080/runabove/1.0"
        );
        assert!(parse("http://api.runabove.com/1.0").is_err(), "plain http");
        let default = RUNABOVE.default_endpoint;
        assert_eq!(
            default(&Credentials::application("ak", "as", "ck")),
            Some(public)
        );
        assert_eq!(default(&Credentials::oauth2("id", "secret")), None);
        assert_eq!(default(&Credentials::digest("user", "key")), None);
    }
}
