//! The restore drill (issue 20): on an embedded cluster of its own, with backups on as
//! shipped, cases are created through the API with attachments, a time is noted, more are
//! written, the cluster and the attachments' folder are destroyed, and `cockpit-server
//! restore --to` brings back the noted moment: every case acknowledged before it is there
//! with its attachments byte for byte, none after. The recovery time is printed; the
//! full-size drill is `scripts/bench/restore-drill.sh` (BENCHMARKS.md).

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cockpit_server::{Cli, Config};
use serde_json::{Value, json};

/// Cases written before the noted time, and after it.
const BEFORE: usize = 6;
const AFTER: usize = 4;

/// The drill's own data folder, cluster and backup folder; stopped and removed on drop,
/// so a failing drill leaves nothing running.
struct Drill {
    home: PathBuf,
    config: PathBuf,
    cluster: PathBuf,
    backups: PathBuf,
}

impl Drill {
    fn new() -> Drill {
        let home = std::env::temp_dir().join(format!("cockpit-drill-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = home.join("cockpit.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ndata_home = {:?}\nlisten = \"127.0.0.1:0\"\nlog = \"warn\"\n\
                 [database]\nembedded_port = {port}\nmax_connections = 4\n[mqtt]\nlisten = \"127.0.0.1:0\"\n\
                 [indicators]\ninterval_seconds = 3600\n",
                crate::common::sample_data(),
                home
            ),
        )
        .unwrap();
        let cluster = cockpit_store::EmbeddedPostgres::location(&home).unwrap();
        let backups = cockpit_store::Archiving::default_folder(&home).unwrap();
        Drill { home, config, cluster, backups }
    }

    /// Runs `cockpit-server <args>` as an operator would: its standard output.
    fn command(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_cockpit-server"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("COCKPIT_DATA_HOME")
            .env_remove("COCKPIT_DATA_DIR")
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("run cockpit-server");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        stdout
    }

    fn configuration(&self) -> Config {
        let mut config = Config::load(&Cli { config: Some(self.config.clone()), ..Cli::default() }).unwrap();
        // The tests' process carries the shared test cluster's DATABASE_URL, which a
        // configuration takes over the file's; the drill's server runs on its own
        // embedded cluster, as an operator's does.
        config.database.url = String::new();
        config
    }
}

impl Drop for Drill {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_cockpit-server"))
            .arg("--config")
            .arg(&self.config)
            .arg("db-stop")
            .env_remove("DATABASE_URL")
            .output();
        for dir in [&self.cluster, &self.backups, &self.home] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The server in-process on the drill's cluster, until `stop` is sent.
struct Running {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(config: Config) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(e) = cockpit_server::run(listener, config, shutdown).await {
            panic!("server failed: {e:#}");
        }
    });
    for _ in 0..1200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return Running { base, stop, task };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

