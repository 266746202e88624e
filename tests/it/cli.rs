//! The binary's edges: one-line errors and exit codes for bad flags and bad state files,
//! `sandbox serve` printing its endpoint, and a state file surviving a restart.

use crate::support::{http, unix_now};
use assert_cmd::Command;
use reconcile::ovh::signing::signature;
use reconcile::ovh::Method;
use std::process::Stdio;

fn reconcile() -> Command {
    Command::cargo_bin("reconcile").unwrap()
}

#[test]
fn a_bad_flag_is_one_line_and_exit_1() {
    let out = reconcile()
        .args(["sandbox", "serve", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: unexpected argument '--no-such-flag'"),
        "{stderr}"
    );

    let out = reconcile()
        .args(["sandbox", "serve", "--fail-rate", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("1.5 is not between 0 and 1"), "{stderr}");
}

/// The binary parses with the families' declared APIs: RunAbove's flag (declared in
/// `family::stack`) is in every command's help with its environment variable, and a bad
/// value given after a subcommand is still a flag clap knows (not "unexpected argument").
#[test]
fn the_binary_takes_the_flag_of_each_declared_api() {
    let api = &reconcile::family::stack::RUNABOVE;
    for command in [&["--help"][..], &["plan", "--help"], &["apply", "--help"]] {
        let out = reconcile().args(command).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains(&format!("--{} <NAME|URL>", api.flag))
                && help.contains(&format!("{}=", api.env)),
            "{command:?}: {help}"
        );
    }
    let out = reconcile()
        .args(["schema", &format!("--{}", api.flag), "anything"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "schema reads no endpoint");
}

#[test]
fn a_corrupt_state_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{\"format\": \"something else\"").unwrap();
    let out = reconcile()
        .args(["sandbox", "serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not a valid sandbox state"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        "{\"format\": \"something else\""
    );

    let unreadable = dir.path().join("a-directory");
    std::fs::create_dir(&unreadable).unwrap();
    let out = reconcile()
        .args(["sandbox", "serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(&unreadable)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot read sandbox state file"),
        "{stderr}"
    );
}

pub use crate::campaign::ServedSandbox;

impl ServedSandbox {
    /// `reconcile sandbox serve --listen 127.0.0.1:0 ARGS`, its stderr the test's.
    pub fn start(args: &[&str]) -> ServedSandbox {
        ServedSandbox::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_reconcile")),
            args,
            Stdio::inherit(),
        )
    }
}

async fn current_rules(endpoint: &str, consumer_key: &str) -> serde_json::Value {
    let url = format!("{endpoint}/auth/currentCredential");
    let ts = unix_now();
    let sig = signature(
        "sandbox-application-secret",
        consumer_key,
        &Method::GET,
        &url,
        b"",
        ts,
    );
    http()
        .get(&url)
        .header("X-Ovh-Application", "sandbox-application-key")
        .header("X-Ovh-Consumer", consumer_key)
        .header("X-Ovh-Timestamp", ts.to_string())
        .header("X-Ovh-Signature", sig)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_prints_its_endpoint_and_a_restart_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();

    let first = ServedSandbox::start(&["--state", state_arg]);
    assert!(
        first.endpoint.starts_with("http://127.0.0.1:"),
        "{}",
        first.endpoint
    );
    let requested: serde_json::Value = http()
        .post(format!("{}/auth/credential", first.endpoint))
        .header("X-Ovh-Application", "sandbox-application-key")
        .header("Content-Type", "application/json")
        .body(r#"{"accessRules":[{"method":"GET","path":"/cloud/*"},{"method":"GET","path":"/auth/*"}]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let consumer_key = requested["consumerKey"].as_str().unwrap().to_string();
    let validation_url = requested["validationUrl"].as_str().unwrap();
    assert_eq!(
        http().get(validation_url).send().await.unwrap().status(),
        200
    );
    drop(first);

    let second = ServedSandbox::start(&["--state", state_arg]);
    let current = current_rules(&second.endpoint, &consumer_key).await;
    assert_eq!(current["status"], "validated", "{current}");
    assert_eq!(current["rules"][0]["path"], "/cloud/*");
}

/// `--sandbox api` runs against the in-process sandbox in the current directory, keeps its
/// state under `.reconcile/`, masks secrets in answers and logs, and `-v` logs each call.
#[test]
fn sandbox_api_calls_mask_secrets_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let create = r#"{"description":"x","plan":"essential","version":"16","nodesPattern":{"flavor":"db1-4","number":1,"region":"GRA"}}"#;
    let out = reconcile()
        .current_dir(dir.path())
        .args([
            "--sandbox",
            "-v",
            "api",
            "POST",
            "/cloud/project/demo/database/postgresql",
            "-d",
            create,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let service: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("POST") && stderr.contains("status=200"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sandbox-consumer-key") && !stderr.contains("sandbox-application-secret"),
        "{stderr}"
    );
    assert!(dir.path().join(".reconcile/sandbox-state.json").exists());

    let users = format!(
        "/cloud/project/demo/database/postgresql/{}/user",
        service["id"].as_str().unwrap()
    );
    // the service is CREATING for a second in --sandbox mode
    let mut created = None;
    for _ in 0..40 {
        let out = reconcile()
            .current_dir(dir.path())
            .args([
                "--sandbox",
                "-v",
                "api",
                "POST",
                &users,
                "-d",
                r#"{"name":"app","roles":[]}"#,
            ])
            .output()
            .unwrap();
        if out.status.success() {
            created = Some(out);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = created.expect("user created once the service is READY");
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["password"], "***");
    let user_path = format!("{users}/{}", user["id"].as_str().unwrap());

    let out = reconcile()
        .current_dir(dir.path())
        .args([
            "--sandbox",
            "-v",
            "api",
            "POST",
            &format!("{user_path}/credentials/reset"),
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let reset: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let password = reset["password"].as_str().unwrap();
    assert!(password.len() >= 16 && password != "***", "{password}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(password),
        "the log never shows it"
    );
}

/// A `ManagedStackMysql` against a server that answers only RunAbove's guide (the create has
/// no body and answers no id; a cluster has no name): `--sandbox` wires RunAbove's endpoint,
/// apply creates the cluster and prints the id to pin, and with no state file the next plans
/// find it again, unpinned or pinned, and never create a second one.
#[test]
fn sandbox_stack_is_found_again_without_state_unpinned_or_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m/stack.yaml");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    let write = |spec: &str| {
        let text = format!(
            "apiVersion: reconcile/v1\nkind: ManagedStackMysql\nmetadata: {{ name: shop }}\nspec: {spec}\n"
        );
        std::fs::write(&manifest, text).unwrap();
    };
    let run = |args: &[&str]| {
        let out = reconcile()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .arg("--sandbox")
            .args(args)
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.code(), text(out.stdout), text(out.stderr))
    };

    write("{}");
    let (code, stdout, stderr) = run(&["apply", "m", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("+ ManagedStackMysql/shop will be created"),
        "{stdout}"
    );
    assert!(
        stderr.contains("ManagedStackMysql/shop: stack 1001 has no name on RunAbove: pin it with `spec.id: 1001`"),
        "{stderr}"
    );
    for spec in ["{}", "{ id: 1001 }", "{ id: 1001, nodes: 2 }"] {
        write(spec);
        let (code, stdout, stderr) = run(&["plan", "m", "--prune"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains("No changes. Live state matches the manifests."),
            "{spec}: {stdout}"
        );
    }
    write("{ nodes: 3 }");
    let (_, stdout, _) = run(&["plan", "m", "--prune"]);
    assert!(
        stdout.contains("+ ManagedStackMysql/shop will be created")
            && stdout.contains("- ManagedStackMysql/1001 will be destroyed"),
        "{stdout}"
    );
}

/// `--runabove-endpoint` (or `RUNABOVE_ENDPOINT`) is where stacks are read; a value that is
/// neither `runabove` nor a URL is one clear error.
#[test]
fn the_runabove_endpoint_comes_from_the_flag_or_the_environment() {
    let served = ServedSandbox::start(&[]);
    let runabove = crate::support::runabove_of(&served.endpoint);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("m")).unwrap();
    std::fs::write(
        dir.path().join("m/stack.yaml"),
        "apiVersion: reconcile/v1\nkind: ManagedStackMysql\nmetadata: { name: shop }\nspec: {}\n",
    )
    .unwrap();
    let plan = |extra: &[&str], env: Option<&str>| {
        let mut command = reconcile();
        command
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .args(["plan", "m", "--endpoint", &served.endpoint])
            .args(["--application-key", "sandbox-application-key"])
            .args(["--application-secret", "sandbox-application-secret"])
            .args(["--consumer-key", "sandbox-consumer-key"])
            .args(extra);
        if let Some(value) = env {
            command.env("RUNABOVE_ENDPOINT", value);
        }
        let out = command.output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.code(), text(out.stdout), text(out.stderr))
    };
    for (extra, env) in [
        (vec!["--runabove-endpoint", runabove.as_str()], None),
        (vec![], Some(runabove.as_str())),
    ] {
        let (code, stdout, stderr) = plan(&extra, env);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains("+ ManagedStackMysql/shop will be created"),
            "{stdout}"
        );
    }
    // The OVH endpoint does not serve RunAbove's routes: their root answers 404, which
    // waiting will not change (exit 1, naming it), unlike an unknown scope.
    let (code, stdout, stderr) = plan(&["--runabove-endpoint", &served.endpoint], None);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the managed MySQL stacks route does not exist on"),
        "{stderr}"
    );
    let (code, _, stderr) = plan(&["--runabove-endpoint", "runabove-ca"], None);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("unknown runabove endpoint `runabove-ca`"),
        "{stderr}"
    );
}

