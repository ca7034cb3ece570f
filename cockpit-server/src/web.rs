//! The built web front ends (`web/dist`), served as static files at `/`, outside the API's
//! route table: a page is public, the data it shows needs a session. A path that names no
//! file gets `index.html`, so that the front ends' own routes survive a reload; paths
//! under `/api/` and `/open311/` never do, and stay JSON problems. The bundles under
//! `/assets/` are named by their content's hash, so browsers keep them for a year (a wall
//! that reloads fetches only the page and its data); everything else is `no-store`.
//! The build writes a brotli (`.br`) and a gzip (`.gz`) copy beside each compressible
//! file (`web/precompress.ts`): a browser that accepts one gets it as it is, with its
//! `Content-Encoding` and `Vary: accept-encoding`, and nothing is compressed per request
//! (the compression layer leaves an answer that has an encoding alone).

use std::path::Path;

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::routing::any;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

/// For files whose names change with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

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
    let index = ServeFile::new(index).precompressed_br().precompressed_gzip();
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let assets = SetResponseHeader::overriding(
        ServeDir::new(dir.join("assets")).precompressed_br().precompressed_gzip(),
        header::CACHE_CONTROL,
        HeaderValue::from_static(IMMUTABLE),
    );
    router
        .nest_service("/assets", assets)
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
        let (status, _, body) = get_with_cache(base, path).await;
        (status, body)
    }

    /// Status, Cache-Control and body.
    async fn get_with_cache(base: &str, path: &str) -> (u16, Option<String>, String) {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap_or_else(|e| panic!("{e}"));
        let status = response.status().as_u16();
        let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_string);
        (status, cache, response.text().await.unwrap_or_else(|e| panic!("{e}")))
    }

    #[tokio::test]
    async fn files_are_served_unknown_pages_get_the_index_and_unknown_api_paths_do_not() {
        let dir = std::env::temp_dir().join(format!("cockpit-web-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("index.html"), "<html>wall</html>").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap_or_else(|e| panic!("{e}"));
        let base = serve(super::mount(axum::Router::new(), &dir, not_found)).await;
        assert_eq!(get(&base, "/").await, (200, "<html>wall</html>".into()));
        let (status, cache, body) = get_with_cache(&base, "/assets/app.js").await;
        assert_eq!((status, cache.as_deref(), body.as_str()), (200, Some(super::IMMUTABLE), "console.log(1)"));
        let (_, cache, _) = get_with_cache(&base, "/").await;
        assert_ne!(cache.as_deref(), Some(super::IMMUTABLE), "the page itself is fetched every time");
        assert_eq!(get(&base, "/wall/anything").await, (200, "<html>wall</html>".into()));
        assert_eq!(get(&base, "/api/nothing").await.0, 404);
        assert_eq!(get(&base, "/open311/v9/x").await.0, 404);
        let bare = serve(super::mount(axum::Router::new(), &dir.join("missing"), not_found)).await;
        assert_eq!(get(&bare, "/").await.0, 404);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Status, Content-Encoding, Vary and the body's bytes as sent (reqwest here decodes
    /// nothing: it is built without its decompression features).
    async fn get_encoded(
        base: &str,
        path: &str,
        accept: Option<&str>,
    ) -> (u16, Option<String>, Option<String>, Vec<u8>) {
        let mut request = reqwest::Client::new().get(format!("{base}{path}"));
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (encoding, vary) = (header("content-encoding"), header("vary"));
        let status = response.status().as_u16();
        (status, encoding, vary, response.bytes().await.unwrap_or_else(|e| panic!("{e}")).to_vec())
    }

    #[tokio::test]
    async fn precompressed_copies_go_to_clients_that_accept_them_and_the_plain_file_to_others() {
        let dir = std::env::temp_dir().join(format!("cockpit-web-precompressed-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap_or_else(|e| panic!("{e}"));
        // What the build writes: the file and its two copies (their bytes stand in for
        // compressed ones: the server sends them as they are).
        for (name, body) in [
            ("index.html", "<html>wall</html>"),
            ("index.html.br", "wall as brotli"),
            ("index.html.gz", "wall as gzip"),
            ("assets/map.js", "the map, plain"),
            ("assets/map.js.br", "the map as brotli"),
            ("assets/map.js.gz", "the map as gzip"),
            ("assets/small.js", "no copies"),
        ] {
            std::fs::write(dir.join(name), body).unwrap_or_else(|e| panic!("{e}"));
        }
        let base = serve(super::mount(axum::Router::new(), &dir, not_found)).await;
        let check =
            |path: &'static str, accept: Option<&'static str>, encoding: Option<&'static str>, body: &'static str| {
                let base = base.clone();
                async move {
                    let (status, got_encoding, vary, got) = get_encoded(&base, path, accept).await;
                    assert_eq!(
                        (status, got_encoding.as_deref(), String::from_utf8_lossy(&got).as_ref()),
                        (200, encoding, body),
                        "{path} with Accept-Encoding {accept:?}"
                    );
                    assert_eq!(vary.as_deref(), Some("accept-encoding"), "{path}: caches keep one answer per encoding");
                }
            };
        check("/assets/map.js", Some("br"), Some("br"), "the map as brotli").await;
        check("/assets/map.js", Some("gzip, deflate, br"), Some("br"), "the map as brotli").await;
        check("/assets/map.js", Some("gzip"), Some("gzip"), "the map as gzip").await;
        check("/assets/map.js", None, None, "the map, plain").await;
        check("/assets/map.js", Some("identity"), None, "the map, plain").await;
        check("/assets/small.js", Some("br"), None, "no copies").await;
        check("/", Some("br"), Some("br"), "wall as brotli").await;
        check("/index.html", Some("gzip"), Some("gzip"), "wall as gzip").await;
        // An unknown page is still the index (compressed too); unknown API paths are not.
        check("/wall/anything", Some("br"), Some("br"), "wall as brotli").await;
        check("/wall/anything", None, None, "<html>wall</html>").await;
        assert_eq!(get_encoded(&base, "/api/nothing", Some("br")).await.0, 404);
        assert_eq!(get_encoded(&base, "/open311/v9/x", Some("br")).await.0, 404);
        let (_, cache, _) = get_with_cache(&base, "/assets/map.js").await;
        assert_eq!(cache.as_deref(), Some(super::IMMUTABLE), "the bundles keep their year");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
