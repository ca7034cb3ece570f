//! The OpenAPI document, generated: each route of the route table (`declare`) contributes
//! the operation its handler's `#[utoipa::path]` describes, at the declared path and
//! method, with the access it needs (in the description and as `x-permission`), and the
//! refusals every route of its kind can answer (`authorize`'s 401 and 403, a bad
//! parameter's 400, a missing object's 404, a large body's 413) as problems.
//! The schemas come from the API's types (`utoipa::ToSchema`).

use std::sync::OnceLock;

use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, Paths, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::access::{Access, RouteInfo};
use super::error::Problem;
use super::open311::Failure;

mod rules;

/// The document, built once from the route table, with the rules every request obeys.
#[cfg(test)]
pub(crate) fn document() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = routes_only().clone();
        rules::apply(&mut doc);
        doc
    })
}

/// The document of the route table, as the handlers' annotations make it.
fn routes_only() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| build(&super::route_table()))
}

/// The document as this city's data makes it: where a parameter must name something the
/// city has (a region above the grids, a point layer), the schema lists what it has, so
/// that a request valid by the document is one the server takes. A blank value counts as
/// absent, as in every query.
pub(crate) fn for_city(geography: &crate::geography::Geography, categories: &cockpit_events::CategoryTree) -> OpenApi {
    let mut doc = routes_only().clone();
    let city = &geography.city;
    let parents: Vec<&str> = std::iter::once("")
        .chain(city.regions().iter().filter(|r| r.level != cockpit_geo::Level::Grid).map(|r| r.code.as_str()))
        .collect();
    name_values(&mut doc, "/api/regions", "parent", &parents);
    let layers: Vec<&str> = geography.points.keys().map(String::as_str).collect();
    name_values(&mut doc, "/api/nearby", "layer", &layers);
    // Open311's services are the leaf categories.
    let leaves: Vec<&str> = categories.leaves().into_iter().map(|c| c.code.as_str()).collect();
    let service = format!("({})", leaves.join("|"));
    if let Some(RefOr::T(Schema::Object(parameter))) =
        query_schema(&mut doc, "/open311/v2/requests.json", "service_code")
    {
        parameter.pattern = Some(format!("^{service}(,{service})*$"));
    }
    if let Some(components) = doc.components.as_mut()
        && let Some(RefOr::T(Schema::Object(report))) = components.schemas.get_mut("Report")
        && let Some(RefOr::T(Schema::Object(code))) = report.properties.get_mut("service_code")
    {
        code.pattern = None;
        code.enum_values = Some(leaves.iter().map(|c| serde_json::Value::from(*c)).collect());
    }
    rules::apply(&mut doc);
    doc
}

/// Makes the query parameter `name` of `GET path` one of `values`.
fn name_values(doc: &mut OpenApi, path: &str, name: &str, values: &[&str]) {
    if let Some(RefOr::T(Schema::Object(object))) = query_schema(doc, path, name) {
        object.pattern = None;
        object.min_length = None;
        object.enum_values = Some(values.iter().map(|v| serde_json::Value::from(*v)).collect());
    }
}

/// The schema of the query parameter `name` of `GET path`.
fn query_schema<'a>(doc: &'a mut OpenApi, path: &str, name: &str) -> Option<&'a mut RefOr<Schema>> {
    let operation = doc.paths.paths.get_mut(path)?.get.as_mut()?;
    operation.parameters.iter_mut().flatten().find_map(|parameter| match parameter {
        RefOr::T(parameter) if parameter.name == name => parameter.schema.as_mut(),
        _ => None,
    })
}