impl Running {
    /// Stops serving; the server stops its embedded cluster on the way out.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

async fn login(base: &str, username: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// A case and its photo, through the API: (case id, attachment id, the photo's bytes).
async fn case_with_photo(base: &str, token: &str, n: usize) -> (i64, String, Vec<u8>) {
    let http = reqwest::Client::new();
    let body = json!({"description": format!("井盖缺失 drill-{n}"), "category": "0402", "location": {"lon": 120.64, "lat": 27.97}});
    let response = http.post(format!("{base}/api/cases")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.extend(format!("the photo of case {id}, drill {n}").bytes().cycle().take(3000));
    let response = http
        .post(format!("{base}/api/cases/{id}/attachments?name=drill-{n}.jpg"))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let attachment = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    (id, attachment, photo)
}

/// A dispatcher (`drill`) and a system administrator (`drill-admin`), as an administrator
/// would make them.
async fn create_drill_users(url: &str) {
    let store = cockpit_store::Store::connect(url, 1).await.unwrap();
    store.seed_roles().await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    for (username, role) in
        [("drill", cockpit_access::Role::Dispatcher), ("drill-admin", cockpit_access::Role::SystemAdministrator)]
    {
        let user = cockpit_store::NewUser {
            username: username.into(),
            display_name: "演练".into(),
            password_hash: cockpit_access::hash_password(crate::common::PASSWORD).unwrap(),
            department_id: None,
            scope: cockpit_access::Scope::district("330304"),
            must_change_password: false,
        };
        cockpit_store::Store::create_user(&mut tx, &user, &[role]).await.unwrap();
    }
    tx.commit().await.unwrap();
    store.pool().close().await;
}

/// `GET /api/backup/status` as the system administrator, once the schedule has a backup.
async fn backup_status(base: &str) -> Value {
    let token = login(base, "drill-admin").await;
    let http = reqwest::Client::new();
    // A full-size drill's first backup copies gigabytes.
    for _ in 0..6000 {
        let response = http.get(format!("{base}/api/backup/status")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let status: Value = response.json().await.unwrap();
        if status["last_backup"].is_object() && status["archive"].is_object() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the schedule took no backup within ten minutes");
}

fn destroy(path: &Path) {
    std::fs::remove_dir_all(path).unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destroyed_cluster_is_restored_to_the_noted_moment_with_its_attachments() {
    let drill = Drill::new();
    let url = drill.command(&["db-start"]);
    create_drill_users(url.trim()).await;
    // The benchmark's size: the demonstration's history first (BENCHMARKS.md).
    let days = std::env::var("DRILL_HISTORY_DAYS").ok().filter(|d| !d.is_empty());
    if let Some(days) = &days {
        let said = drill.command(&["seed-history", "--days", days]);
        println!("restore drill: {}", said.trim());
    }

    // Backups are on as shipped: the first start takes a full backup by itself.
    let server = serve(drill.configuration()).await;
    let status = backup_status(&server.base).await;
    assert_eq!(status["last_backup"]["kind"], "full", "{status}");
    assert_eq!(
        (&status["enabled"], &status["scheduled"], &status["rpo_seconds"]),
        (&json!(true), &json!(true), &json!(60))
    );
    assert_eq!(status["archive"]["ok"], true, "{status}");
    assert!(status["archive"]["recovery_point_seconds"].as_i64().unwrap() <= 60, "{status}");

    let token = login(&server.base, "drill").await;
    let mut before = Vec::new();
    for n in 0..BEFORE {
        before.push(case_with_photo(&server.base, &token, n).await);
        if n == BEFORE / 2 {
            // An operator's incremental backup beside the running server: the restore
            // starts from it and replays the WAL after it.
            let said = drill.command(&["backup", "--type", "incr"]);
            assert!(said.contains("(incr) taken"), "{said}");
        }
    }
    let noted = chrono::Utc::now();
    let mut after = Vec::new();
    for n in BEFORE..BEFORE + AFTER {
        after.push(case_with_photo(&server.base, &token, n).await);
    }
    // What the archive_timeout does within the recovery point, at once.
    drill.command(&["backup-check"]);
    server.stop().await;

    // The baseline: copying the stopped cluster's files, the least any restore does.
    let copy = drill.home.join("baseline-copy");
    let copied = Instant::now();
    let status = Command::new("cp").arg("-a").arg(drill.cluster.join("data")).arg(&copy).status().unwrap();
    assert!(status.success());
    let copy_seconds = copied.elapsed().as_secs_f64();
    destroy(&copy);

    // The disk is lost: the cluster's folder and the attachments with it.
    destroy(&drill.cluster);
    destroy(&drill.home.join("attachments"));
    let started = Instant::now();
    let target = noted.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let said = drill.command(&["restore", "--to", &target]);
    let restore_seconds = started.elapsed().as_secs_f64();
    assert!(said.contains(&format!("{BEFORE} brought back, 0 in place, 0 missing")), "{said}");

    let server = serve(drill.configuration()).await;
    let token = login(&server.base, "drill").await;
    let recovery_seconds = started.elapsed().as_secs_f64();
    let http = reqwest::Client::new();
    for (id, attachment, photo) in &before {
        let case = http.get(format!("{}/api/cases/{id}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(case.status().as_u16(), 200, "case {id}, acknowledged before the noted time");
        let file =
            http.get(format!("{}/api/attachments/{attachment}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(file.status().as_u16(), 200, "attachment {attachment}");
        assert_eq!(&file.bytes().await.unwrap().to_vec(), photo, "attachment {attachment}, byte for byte");
    }
    for (id, attachment, _) in &after {
        let case = http.get(format!("{}/api/cases/{id}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(case.status().as_u16(), 404, "case {id}, written after the noted time");
        let file =
            http.get(format!("{}/api/attachments/{attachment}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(file.status().as_u16(), 404, "attachment {attachment}");
    }
    // The restored cluster archives again, on a timeline of its own, and lists both backups.
    drill.command(&["backup-check"]);
    let listing = drill.command(&["backup-list"]);
    assert_eq!(listing.lines().filter(|l| l.contains(" full ") || l.contains(" incr ")).count(), 2, "{listing}");
    println!(
        "restore drill: {BEFORE} cases kept, {AFTER} after {target} gone; restore command {restore_seconds:.1} s, \
         serving again after {recovery_seconds:.1} s ({said}); baseline: cp -a of the cluster's files {copy_seconds:.1} s, \
         ratio {:.2}x\n{listing}",
        restore_seconds / copy_seconds.max(0.001),
        said = said.trim()
    );
    server.stop().await;
}

/// With an external database the backups are its operator's: the server takes none, still
/// copies each attachment into the backup folder before its row, and reports the archive
/// as the database shows it (the test cluster archives nothing: not ok). Only the system
/// administrator reads the status.
#[tokio::test]
async fn an_external_databases_backups_are_its_operators_and_its_archive_is_reported() {
    let mut config = Config::for_tests(&crate::common::sample_data(), &crate::common::fresh_database().await);
    config.backup.enabled = true;
    config.backup.check_seconds = 1;
    let folder = std::env::temp_dir().join(format!("cockpit-backup-external-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    config.backup.folder = folder.clone();
    let server = crate::common::Server::start_configured(config).await;
    let admin = server.token("backup-admin", "system_administrator").await;
    let mut status = Value::Null;
    for _ in 0..600 {
        let (code, body) = server.get_with(&admin, "/api/backup/status").await;
        assert_eq!(code, 200, "{body}");
        status = body;
        if status["archive"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((&status["enabled"], &status["scheduled"]), (&json!(true), &json!(false)), "{status}");
    assert_eq!(status["archive"]["ok"], false, "archive_mode is off: {status}");
    assert!(status["last_backup"].is_null(), "{status}");
    let (code, _) = server.get_as("dispatcher", "/api/backup/status").await;
    assert_eq!(code, 403);

    let (_, attachment, photo) = case_with_photo(&server.url(""), &server.token("d1", "dispatcher").await, 99).await;
    let row = server.store.attachment(&attachment).await.unwrap().unwrap();
    let copy = folder.join("attachments").join(&row.sha256[..2]).join(&row.sha256);
    assert_eq!(std::fs::read(&copy).unwrap(), photo, "the copy in the backup folder");
    std::fs::remove_dir_all(&folder).unwrap();
}
