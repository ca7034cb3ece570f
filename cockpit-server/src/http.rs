//! HTTP hardening: security headers on every response, CORS only for the configured
//! origins, and TLS (rustls) when a certificate is configured.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use crate::config::HttpConfig;

impl HttpConfig {
    /// Whether TLS is configured.
    pub fn tls(&self) -> bool {
        !self.tls_cert_file.as_os_str().is_empty() && !self.tls_key_file.as_os_str().is_empty()
    }
}

/// Adds the security headers and CORS to `router`.
pub fn harden<S: Clone + Send + Sync + 'static>(router: Router<S>, config: &HttpConfig) -> Router<S> {
    let mut headers: Vec<(HeaderName, &'static str)> = vec![
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            // The web front ends are bundled and same-origin; the map draws with workers
            // from blob: URLs and images from data: URLs.
            "default-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (HeaderName::from_static("permissions-policy"), "camera=(self), geolocation=(self), microphone=(self)"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        // Responses carry case data: no shared cache may keep them.
        (header::CACHE_CONTROL, "no-store"),
    ];
    if config.tls() {
        headers.push((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"));
    }
    let mut router = router;
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    let origins: Vec<HeaderValue> = config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("idempotency-key"),
                ])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
}

/// Serves `router` over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // One process-wide provider; a second install (tests start several servers) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&config.tls_cert_file, &config.tls_key_file)
        .await
        .with_context(|| {
        format!(
            "reading the TLS certificate {} and key {}",
            config.tls_cert_file.display(),
            config.tls_key_file.display()
        )
    })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let listener = listener.into_std().context("the listener")?;
    axum_server::from_tcp_rustls(listener, tls)
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .context("serving HTTPS")
}