/// The document of these routes.
pub(crate) fn build(routes: &[RouteInfo]) -> OpenApi {
    let mut paths = Paths::new();
    let mut components = ComponentsBuilder::new()
        .schema(Problem::name(), Problem::schema())
        .schema(Failure::name(), Failure::schema())
        .security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "登录所得的访问令牌 An access token from POST /api/auth/login (short-lived; renew with POST /api/auth/refresh).",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "sourceToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "来源系统的令牌 A source system's own token; it reaches only that source's intake endpoint.",
                    ))
                    .build(),
            ),
        );
    for route in routes {
        let documented = (route.doc)();
        for (name, schema) in documented.schemas {
            components = components.schema(name, schema);
        }
        let operation = complete(documented.operation, route);
        paths.add_path_operation(openapi_path(route.path), vec![http_method(&route.method)], operation);
    }
    let info = InfoBuilder::new()
        .title("城市运行驾驶舱 City operations cockpit API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "地理、案件、接入、设备与告警。每个操作注明所需权限（x-permission）；错误均为 RFC 9457 问题（application/problem+json），`field` 指出出错的字段。\n\n\
             Geography, cases, intake, devices and alarms. Each operation names the access it needs \
             (`x-permission`); every refusal is an RFC 9457 problem (`application/problem+json`) naming the `field`.",
        ))
        .build();
    let mut doc = OpenApi::new(info, paths);
    doc.components = Some(components.build());
    doc.security = Some(vec![SecurityRequirement::new("session", Vec::<String>::new())]);
    doc
}

/// The path in OpenAPI's syntax: axum's `{*rest}` is `{rest}`.
pub(crate) fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn http_method(method: &axum::http::Method) -> HttpMethod {
    match *method {
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::DELETE => HttpMethod::Delete,
        axum::http::Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// What the route needs, in words and as the value of `x-permission`.
pub(crate) fn permission(access: &Access) -> String {
    match access {
        Access::Public => "public".into(),
        Access::Source => "source token".into(),
        Access::Session => "session".into(),
        Access::Permission(p) => p.as_str().into(),
        Access::AnyOf(list) => list.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" or "),
    }
}

/// The operation with the route's access and the refusals every route of its kind may
/// answer.
fn complete(mut operation: Operation, route: &RouteInfo) -> Operation {
    let needs = permission(&route.access);
    let line = format!("权限 Permission: `{needs}`");
    operation.description = Some(match operation.description.take().filter(|d| !d.trim().is_empty()) {
        Some(d) => format!("{d}\n\n{line}"),
        None => line,
    });
    let mut extensions = operation.extensions.take().unwrap_or_default();
    extensions.insert("x-permission".into(), serde_json::Value::String(needs));
    operation.extensions = Some(extensions);
    match route.access {
        Access::Public => operation.security = Some(Vec::new()),
        Access::Source => {
            operation.security = Some(vec![SecurityRequirement::new("sourceToken", Vec::<String>::new())]);
        }
        _ => {}
    }
    let mut refusals = vec![("400", "参数错误 A bad parameter or body, named in `field`")];
    if !matches!(route.access, Access::Public) {
        refusals.push(("401", "未登录或凭据无效 No valid credentials"));
    }
    if matches!(route.access, Access::Permission(_) | Access::AnyOf(_) | Access::Source) {
        refusals.push(("403", "无此权限 Not allowed for this role"));
    }
    if route.path.contains('{') {
        refusals.push(("404", "不存在 Not found"));
    }
    if route.method == axum::http::Method::POST || route.method == axum::http::Method::PUT {
        refusals.push(("413", "请求体过大 The body is larger than allowed"));
    }
    refusals.push(("503", "正在关闭或过载 Shutting down or overloaded: try again"));
    // Open311's refusals are in its own format: `[{code, description}]`.
    let open311 = route.path.starts_with("/open311/");
    for (status, description) in refusals {
        let refusal = || if open311 { open311_failure(description) } else { problem(description) };
        operation.responses.responses.entry(status.to_string()).or_insert_with(refusal);
    }
    operation
}

/// A refusal in Open311's format.
fn open311_failure(description: &str) -> RefOr<utoipa::openapi::Response> {
    let list = utoipa::openapi::schema::ArrayBuilder::new().items(Ref::from_schema_name(Failure::name()));
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(list)).build())
        .build()
        .into()
}

/// A problem response.
fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name(Problem::name()))).build(),
        )
        .build()
        .into()
}
