//! Row 4's child: this harness re-run as `bench_fleet __offline DIR TEMPLATES`.

use crate::*;

pub(crate) const OFFLINE_CHILD: &str = "__offline";

#[derive(Serialize, Deserialize)]
pub(crate) struct OfflineReport {
    pub(crate) resources: usize,
    pub(crate) changes: usize,
    pub(crate) unchanged: usize,
    pub(crate) load_s: f64,
    pub(crate) live_s: f64,
    pub(crate) plan_s: f64,
    /// `plan::live_digests` alone (`plan_s` includes it).
    pub(crate) digests_s: f64,
}

pub(crate) fn offline_child(args: &[String]) -> Result<()> {
    let [dir, templates] = args else {
        bail!("usage: bench_fleet {OFFLINE_CHILD} DIR TEMPLATES");
    };
    let templates: Templates = serde_json::from_slice(&std::fs::read(templates)?)?;

    let started = Instant::now();
    let manifests = manifest::load(Path::new(dir), &|_| None)
        .map_err(|d| anyhow!("invalid manifests: {}", d.summary()))?;
    let load_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let live = equal_live_state(&manifests, &templates)?;
    let live_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let plan = plan::plan(&manifests, &live, &PlanOptions { prune: false });
    let plan_s = started.elapsed().as_secs_f64();

    // The stale-plan digests `plan` computes for every live object, timed on their own.
    let started = Instant::now();
    std::hint::black_box(plan::live_digests(&live));
    let digests_s = started.elapsed().as_secs_f64();

    let report = OfflineReport {
        resources: manifests.resources.len(),
        changes: plan.changes.len(),
        unchanged: plan.unchanged.len(),
        load_s,
        live_s,
        plan_s,
        digests_s,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// A live state equal to `manifests`, built from real sandbox answers (`templates`) through
/// reconcile's own mappings: what a read of that fleet would give, without the API.
pub(crate) fn equal_live_state(
    manifests: &ManifestSet,
    templates: &Templates,
) -> Result<LiveState> {
    let mut users_of: HashMap<&str, Vec<(&str, &[String])>> = HashMap::new();
    for resource in &manifests.resources {
        if let Spec::DatabaseUser(user) = &resource.spec {
            users_of
                .entry(user.service.as_str())
                .or_default()
                .push((user.username.as_str(), &user.roles));
        }
    }
    let builtin = templates
        .users
        .iter()
        .find(|u| u["username"] == "admin@admin")
        .or(templates.users.first())
        .context("no user template")?;
    let user_template = templates
        .users
        .iter()
        .find(|u| u["username"] != "admin@admin")
        .unwrap_or(builtin);

    let mut services: BTreeMap<Scope, Vec<_>> = BTreeMap::new();
    let mut hostings: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let mut projects = Vec::new();
    let mut n = 0u64;
    for resource in &manifests.resources {
        match &resource.spec {
            Spec::DatabaseService(spec) => {
                n += 1;
                let name = &resource.address.name;
                let project = spec
                    .project
                    .clone()
                    .context("a service without a project")?;
                let mut raw = templates.service.clone();
                raw["id"] = format!("00000000-0000-4000-8000-{n:012x}").into();
                raw["description"] = name.as_str().into();
                raw["plan"] = spec.plan.as_str().into();
                raw["version"] = spec.version.as_str().into();
                raw["flavor"] = spec.nodes.flavor.as_str().into();
                raw["ipRestrictions"] = spec
                    .ip_restrictions
                    .iter()
                    .flatten()
                    .map(|ip| json!({ "ip": ip.ip, "description": ip.description, "status": "READY" }))
                    .collect();
                let mut service =
                    mapping::live_service(raw, &spec.engine).map_err(|e| anyhow!(e))?;
                let mut users = vec![mapping::live_user(builtin.clone()).map_err(|e| anyhow!(e))?];
                for (k, (username, roles)) in users_of
                    .get(name.as_str())
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let mut raw = user_template.clone();
                    raw["id"] =
                        format!("00000000-0000-4000-9000-{:012x}", n * 16 + k as u64).into();
                    raw["username"] = if spec.engine == "mongodb" {
                        format!("{username}@admin").into()
                    } else {
                        (*username).into()
                    };
                    raw["roles"] = json!(roles);
                    users.push(mapping::live_user(raw).map_err(|e| anyhow!(e))?);
                }
                service.users = Some(UsersState::Known { users });
                projects.push(project.clone());
                services
                    .entry(Scope::Database {
                        project,
                        engine: spec.engine.clone(),
                    })
                    .or_default()
                    .push(service);
            }
            Spec::HostingAttachedDomain(spec) => {
                let hosting = spec.hosting.clone().context("a domain without a hosting")?;
                let mut raw = templates.attached_domain.clone();
                raw["domain"] = spec.domain.as_str().into();
                raw["path"] = spec.path.as_str().into();
                let domain = mapping::attached_domain(raw).map_err(|e| anyhow!(e))?;
                hostings.entry(hosting).or_default().push(domain);
            }
            Spec::DatabaseUser(_) => {}
            _ => bail!("the offline fleet has only services, users and attached domains"),
        }
    }
    let mut live = LiveState::default();
    for (scope, services) in services {
        live.scopes
            .insert(scope, ScopeState::Known(LiveScope::Database { services }));
    }
    for (hosting, mut attached_domains) in hostings {
        let identity = Identity::of(&hosting);
        let mut default = templates.attached_domain.clone();
        default["domain"] = identity.default_attached_domain.clone().into();
        attached_domains.push(mapping::attached_domain(default).map_err(|e| anyhow!(e))?);
        attached_domains.sort_by(|a, b| a.domain.cmp(&b.domain));
        live.scopes.insert(
            Scope::Hosting { hosting },
            ScopeState::Known(LiveScope::Hosting(LiveHosting {
                primary_login: identity.primary_login,
                default_attached_domain: Some(identity.default_attached_domain),
                attached_domains,
                ssl: None,
                databases: vec![],
            })),
        );
    }
    let catalogue = mapping::catalogue(&templates.availability).map_err(|e| anyhow!(e))?;
    projects.sort();
    projects.dedup();
    for project in projects {
        live.catalogues.insert(project, catalogue.clone());
    }
    Ok(live)
}
