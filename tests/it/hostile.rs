//! Hostile input is refused cheaply (issue 9, item 9): the real binary on manifests built to
//! hurt. Nested aliases, deep nesting and huge files give one located error within a small
//! memory and time budget; thousands of problems are reported as the first 100 and a count;
//! a `*.yaml` that is a FIFO, a device or a broken link is named, never skipped or opened; `.`
//! and `..` cannot name anything that becomes a path segment; a loopback endpoint never goes
//! through a proxy.

use crate::cli::ServedSandbox;
use crate::e2e::{Run, Workspace, DEFAULTS, PROJECT};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A valid service, the start of every hostile file.
use crate::validate::SERVICE as HEADER;

/// Memory a `validate` run may use: its data segment (heap, anonymous mappings) is limited to
/// this, so a run that needs more aborts instead of exiting 1. (A child's peak RSS cannot be
/// read reliably here: a spawned child's count starts from this test process's.)
const MEMORY_LIMIT: u64 = 100 * 1024 * 1024;

/// What `reconcile validate PATH` did: exit code (-1 when killed or aborted), stderr, time.
struct Measured {
    code: i32,
    stderr: String,
    elapsed: Duration,
}

/// Runs `reconcile validate path` within `MEMORY_LIMIT`, killed (and the test failed) after
/// 20 s: a FIFO must not block it.
fn validate(path: &Path) -> Measured {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_reconcile"));
    command
        .arg("validate")
        .arg(path)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = started + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("validate {} hung (a FIFO opened?)", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Measured {
        code: status.code().unwrap_or(-1),
        stderr: reader.join().unwrap(),
        elapsed: started.elapsed(),
    }
}

fn manifests(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// Cheap: it finished within `MEMORY_LIMIT` (else it aborts, code -1) and, in this
/// unoptimised build on a shared machine, within a few seconds (a guard; optimised, well
/// under 1 s).
fn assert_cheap(m: &Measured, what: &str) {
    assert_eq!(m.code, 1, "{what}: {}", m.stderr);
    assert!(
        m.elapsed < Duration::from_secs(10),
        "{what}: took {:?}",
        m.elapsed
    );
}

/// Regression: 761 bytes of nine levels of nine aliases grew to 7.85 GB and were killed.
#[test]
fn an_alias_bomb_deep_nesting_and_a_huge_file_are_refused_cheaply() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
    }
    assert!(bomb.len() < 761, "{}", bomb.len());
    let deep = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
    let huge = format!("{HEADER}  x: \"{}\"\n", "y".repeat(1024 * 1024));
    let cases = [
        (
            "bomb.yaml",
            bomb,
            "bomb.yaml:6:",
            "this file holds more than 250000 YAML nodes, aliases expanded",
        ),
        (
            "deep.yaml",
            deep,
            "deep.yaml:1:",
            "lists and maps nest deeper than 64 levels here",
        ),
        (
            "huge.yaml",
            huge,
            "huge.yaml",
            "this file is larger than 1024 KiB",
        ),
    ];
    for (name, text, place, message) in cases {
        let dir = manifests(&[(name, text)]);
        let m = validate(dir.path());
        assert_eq!(m.code, 1, "{name}: {}", m.stderr);
        assert!(m.stderr.contains(message), "{name}: {}", m.stderr);
        assert!(m.stderr.contains(place), "{name}: {}", m.stderr);
        assert!(
            m.stderr.ends_with("error: 1 problem in 1 file\n"),
            "{name}: {}",
            m.stderr
        );
        assert_cheap(&m, name);
    }
}

/// Regression: 20,000 duplicate IP entries took 4.2 s, 8,000 unknown keys 9.3 s and 0.9 GB:
/// every problem was rendered with its source. The first 100 are, then a count.
#[test]
fn thousands_of_problems_are_reported_as_the_first_100_and_a_count() {
    let duplicates = format!(
        "{HEADER}  ipRestrictions:\n{}",
        "    - { ip: 10.0.0.1/32, description: d }\n".repeat(20_000)
    );
    let unknown: String = (0..8_000).map(|i| format!("  unknown{i}: 1\n")).collect();
    // The same on one 500 KB line: each problem printed that line (52 MB of output).
    let one_line = format!(
        "{HEADER}  ipRestrictions: [{}]\n",
        vec!["{ip: 10.0.0.1/32, description: d}"; 15_000].join(", ")
    );
    for (text, problems) in [
        (duplicates, 19_999),
        (format!("{HEADER}{unknown}"), 8_000),
        (one_line, 14_999),
    ] {
        let dir = manifests(&[("m.yaml", text)]);
        let m = validate(dir.path());
        assert_eq!(m.code, 1, "{}", m.stderr);
        let rendered = m.stderr.matches("  × ").count();
        assert_eq!(rendered, 100, "{}", &m.stderr[m.stderr.len() - 300..]);
        assert!(
            m.stderr.len() < 100_000,
            "{} bytes of problems",
            m.stderr.len()
        );
        let more = format!(
            "and {} more problems (only the first 100 are shown; fix these first)",
            problems - 100
        );
        assert!(
            m.stderr.contains(&more),
            "{}",
            &m.stderr[m.stderr.len() - 300..]
        );
        assert!(
            m.stderr
                .ends_with(&format!("error: {problems} problems in 1 file\n")),
            "{}",
            &m.stderr[m.stderr.len() - 300..]
        );
        assert_cheap(&m, "many problems");
    }
}

