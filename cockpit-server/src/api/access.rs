//! The one authorisation mechanism for HTTP: every route is declared with the access it
//! needs ([`Access`]), and the router is built only from those declarations, each route
//! wrapped in [`authorize`]. A route cannot exist without a declaration; the table of
//! declarations ([`route_table`]) is what the access-matrix test walks.
//!
//! Region scope is the second half: handlers read cases through the caller's
//! `CaseScope`, so a case outside the caller's region is not found (404, nothing leaked).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use cockpit_access::Permission;

use super::ApiError;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, the API description, logging in, Open311 (citizens' clients).
    Public,
    /// A source system's bearer token, checked by the handler against that source only.
    Source,
    /// Any logged-in user, also one whose session may only enrol a second factor or
    /// change the password (their own account's routes).
    Session,
    /// A logged-in user holding this permission.
    Permission(Permission),
    /// A logged-in user holding any of these; the handler checks which.
    AnyOf(&'static [Permission]),
}

/// One declared route.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// The HTTP method.
    pub method: Method,
    /// The path, in axum's syntax (`/api/cases/{id}`).
    pub path: &'static str,
    /// What it needs.
    pub access: Access,
    /// Its operation in the OpenAPI document, with the schemas it refers to.
    pub(crate) doc: fn() -> Documented,
}

/// A route's operation as its handler's `#[utoipa::path]` describes it: the method and
/// path written there (checked against the declaration by a test), the operation, and
/// the schemas it names.
pub(crate) struct Documented {
    /// Read by the test that keeps the annotation and the declaration together.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) path: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) methods: Vec<utoipa::openapi::path::HttpMethod>,
    pub(crate) operation: utoipa::openapi::path::Operation,
    pub(crate) schemas: Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
}

/// What `#[utoipa::path]` makes of a handler (the struct `__path_<handler>`).
pub(crate) trait Doc: utoipa::Path + utoipa::__dev::SchemaReferences {}

impl<D: utoipa::Path + utoipa::__dev::SchemaReferences> Doc for D {}

fn documented<D: Doc>() -> Documented {
    let mut schemas = Vec::new();
    D::schemas(&mut schemas);
    Documented { path: D::path(), methods: D::methods(), operation: D::operation(), schemas }
}

/// Where route declarations go: the router, or the table.
pub(crate) trait Routes {
    /// Declares a route, with its own body limit when it takes uploads.
    fn declare<H, T>(&mut self, route: RouteInfo, limit: Option<usize>, handler: H)
    where
        H: Handler<T, AppState>,
        T: 'static;

    /// Declares a route, documented by its handler's `#[utoipa::path]` (`_doc`).
    fn add<H, T, D: Doc>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
        _doc: D,
    ) -> &mut Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.declare(RouteInfo { method, path, access, doc: documented::<D> }, None, handler);
        self
    }

    /// Declares a route with its own body limit (uploads).
    fn add_limited<H, T, D: Doc>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        limit: usize,
        handler: H,
        _doc: D,
    ) -> &mut Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.declare(RouteInfo { method, path, access, doc: documented::<D> }, Some(limit), handler);
        self
    }
}

/// Builds the router from declarations: each route behind [`authorize`].
pub(crate) struct RouterBuilder {
    pub(crate) state: AppState,
    pub(crate) router: Router<AppState>,
}

impl Routes for RouterBuilder {
    fn declare<H, T>(&mut self, route: RouteInfo, limit: Option<usize>, handler: H)
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(route.method).unwrap_or(MethodFilter::GET);
        let mut method_router = on(filter, handler);
        if let Some(limit) = limit {
            method_router = method_router.layer(DefaultBodyLimit::max(limit));
        }
        let method_router = method_router
            .route_layer(middleware::from_fn_with_state((self.state.clone(), route.access, route.path), authorize));
        self.router = std::mem::take(&mut self.router).route(route.path, method_router);
    }
}

/// Collects declarations without a server.
#[derive(Default)]
pub(crate) struct Table(pub(crate) Vec<RouteInfo>);

impl Routes for Table {
    fn declare<H, T>(&mut self, route: RouteInfo, _: Option<usize>, _: H)
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.0.push(route);
    }
}

/// Every route with the access it needs.
pub fn route_table() -> Vec<RouteInfo> {
    let mut table = Table::default();
    super::declare(&mut table, 0);
    table.0
}

/// The client's address: the peer of the connection.
fn address_of(request: &Request) -> String {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default()
}

/// Authenticates and authorises one request as its route declares, then hands the
/// handler a [`Caller`] (or, on public routes, the [`ClientAddress`]).
async fn authorize(
    State((state, access, path)): State<(AppState, Access, &'static str)>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Err(e) = super::params::check_uri(path, request.uri()) {
        if path.starts_with("/open311/") {
            return super::open311::Open311Error::from(e).into_response();
        }
        return e.into_response();
    }
    let address = address_of(&request);
    let needed: &[Permission] = match access {
        Access::Public | Access::Source => {
            request.extensions_mut().insert(ClientAddress(address));
            return next.run(request).await;
        }
        Access::Session => &[],
        Access::Permission(ref p) => std::slice::from_ref(p),
        Access::AnyOf(list) => list,
    };
    let upgrade = path == "/api/live" && request.headers().contains_key(axum::http::header::UPGRADE);
    let principal = match state.auth.authenticate(request.headers(), upgrade).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if !needed.is_empty() {
        if principal.restricted {
            return ApiError::Forbidden {
                detail:
                    "this session may only enrol a second factor or change the password; do that, then log in again"
                        .into(),
                allowed: Vec::new(),
            }
            .into_response();
        }
        if !needed.iter().any(|p| principal.can(*p)) {
            let names: Vec<&str> = needed.iter().map(|p| p.as_str()).collect();
            return ApiError::Forbidden {
                detail: format!("this needs the permission {}", names.join(" or ")),
                allowed: Vec::new(),
            }
            .into_response();
        }
    }
    request.extensions_mut().insert(ClientAddress(address.clone()));
    request.extensions_mut().insert(Caller { principal, address });
    next.run(request).await
}
