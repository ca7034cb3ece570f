//! `GET /api/backup/status`: backups and the WAL archive's lag against the recovery point,
//! as the running server's schedule last saw them (docs/operations.md).

use crate::AppState;

#[utoipa::path(get, path = "/api/backup/status", summary = "备份状态 Backups: whether they are on and scheduled here, the recovery point aimed at, the WAL archive's lag against it (`archive.ok` false: behind or failing), the last backup, and the oldest moment a restore reaches.", responses((status = 200, description = "backups and the archive", body = crate::backup::BackupStatus, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/backup/status`: what the backup task last saw.
pub(super) async fn status(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<crate::backup::BackupStatus> {
    axum::Json(state.backups.status())
}
