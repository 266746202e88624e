//! Seeding the fleet through signed API calls, and the minimum number of calls a plan of it
//! needs, counted from the sandbox's world.

use crate::*;

/// The seeded fleet: its state file, the minimum number of calls a plan of it needs, and real
/// answers to build row 4's in-memory live state from.
pub(crate) struct Seeded {
    pub(crate) state: PathBuf,
    pub(crate) manifests: PathBuf,
    pub(crate) minimum: Minimum,
    pub(crate) templates: PathBuf,
}

/// Real sandbox answers, the shapes row 4's generated live state is built from.
#[derive(Serialize, Deserialize)]
pub(crate) struct Templates {
    pub(crate) service: Value,
    pub(crate) users: Vec<Value>,
    pub(crate) availability: Value,
    pub(crate) attached_domain: Value,
}

/// The calls a plan of the fleet cannot do without, counted from the sandbox's world.
#[derive(Clone, Debug)]
pub(crate) struct Minimum {
    pub(crate) total: usize,
    pub(crate) explained: String,
}

pub(crate) async fn seed_fleet(fleet: &Fleet, work: &Path) -> Result<Seeded> {
    let started = Instant::now();
    let served = serve(SandboxConfig {
        projects: fleet.projects.clone(),
        hostings: fleet.hostings.clone(),
        ready_after: SEED_READY_AFTER,
        ..SandboxConfig::default()
    })
    .await?;
    let api = api_client(&served.endpoint, 1_000_000)?;
    let api = &api;

    let created: Vec<(ServiceDef, String)> = stream::iter(fleet.services())
        .map(|service| async move {
            let e = service.engine;
            let path = format!("/cloud/project/{}/database/{}", service.project, e.name);
            let ips: Vec<Value> = service
                .ips
                .iter()
                .map(|(ip, description)| json!({ "ip": ip, "description": description }))
                .collect();
            let body = json!({
                "description": service.name,
                "plan": e.plan,
                "version": e.version,
                "nodesPattern": { "flavor": e.flavor, "number": e.nodes, "region": "GRA" },
                "ipRestrictions": ips,
            });
            let answer: Value = api
                .post(&path, &body)
                .await
                .with_context(|| format!("seeding POST {path}"))?;
            let id = answer["id"]
                .as_str()
                .context("a created service without an id")?
                .to_owned();
            anyhow::Ok((service, id))
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_collect()
        .await?;
    wait_settled(&served.sandbox).await?;

    if fleet.with_users {
        let users = created.iter().flat_map(|(service, id)| {
            USERS.iter().enumerate().map(move |(k, name)| {
                let path = format!(
                    "/cloud/project/{}/database/{}/{id}/user",
                    service.project, service.engine.name
                );
                (
                    path,
                    json!({ "name": name, "roles": service.engine.roles[k] }),
                )
            })
        });
        stream::iter(users)
            .map(|(path, body)| async move {
                let _: Value = api
                    .post(&path, &body)
                    .await
                    .with_context(|| format!("seeding POST {path}"))?;
                anyhow::Ok(())
            })
            .buffer_unordered(SEED_PARALLELISM)
            .try_collect::<Vec<()>>()
            .await?;
    }
    stream::iter(fleet.domains())
        .map(|d| async move {
            let path = format!("/hosting/web/{}/attachedDomain", d.hosting);
            let body = json!({ "domain": d.domain, "path": "www" });
            let _: Value = api
                .post(&path, &body)
                .await
                .with_context(|| format!("seeding POST {path}"))?;
            anyhow::Ok(())
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_collect::<Vec<()>>()
        .await?;
    wait_settled(&served.sandbox).await?;

    // Real answers for row 4.
    let (first, first_id) = created.first().context("the fleet has no service")?;
    let service_path = format!(
        "/cloud/project/{}/database/{}/{first_id}",
        first.project, first.engine.name
    );
    let user_ids: Vec<String> = api.get(&format!("{service_path}/user")).await?;
    let mut users = Vec::new();
    for id in user_ids {
        users.push(
            api.get::<Value>(&format!("{service_path}/user/{id}"))
                .await?,
        );
    }
    let some_domain = fleet.domains().into_iter().next().context("no domain")?;
    let templates = Templates {
        service: api.get(&service_path).await?,
        users,
        availability: api
            .get(&format!(
                "/cloud/project/{}/database/availability",
                first.project
            ))
            .await?,
        attached_domain: api
            .get(&format!(
                "/hosting/web/{}/attachedDomain/{}",
                some_domain.hosting, some_domain.domain
            ))
            .await?,
    };
    let templates_path = work.join("templates.json");
    std::fs::write(&templates_path, serde_json::to_vec_pretty(&templates)?)?;

    let minimum = minimum_calls(fleet, &served.sandbox);
    let state = work.join("state.json");
    served
        .sandbox
        .read(|world, _| StateFile::new(&state).save(world))?;
    let manifests = fleet.write_manifests(&work.join("fleet"))?;
    progress(&format!(
        "seeded {} through the API in {:.1} s ({} requests); minimum calls for a plan: {} = {}",
        fleet.describe(),
        started.elapsed().as_secs_f64(),
        served.log.take().len(),
        minimum.total,
        minimum.explained
    ));
    Ok(Seeded {
        state,
        manifests,
        minimum,
        templates: templates_path,
    })
}

/// Waits until nothing in the sandbox is CREATING/PENDING/creating any more.
pub(crate) async fn wait_settled(sandbox: &Sandbox) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy = sandbox.read(|world, now| {
            let services = world.projects.values().flat_map(|p| p.services.values());
            let mut busy = 0;
            for s in services {
                busy += usize::from(s.lifecycle.is_busy(now));
                busy += s.nodes.iter().filter(|n| n.lifecycle.is_busy(now)).count();
                busy += s
                    .ip_restrictions
                    .iter()
                    .filter(|i| i.lifecycle.is_busy(now))
                    .count();
                busy += s.users.iter().filter(|u| u.lifecycle.is_busy(now)).count();
            }
            for h in world.hostings.values() {
                busy += h
                    .attached_domains
                    .values()
                    .filter(|d| d.lifecycle.is_busy(now))
                    .count();
            }
            busy
        });
        if busy == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{busy} seeded objects still busy after 60 s");
        }
        tokio::time::sleep(SEED_READY_AFTER).await;
    }
}

/// The minimum a plan of `fleet` needs, from what the sandbox holds: per (project, engine) one
/// list and one get per service; per service that user manifests name (all of them here) one
/// user list and one get per user the API lists (built-in users included); one `availability`
/// per project; per hosting the service, the attached-domain list and one get per domain (the
/// default one included), `ssl` (one 404 when there is none, else `ssl` + `ssl/domains`), the
/// database list and one get per database; and the client's one `GET /auth/time`.
pub(crate) fn minimum_calls(fleet: &Fleet, sandbox: &Sandbox) -> Minimum {
    sandbox.read(|world, now| {
        let (mut lists, mut gets, mut user_lists, mut user_gets, mut hosting) = (0, 0, 0, 0, 0);
        for project in &fleet.projects {
            let services: Vec<_> = world
                .projects
                .get(project)
                .map(|p| p.services.values().collect())
                .unwrap_or_default();
            for engine in &fleet.engines {
                lists += 1;
                for s in services.iter().filter(|s| s.engine == engine.name) {
                    if s.lifecycle.status(now).is_none() {
                        continue;
                    }
                    gets += 1;
                    if fleet.with_users {
                        user_lists += 1;
                        user_gets += s
                            .users
                            .iter()
                            .filter(|u| u.lifecycle.status(now).is_some())
                            .count();
                    }
                }
            }
        }
        let availability = fleet.projects.len();
        for name in &fleet.hostings {
            let Some(h) = world.hostings.get(name) else {
                continue;
            };
            let domains = h
                .attached_domains
                .values()
                .filter(|d| d.status(now).is_some())
                .count();
            let ssl = if h.ssl.is_some() { 2 } else { 1 };
            hosting += 1 + 1 + domains + ssl + 1 + h.databases.len();
        }
        // Each managed project's index of every engine's services (a project is read whole, so
        // that an engine no manifest names is seen), and the API identity a JSON plan records
        // (`/auth/details`, `/auth/currentCredential`): the row plans with `--format json`.
        let indexes = fleet.projects.len();
        let identity = 2;
        let total = 1
            + lists
            + gets
            + user_lists
            + user_gets
            + availability
            + hosting
            + indexes
            + identity;
        Minimum {
            total,
            explained: format!(
                "1 auth/time + {lists} service lists + {gets} service gets + {user_lists} user lists + {user_gets} user gets + {availability} availability + {hosting} hosting + {indexes} project indexes + {identity} identity (a JSON plan records it)"
            ),
        }
    })
}
