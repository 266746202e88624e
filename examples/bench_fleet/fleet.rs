//! The fleet: what is seeded and what the manifests say (the same thing).

use crate::*;

#[derive(Clone, Copy)]
pub(crate) struct Engine {
    pub(crate) name: &'static str,
    pub(crate) short: &'static str,
    pub(crate) version: &'static str,
    pub(crate) plan: &'static str,
    pub(crate) flavor: &'static str,
    pub(crate) nodes: u32,
    /// Roles of the `app` and `ro` users.
    pub(crate) roles: [&'static [&'static str]; 2],
}

pub(crate) const MONGODB: Engine = Engine {
    name: "mongodb",
    short: "mongo",
    version: "7.0",
    plan: "production",
    flavor: "db2-4",
    nodes: 3,
    roles: [&["readWrite@app"], &["read@app"]],
};

pub(crate) const POSTGRESQL: Engine = Engine {
    name: "postgresql",
    short: "pg",
    version: "16",
    plan: "business",
    flavor: "db1-7",
    nodes: 2,
    roles: [&[], &[]],
};

/// The two users of every service (when the fleet has users).
pub(crate) const USERS: [&str; 2] = ["app", "ro"];

#[derive(Clone)]
pub(crate) struct Fleet {
    pub(crate) projects: Vec<String>,
    pub(crate) engines: Vec<Engine>,
    pub(crate) services_per_scope: usize,
    pub(crate) with_users: bool,
    pub(crate) hostings: Vec<String>,
    pub(crate) domains_per_hosting: usize,
}

pub(crate) struct ServiceDef {
    pub(crate) project: String,
    pub(crate) engine: Engine,
    pub(crate) name: String,
    pub(crate) ips: Vec<(String, &'static str)>,
}

pub(crate) struct DomainDef {
    pub(crate) hosting: String,
    pub(crate) name: String,
    pub(crate) domain: String,
}

impl Fleet {
    /// Rows 1, 2, 5: 2 projects x 2 engines x 50 services (3 IPs, 2 users each), one hosting
    /// with 50 attached domains.
    pub(crate) fn plan_fleet() -> Fleet {
        Fleet {
            projects: vec!["bench-p1".into(), "bench-p2".into()],
            engines: vec![MONGODB, POSTGRESQL],
            services_per_scope: 50,
            with_users: true,
            hostings: vec!["bench1.cluster021.hosting.ovh.net".into()],
            domains_per_hosting: 50,
        }
    }

    /// Row 4: 4 projects x 500 mongodb services with 2 users each, 4 hostings x 1,000 attached
    /// domains = 10,000 resources.
    pub(crate) fn offline_fleet() -> Fleet {
        Fleet {
            projects: (1..=4).map(|n| format!("bench-p{n}")).collect(),
            engines: vec![MONGODB],
            services_per_scope: 500,
            with_users: true,
            hostings: (1..=4)
                .map(|n| format!("bench{n}.cluster021.hosting.ovh.net"))
                .collect(),
            domains_per_hosting: 1000,
        }
    }

    /// Row 3: 50 mongodb services with 3 IPs each, nothing else.
    pub(crate) fn apply_fleet() -> Fleet {
        Fleet {
            projects: vec!["bench-apply".into()],
            engines: vec![MONGODB],
            services_per_scope: 50,
            with_users: false,
            hostings: vec![],
            domains_per_hosting: 0,
        }
    }

    pub(crate) fn services(&self) -> Vec<ServiceDef> {
        let mut out = Vec::new();
        let mut n = 0usize;
        for project in &self.projects {
            let p = project.trim_start_matches("bench-");
            for engine in &self.engines {
                for i in 0..self.services_per_scope {
                    n += 1;
                    out.push(ServiceDef {
                        project: project.clone(),
                        engine: *engine,
                        name: format!("{p}-{}-{i:04}", engine.short),
                        ips: vec![
                            (format!("10.{}.{}.0/24", n / 256 % 256, n % 256), "office"),
                            (format!("192.0.2.{}/32", n % 256), "ci runner"),
                            (format!("2001:db8:{n:x}::/48"), "vpn"),
                        ],
                    });
                }
            }
        }
        out
    }

    pub(crate) fn domains(&self) -> Vec<DomainDef> {
        let mut out = Vec::new();
        for hosting in &self.hostings {
            let h = hosting.split('.').next().unwrap_or("h");
            for i in 0..self.domains_per_hosting {
                out.push(DomainDef {
                    hosting: hosting.clone(),
                    name: format!("{h}-site-{i:04}"),
                    domain: format!("site-{i:04}.{h}.example"),
                });
            }
        }
        out
    }

    pub(crate) fn resource_count(&self) -> usize {
        let services = self.projects.len() * self.engines.len() * self.services_per_scope;
        let users = if self.with_users {
            services * USERS.len()
        } else {
            0
        };
        services + users + self.hostings.len() * self.domains_per_hosting
    }

    pub(crate) fn describe(&self) -> String {
        let services = self.projects.len() * self.engines.len() * self.services_per_scope;
        format!(
            "{services} database services ({} projects x {} engines), 3 IP restrictions{} each, {} attached domains on {} hosting(s) = {} resources",
            self.projects.len(),
            self.engines.len(),
            if self.with_users { " and 2 users" } else { "" },
            self.hostings.len() * self.domains_per_hosting,
            self.hostings.len(),
            self.resource_count()
        )
    }

    /// One file per service (with its users), attached domains 100 to a file: the layout of a
    /// real manifest repository. Returns the directory.
    pub(crate) fn write_manifests(&self, dir: &Path) -> Result<PathBuf> {
        let databases = dir.join("databases");
        let hosting = dir.join("hosting");
        std::fs::create_dir_all(&databases)?;
        std::fs::create_dir_all(&hosting)?;
        for service in self.services() {
            let mut doc = String::new();
            let e = service.engine;
            let _ = write!(
                doc,
                "apiVersion: reconcile/v1\nkind: DatabaseService\nmetadata:\n  name: {}\nspec:\n  project: {}\n  engine: {}\n  version: \"{}\"\n  plan: {}\n  nodes: {{ flavor: {}, region: GRA, count: {} }}\n  ipRestrictions:\n",
                service.name, service.project, e.name, e.version, e.plan, e.flavor, e.nodes
            );
            for (ip, description) in &service.ips {
                let _ = writeln!(doc, "    - {{ ip: \"{ip}\", description: {description} }}");
            }
            if self.with_users {
                for (k, user) in USERS.iter().enumerate() {
                    let _ = write!(
                        doc,
                        "---\napiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata:\n  name: {}-{user}\nspec:\n  service: {}\n  username: {user}\n  roles: [{}]\n",
                        service.name,
                        service.name,
                        e.roles[k].join(", ")
                    );
                }
            }
            std::fs::write(databases.join(format!("{}.yaml", service.name)), doc)?;
        }
        for (chunk, domains) in self.domains().chunks(100).enumerate() {
            let mut doc = String::new();
            for d in domains {
                let _ = write!(
                    doc,
                    "---\napiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata:\n  name: {}\nspec:\n  hosting: {}\n  domain: {}\n  path: www\n",
                    d.name, d.hosting, d.domain
                );
            }
            std::fs::write(hosting.join(format!("domains-{chunk:03}.yaml")), doc)?;
        }
        Ok(dir.to_path_buf())
    }
}
