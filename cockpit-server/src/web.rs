//! The built web front ends (`web/dist`), served as static files at `/`, outside the API's
//! route table: a page is public, the data it shows needs a session. A path that names no
//! file gets `index.html`, so that the front ends' own routes survive a reload; paths
//! under `/api/` and `/open311/` never do, and stay JSON problems.

use std::path::Path;

use axum::Router;
use axum::handler::Handler;
use axum::routing::any;
use tower_http::services::{ServeDir, ServeFile};

/// Adds the static files of `dir` to `router` as its fallback, or only `not_found` when
/// `dir` has no `index.html` (the front ends are not built: the API still runs).
pub(crate) fn mount<S, H, T>(router: Router<S>, dir: &Path, not_found: H) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    H: Handler<T, S> + Clone,
    T: 'static,
{
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dir = %dir.display(), "no built web front end there (run `npm run build` in web/); serving the API only");
        return router.fallback(not_found);
    }
    let files = ServeDir::new(dir).append_index_html_on_directories(true).fallback(ServeFile::new(index));
    router
        .route("/api/{*rest}", any(not_found.clone()))
        .route("/open311/{*rest}", any(not_found))
        .fallback_service(files)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    async fn not_found() -> StatusCode {
        StatusCode::NOT_FOUND
    }

    /// Serves `router` on a free port: its base URL.
    async fn serve(router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    }

    async fn get(base: &str, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap_or_else(|e| panic!("{e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_else(|e| panic!("{e}")))
    }

    #[tokio::test]
    async fn files_are_served_unknown_pages_get_the_index_and_unknown_api_paths_do_not() {
        let dir = std::env::temp_dir().join(format!("cockpit-web-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("index.html"), "<html>wall</html>").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap_or_else(|e| panic!("{e}"));
        let base = serve(super::mount(axum::Router::new(), &dir, not_found)).await;
        assert_eq!(get(&base, "/").await, (200, "<html>wall</html>".into()));
        assert_eq!(get(&base, "/assets/app.js").await, (200, "console.log(1)".into()));
        assert_eq!(get(&base, "/wall/anything").await, (200, "<html>wall</html>".into()));
        assert_eq!(get(&base, "/api/nothing").await.0, 404);
        assert_eq!(get(&base, "/open311/v9/x").await.0, 404);
        let bare = serve(super::mount(axum::Router::new(), &dir.join("missing"), not_found)).await;
        assert_eq!(get(&bare, "/").await.0, 404);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