/// `api --on NAME` sends the call to the API a family declares (RunAbove's, for stacks): the
/// same path on OVH's API is a 404; `--help` lists the names, an unknown one is refused; an API with no
/// endpoint for the credentials (RunAbove has no OAuth2) is an error before any call, never a
/// call sent to another API.
#[test]
fn api_on_a_declared_api_calls_that_api_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut command = reconcile();
        command.current_dir(dir.path()).args(args);
        for name in [
            "OVH_APPLICATION_KEY",
            "OVH_APPLICATION_SECRET",
            "OVH_CONSUMER_KEY",
            "RUNABOVE_ENDPOINT",
        ] {
            command.env_remove(name);
        }
        for (name, value) in envs {
            command.env(name, value);
        }
        let out = command.output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };

    let (code, stdout, stderr) = run(
        &["--sandbox", "api", "--on", "runabove", "GET", "/stackMysql"],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let stacks: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(stacks.is_object(), "{stacks}");

    let (code, _, stderr) = run(&["--sandbox", "api", "GET", "/stackMysql"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("404"), "{stderr}");

    let (code, _, stderr) = run(&["--sandbox", "api", "--on", "nope", "GET", "/x"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("invalid value 'nope' for '--on <API>'"),
        "{stderr}"
    );
    let (code, help, _) = run(&["api", "--help"], &[]);
    assert_eq!(code, Some(0));
    assert!(help.contains("[possible values: ovh, runabove]"), "{help}");

    let oauth2 = [
        ("HOME", dir.path().to_str().unwrap()),
        ("OVH_ENDPOINT", "ovh-eu"),
        ("OVH_CLIENT_ID", "id"),
        ("OVH_CLIENT_SECRET", "secret"),
    ];
    let (code, _, stderr) = run(&["api", "--on", "runabove", "GET", "/stackMysql"], &oauth2);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(
            "no endpoint for the runabove API with these credentials: give --runabove-endpoint (or RUNABOVE_ENDPOINT)"
        ),
        "{stderr}"
    );
}
