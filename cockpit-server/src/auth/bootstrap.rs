//! The first accounts. When no account exists, the server creates them with generated
//! passwords, prints how to log in, and keeps the list in a file only its user can read:
//! the three administrators (三员) for a real deployment, or one user per role for the
//! sample city's demonstration. Nothing is hard-coded.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use cockpit_access::{Role, Scope, ScopeLevel, random_token};
use cockpit_geo::{City, Level};
use serde::Deserialize;
use serde_json::json;

use super::Auth;
use cockpit_store::{AuditActor, AuditEntry, NewUser, Store};

pub use crate::config::Bootstrap;

#[derive(Deserialize)]
struct DepartmentsFile {
    departments: Vec<DepartmentEntry>,
}

#[derive(Deserialize)]
struct DepartmentEntry {
    id: String,
    name: String,
    parent: Option<String>,
}

/// The department tree of `data_dir/departments.json` (parents first), empty when the
/// city has none.
pub fn load_departments(data_dir: &Path) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
    let path = data_dir.join("departments.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: DepartmentsFile = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(file.departments.into_iter().map(|d| (d.id, d.name, d.parent)).collect())
}

/// Creates the first accounts when there are none, writing their credentials to
/// `data_home/initial-accounts.txt` (mode 600) and to standard output.
pub async fn bootstrap_accounts(
    store: &Store,
    auth: &Auth,
    city: &City,
    mode: Bootstrap,
    data_home: &Path,
) -> anyhow::Result<()> {
    if mode == Bootstrap::None || store.user_count().await? > 0 {
        return Ok(());
    }
    let district = city.regions().iter().find(|r| r.level == Level::District).context("the city has no district")?;
    let district_scope = Scope::district(district.code.as_str());
    let grid = city.regions().iter().find(|r| r.level == Level::Grid).context("the city has no grid")?;
    let departments = store.departments().await?;
    let department = |name: &str| departments.iter().find(|(_, n, _)| n == name).map(|(id, _, _)| id.clone());
    let mut accounts: Vec<(&str, &str, Role, Scope, Option<String>)> = vec![
        ("sysadmin", "系统管理员", Role::SystemAdministrator, district_scope.clone(), None),
        ("secadmin", "安全管理员", Role::SecurityAdministrator, district_scope.clone(), None),
        ("auditor", "安全审计员", Role::Auditor, district_scope.clone(), None),
    ];
    if mode == Bootstrap::Demo {
        let grid_scope = Scope { level: ScopeLevel::Grid, code: grid.code.as_str().to_string() };
        accounts.extend([
            ("commander", "指挥长（演示）", Role::Commander, district_scope.clone(), department("区社会治理中心")),
            ("leader", "区领导（演示）", Role::Leader, district_scope.clone(), department("瓯海区人民政府")),
            ("dispatcher", "调度员（演示）", Role::Dispatcher, district_scope.clone(), department("区社会治理中心")),
            (
                "handler",
                "应急管理局处置员（演示）",
                Role::DepartmentHandler,
                district_scope.clone(),
                department("区应急管理局"),
            ),
            ("gridworker", "网格员（演示）", Role::GridWorker, grid_scope, None),
        ]);
    }
    let mut lines = Vec::new();
    let mut tx = store.pool().begin().await?;
    let mut entries = Vec::new();
    for (username, name, role, scope, department_id) in accounts {
        let password = random_token().map_err(|e| anyhow::anyhow!("{e}"))?.chars().take(20).collect::<String>();
        let hash = auth.hash_password(&password, username).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let user = NewUser {
            username: username.to_string(),
            display_name: name.to_string(),
            password_hash: hash,
            department_id,
            scope: scope.clone(),
            must_change_password: false,
        };
        Store::create_user(&mut tx, &user, &[role]).await?;
        entries.push(AuditEntry {
            who: AuditActor::system(),
            action: "user.create".into(),
            object: format!("user:{username}"),
            result: "ok".into(),
            detail: json!({"role": role.as_str(), "scope": scope, "bootstrap": true}),
        });
        lines.push(format!(
            "{username:<12} {password}  {:<24} scope {} {}",
            role.as_str(),
            scope.level.as_str(),
            scope.code
        ));
    }
    Store::audit(&mut tx, Utc::now(), &entries).await?;
    tx.commit().await?;
    let text = format!(
        "# Accounts created at the first start ({}). Log in with\n\
         #   curl -s -X POST http://<listen>/api/auth/login -H 'content-type: application/json' \\\n\
         #        -d '{{\"username\": \"<name>\", \"password\": \"<password>\"}}'\n\
         # and send the access token as `Authorization: Bearer <token>`. Change these passwords.\n{}\n",
        Utc::now().to_rfc3339(),
        lines.join("\n")
    );
    tell_operator(&data_home.join("initial-accounts.txt"), &text, false)
}

/// Tells the operator secrets made at a first start: written to `path` (mode 600, readable
/// by the server's user only; appended to with `append`) and printed on the console, never
/// the log.
pub(crate) fn tell_operator(path: &Path, text: &str, append: bool) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .append(append)
        .truncate(!append)
        .create(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    println!("{text}(kept in {})", path.display());
    Ok(())
}
