//! Preflight: every `DatabaseService` checked against its project's catalogue
//! (`live.catalogues`, from `capabilities` + `availability`) before anything is applied.
//!
//! For a service the plan creates, replaces or updates: engine, version, plan, region, flavor,
//! network (public or private) and then the node count and storage against the matching offer;
//! the first mismatch is an error naming the allowed values ("flavor db9-1 is not offered for
//! mongodb 7.0 production in GRA; offered: db2-4, db2-8"). An offer that can no longer be
//! ordered (`END_OF_SALE`, `END_OF_LIFE`, `UNAVAILABLE`) is an error when the plan orders it (a
//! create, a replace, a version change) and a warning otherwise; `DEPRECATED` is a warning.
//! A service the plan leaves alone gets lifecycle warnings only: an existing service must not
//! block a plan because the catalogue moved on. A project whose catalogue could not be read
//! gets one warning that preflight was skipped.

use crate::live::{Catalogue, Offer};
use crate::manifest::model::{Address, DatabaseServiceSpec, Kind, Spec};
use crate::plan::{Action, Context, Draft};
use std::collections::{BTreeMap, BTreeSet};

/// What the plan does with the service's offer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Create, replace or version change: the offer is ordered.
    Order,
    /// Another in-place change.
    Change,
    /// Nothing (unchanged, unknown or not decided).
    Keep,
}

pub(super) fn check(ctx: &Context, draft: &mut Draft) {
    // The stage of every changed service, looked up by address below rather than scanned for
    // (services x changes comparisons when a plan creates a fleet).
    let stages: BTreeMap<Address, Stage> = draft
        .changes
        .iter()
        .filter(|c| c.address.kind == Kind::DatabaseService)
        .rev() // of two changes to one address, the first wins, as a scan would find it
        .map(|c| {
            let stage = if matches!(c.action, Action::Create | Action::Replace { .. })
                || c.fields.iter().any(|f| f.path == "spec.version")
            {
                Stage::Order
            } else {
                Stage::Change
            };
            (c.address.clone(), stage)
        })
        .collect();
    // The offers of each catalogue by engine, built once: each service then narrows its
    // engine's rows rather than the whole catalogue.
    let mut by_engine: BTreeMap<&str, OffersByEngine> = BTreeMap::new();
    let mut skipped: BTreeMap<String, Vec<Address>> = BTreeMap::new();
    for resource in &ctx.manifests.resources {
        let Spec::DatabaseService(spec) = &resource.spec else {
            continue;
        };
        let Some(project) = ctx.project(&spec.project) else {
            continue;
        };
        let Some((project_key, catalogue)) = ctx.live.catalogues.get_key_value(&project) else {
            skipped
                .entry(project)
                .or_default()
                .push(resource.address.clone());
            continue;
        };
        let stage = stages
            .get(&resource.address)
            .copied()
            .unwrap_or(Stage::Keep);
        let service = Service {
            address: &resource.address,
            project: &project,
            spec,
            stage,
        };
        let engines = by_engine
            .entry(project_key.as_str())
            .or_insert_with(|| by_engine_of(catalogue));
        service.check(catalogue, engines, draft);
    }
    for (project, addresses) in skipped {
        let message = format!(
            "preflight skipped: the catalogue of project {project} could not be read ({} not checked)",
            addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        );
        draft.warning(&addresses[0], "spec.project", message);
    }
}

struct Service<'a> {
    address: &'a Address,
    project: &'a str,
    spec: &'a DatabaseServiceSpec,
    stage: Stage,
}

type OffersByEngine<'c> = BTreeMap<&'c str, Vec<&'c Offer>>;

fn by_engine_of(catalogue: &Catalogue) -> OffersByEngine<'_> {
    let mut by_engine: OffersByEngine = BTreeMap::new();
    for offer in &catalogue.offers {
        by_engine.entry(&offer.engine).or_default().push(offer);
    }
    by_engine
}

