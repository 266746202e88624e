//! Everything the sandbox knows (`World`) and its JSON state file.
//!
//! Architecture invariant: the state file is written atomically (temp file + rename) after every
//! successful write, and a file that cannot be parsed is refused at start, never overwritten.

use super::{auth, database, hosting, stack};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The marker at the top of every state file, bumped when the layout changes incompatibly.
pub const STATE_FORMAT: &str = "reconcile-sandbox/1";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct World {
    /// Consumer keys by key, including the one configured with `--consumer-key`.
    #[serde(default)]
    pub credentials: BTreeMap<String, auth::Credential>,
    /// OAuth2 access tokens by token.
    #[serde(default)]
    pub oauth2_tokens: BTreeMap<String, auth::OAuth2Token>,
    /// Public Cloud projects by project id.
    #[serde(default)]
    pub projects: BTreeMap<String, database::Project>,
    /// Web Hosting services by service name.
    #[serde(default)]
    pub hostings: BTreeMap<String, hosting::Hosting>,
    /// RunAbove Managed Stacks.
    #[serde(default)]
    pub stacks: stack::Stacks,
    /// A sequence shared by everything that needs a small integer id (tasks, credentials).
    #[serde(default)]
    pub last_id: u64,
}

impl World {
    /// The next small integer id (hosting task ids, credential ids).
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }
}

#[derive(Serialize, Deserialize)]
struct StateDocument {
    format: String,
    world: World,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read sandbox state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sandbox state file {path} is not a valid sandbox state ({detail}); it was left untouched: fix it, or move it away to start from an empty sandbox")]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot write sandbox state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The JSON file a sandbox persists to (`--state FILE`).
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the world, or `None` when the file does not exist yet.
    pub fn load(&self) -> Result<Option<World>, StateError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let corrupt = |detail: String| StateError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let document: StateDocument =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if document.format != STATE_FORMAT {
            return Err(corrupt(format!(
                "format {:?}, expected {STATE_FORMAT:?}",
                document.format
            )));
        }
        Ok(Some(document.world))
    }

    /// Writes the world atomically: a temporary file beside the target, then a rename.
    pub fn save(&self, world: &World) -> Result<(), StateError> {
        let write_error = |source| StateError::Write {
            path: self.path.clone(),
            source,
        };
        let document = StateDocument {
            format: STATE_FORMAT.to_string(),
            world: world.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&document)
            .map_err(|e| write_error(std::io::Error::other(e)))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_error)?;
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(write_error)?;
        std::fs::rename(&tmp, &self.path).map_err(write_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("nested/state.json"));
        assert!(file.load().unwrap().is_none());
        let mut world = World::default();
        world.next_id();
        file.save(&world).unwrap();
        assert_eq!(file.load().unwrap().unwrap().last_id, 1);

        std::fs::write(file.path(), b"{not json").unwrap();
        let err = file.load().unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(file.path()).unwrap(), b"{not json");
    }
}