/// Regression: a `*.yaml` that was a FIFO, a device, a link loop or a dangling link was
/// skipped without a word (and a FIFO given as the path blocked); an empty directory is "no
/// manifests found".
#[test]
fn special_files_and_broken_links_are_named_and_an_empty_directory_is_an_error() {
    let dir = manifests(&[("ok.yaml", HEADER.to_owned())]);
    let root = dir.path();
    let fifo = root.join("fifo.yaml");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("/dev/null", root.join("device.yaml")).unwrap();
    std::os::unix::fs::symlink("loop-b.yaml", root.join("loop-a.yaml")).unwrap();
    std::os::unix::fs::symlink("loop-a.yaml", root.join("loop-b.yaml")).unwrap();
    std::os::unix::fs::symlink("missing.yaml", root.join("dangling.yaml")).unwrap();

    let m = validate(root);
    assert_eq!(m.code, 1, "{}", m.stderr);
    let name = |file: &str| root.join(file).display().to_string();
    for (file, what) in [
        ("fifo.yaml", "a FIFO (named pipe), not a manifest file"),
        ("device.yaml", "a character device, not a manifest file"),
        ("loop-a.yaml", "a symbolic link loop (to loop-b.yaml)"),
        ("loop-b.yaml", "a symbolic link loop (to loop-a.yaml)"),
        (
            "dangling.yaml",
            "a dangling symbolic link (to missing.yaml: no such file or directory)",
        ),
    ] {
        let line = format!("{}: {what}", name(file));
        assert!(m.stderr.contains(&line), "{line:?} not in {}", m.stderr);
    }
    assert!(
        m.stderr.ends_with("error: 5 problems in 5 files\n"),
        "{}",
        m.stderr
    );

    // The FIFO given as the path is named too, not opened.
    let m = validate(&fifo);
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(
        m.stderr
            .contains("a FIFO (named pipe), not a manifest file"),
        "{}",
        m.stderr
    );

    let empty = tempfile::tempdir().unwrap();
    let m = validate(empty.path());
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(m.stderr.contains("no manifests found"), "{}", m.stderr);
}

/// Regression: `project: ".."` passed validation and sent `POST /1.0/cloud/database/mongodb`.
/// Every value that becomes a path segment refuses `.` and `..`, at its line and field.
#[test]
fn dot_segments_are_refused_wherever_a_value_becomes_a_path_segment() {
    let service = HEADER.replace("project: p1", "project: \"..\"");
    let domain = "\
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata:
  name: www
spec:
  hosting: \".\"
  domain: \"..\"
  path: www
";
    let dir = manifests(&[
        ("service.yaml", service),
        ("domain.yaml", domain.to_owned()),
    ]);
    let m = validate(dir.path());
    assert_eq!(m.code, 1, "{}", m.stderr);
    let root = dir.path().display().to_string();
    for (place, field, value) in [
        ("service.yaml:6:12", "spec.project", ".."),
        ("domain.yaml:6:12", "spec.hosting", "."),
        ("domain.yaml:7:11", "spec.domain", ".."),
    ] {
        let header = format!("[{root}/{place}]");
        let message = format!("`{value}` cannot be a name: it becomes a path segment of the API");
        assert!(m.stderr.contains(&header), "{header} not in {}", m.stderr);
        assert!(m.stderr.contains(&message), "{message} not in {}", m.stderr);
        assert!(m.stderr.contains(field), "{field} not in {}", m.stderr);
    }
    assert!(
        m.stderr.ends_with("error: 3 problems in 2 files\n"),
        "{}",
        m.stderr
    );
}

/// A listener that counts the connections it accepts, until dropped.
struct CountingListener {
    url: String,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl CountingListener {
    fn start() -> CountingListener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok(_) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        CountingListener {
            url,
            accepted,
            stop,
        }
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Regression: with HTTP_PROXY set, 36 signed requests to the local sandbox went through the
/// proxy. A loopback endpoint is always reached directly.
#[test]
fn a_loopback_endpoint_never_goes_through_a_proxy() {
    let sb = ServedSandbox::start(&["--project", PROJECT]);
    let proxy = CountingListener::start();
    let service = HEADER.replace("  project: p1\n", "");
    let ws = Workspace::new(
        &sb.endpoint,
        &[("reconcile.yaml", DEFAULTS), ("databases.yaml", &service)],
    );
    let run = Run::of(ws.command(&["plan", "manifests"]).envs([
        ("HTTP_PROXY", proxy.url.as_str()),
        ("http_proxy", proxy.url.as_str()),
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("ALL_PROXY", proxy.url.as_str()),
    ]));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("DatabaseService/orders-db will be created"),
        "{run:?}"
    );
    assert_eq!(proxy.accepted.load(Ordering::Relaxed), 0, "{run:?}");
}