impl Service<'_> {
    fn check(&self, catalogue: &Catalogue, engines: &OffersByEngine, draft: &mut Draft) {
        if let Some(offer) = self.offer(catalogue, engines, draft) {
            self.limits(offer, draft);
            self.lifecycle(offer, draft);
        }
    }

    /// The offer the service is on: each step narrows the catalogue, the first empty one is the
    /// error (only when the plan changes the service).
    fn offer<'c>(
        &self,
        catalogue: &'c Catalogue,
        engines: &OffersByEngine<'c>,
        draft: &mut Draft,
    ) -> Option<&'c Offer> {
        let spec = self.spec;
        let (engine, version, plan, flavor) =
            (&spec.engine, &spec.version, &spec.plan, &spec.nodes.flavor);
        let region = spec.nodes.region.to_ascii_uppercase();
        let network = if spec.network.is_some() {
            "private"
        } else {
            "public"
        };
        // The first narrowing, by engine, is the index's (the whole catalogue when the engine
        // is not offered, for the error).
        let rows = match engines.get(engine.as_str()) {
            Some(rows) => rows.clone(),
            None => self.narrow(
                catalogue.offers.iter().collect(),
                draft,
                "spec.engine",
                |o| &o.engine,
                |o| &o.engine == engine,
                || format!("engine {engine} is not offered in project {}", self.project),
            )?,
        };
        let rows = self.narrow(
            rows,
            draft,
            "spec.version",
            |o| &o.version,
            |o| &o.version == version,
            || format!("version {version} is not offered for {engine}"),
        )?;
        let rows = self.narrow(
            rows,
            draft,
            "spec.plan",
            |o| &o.plan,
            |o| &o.plan == plan,
            || format!("plan {plan} is not offered for {engine} {version}"),
        )?;
        let in_region = |o: &Offer| o.region.eq_ignore_ascii_case(&region);
        let rows = self.narrow(
            rows,
            draft,
            "spec.nodes.region",
            |o| &o.region,
            in_region,
            || format!("region {region} is not offered for {engine} {version} {plan}"),
        )?;
        let rows = self.narrow(
            rows,
            draft,
            "spec.nodes.flavor",
            |o| &o.flavor,
            |o| &o.flavor == flavor,
            || format!("flavor {flavor} is not offered for {engine} {version} {plan} in {region}"),
        )?;
        let on_network = |o: &Offer| o.network.eq_ignore_ascii_case(network);
        let rows = self.narrow(rows, draft, "spec.network", |o| &o.network, on_network, || {
            format!("a {network} network is not offered for {engine} {version} {plan} {flavor} in {region}")
        })?;
        rows.first().copied()
    }

    /// The offers of `rows` that `keep` accepts; none is an error naming what `value` offers.
    fn narrow<'c>(
        &self,
        rows: Vec<&'c Offer>,
        draft: &mut Draft,
        field: &str,
        value: impl Fn(&Offer) -> &String,
        keep: impl Fn(&Offer) -> bool,
        message: impl FnOnce() -> String,
    ) -> Option<Vec<&'c Offer>> {
        let narrowed: Vec<&Offer> = rows.iter().copied().filter(|o| keep(o)).collect();
        if !narrowed.is_empty() {
            return Some(narrowed);
        }
        if self.stage != Stage::Keep {
            let offered: BTreeSet<&String> = rows.iter().map(|o| value(o)).collect();
            let offered: Vec<&str> = offered.into_iter().map(String::as_str).collect();
            let offered = if offered.is_empty() {
                "nothing".to_string()
            } else {
                offered.join(", ")
            };
            draft.error(
                self.address,
                field,
                format!("{}; offered: {offered}", message()),
            );
        }
        None
    }

    /// `engine version plan flavor in REGION`, how messages name an offer.
    fn what(&self) -> String {
        let spec = self.spec;
        format!(
            "{} {} {} {} in {}",
            spec.engine,
            spec.version,
            spec.plan,
            spec.nodes.flavor,
            spec.nodes.region.to_ascii_uppercase()
        )
    }

    /// Node count and storage against the offer's ranges.
    fn limits(&self, offer: &Offer, draft: &mut Draft) {
        if self.stage == Stage::Keep {
            return;
        }
        let spec = self.spec;
        let what = self.what();
        {
            let count = spec.nodes.count;
            if count < offer.min_nodes || count > offer.max_nodes {
                draft.error(
                    self.address,
                    "spec.nodes.count",
                    format!(
                        "node count {count} is out of range for {what}: {}..{}",
                        offer.min_nodes, offer.max_nodes
                    ),
                );
            }
            if let Some(size) = spec.storage {
                let (min, max) = (offer.min_storage, offer.max_storage);
                let below = min.is_some_and(|min| size < min);
                let above = max.is_some_and(|max| size > max);
                if below || above {
                    let bound = |b: Option<u32>| b.map_or("?".to_string(), |b| b.to_string());
                    draft.error(
                        self.address,
                        "spec.storage",
                        format!(
                            "storage {size} GB is out of range for {what}: {}..{} GB",
                            bound(min),
                            bound(max)
                        ),
                    );
                }
            }
        }
    }

    fn lifecycle(&self, offer: &Offer, draft: &mut Draft) {
        let what = self.what();
        let status = offer.lifecycle.to_ascii_uppercase();
        let orderable = matches!(status.as_str(), "STABLE" | "BETA" | "DEPRECATED");
        let mut dates = Vec::new();
        if let Some(date) = &offer.end_of_sale {
            dates.push(format!("end of sale {date}"));
        }
        if let Some(date) = &offer.end_of_life {
            dates.push(format!("end of life {date}"));
        }
        let dates = if dates.is_empty() {
            String::new()
        } else {
            format!(" ({})", dates.join(", "))
        };
        let state = match status.as_str() {
            "DEPRECATED" => "is deprecated",
            "END_OF_SALE" => "is no longer sold",
            "END_OF_LIFE" => "has reached its end of life",
            "UNAVAILABLE" => "is unavailable",
            _ => return,
        };
        if !orderable && self.stage == Stage::Order {
            draft.error(
                self.address,
                "spec.version",
                format!("{what} can no longer be ordered: it {state}{dates}"),
            );
        } else {
            draft.warning(
                self.address,
                "spec.version",
                format!("{what} {state}{dates}"),
            );
        }
    }
}
