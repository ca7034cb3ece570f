//! The routes of the indicators (issue 18), declared like the others in `declare`: the
//! catalogue, its values and push sources; thresholds and alarms; pulled sources; assessment.

use axum::http::Method;
use cockpit_access::Permission as P;

use super::VIEW_INDICATORS;
use super::access::{Access, Routes};

/// The routes of the indicator catalogue, its values and push sources (issue 18).
pub(super) fn catalogue(r: &mut impl Routes) {
    use super::indicator_catalogue as c;
    use super::indicator_values as v;
    use Access::{AnyOf, Permission as Needs, Source};
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    r.add(get.clone(), "/api/indicators/catalogue", AnyOf(VIEW_INDICATORS), c::list, c::__path_list)
        .add(post.clone(), "/api/indicators/catalogue", Needs(P::ManageIndicators), c::create, c::__path_create)
        .add(
            get.clone(),
            "/api/indicators/catalogue/export.csv",
            AnyOf(VIEW_INDICATORS),
            c::export_csv,
            c::__path_export_csv,
        )
        .add(get.clone(), "/api/indicators/catalogue/{id}", AnyOf(VIEW_INDICATORS), c::one, c::__path_one)
        .add(put.clone(), "/api/indicators/catalogue/{id}", Needs(P::ManageIndicators), c::replace, c::__path_replace)
        .add(Method::DELETE, "/api/indicators/catalogue/{id}", Needs(P::ManageIndicators), c::delete, c::__path_delete)
        .add(
            put.clone(),
            "/api/indicators/catalogue/{id}/published",
            Needs(P::ManageIndicators),
            c::publish,
            c::__path_publish,
        )
        .add(get.clone(), "/api/indicators/catalogue/{id}/values", AnyOf(VIEW_INDICATORS), v::list, v::__path_list)
        .add(put, "/api/indicators/catalogue/{id}/values", Needs(P::EnterIndicatorValues), v::enter, v::__path_enter)
        .add(
            get.clone(),
            "/api/indicators/catalogue/{id}/compare",
            AnyOf(VIEW_INDICATORS),
            v::compare,
            v::__path_compare,
        )
        .add(post.clone(), "/api/indicators/push/{source}", Source, v::push, v::__path_push)
        .add(get, "/api/indicators/sources", Needs(P::ManageIndicators), v::sources, v::__path_sources)
        .add(post, "/api/indicators/sources", Needs(P::ManageIndicators), v::create_source, v::__path_create_source);
}

/// The routes of indicator thresholds and alarms (issue 18, item 4).
pub(super) fn alarms(r: &mut impl Routes) {
    use super::indicator_alarms as a;
    use Access::{AnyOf, Permission as Needs};
    let path = "/api/indicators/catalogue/{id}/threshold";
    r.add(Method::GET, path, AnyOf(VIEW_INDICATORS), a::threshold, a::__path_threshold)
        .add(Method::PUT, path, Needs(P::ManageIndicators), a::set_threshold, a::__path_set_threshold)
        .add(Method::GET, "/api/indicators/alarms", AnyOf(VIEW_INDICATORS), a::alarms, a::__path_alarms)
        .add(
            Method::POST,
            "/api/indicators/alarms/{id}/acknowledge",
            Needs(P::AcknowledgeAlarms),
            a::acknowledge,
            a::__path_acknowledge,
        );
}

/// The routes of assessment and the vital-sign index (issue 18, item 5).
pub(super) fn assessment(r: &mut impl Routes) {
    use super::assessment as a;
    use Access::{AnyOf, Permission as Needs};
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    r.add(get.clone(), "/api/assessment/models", AnyOf(VIEW_INDICATORS), a::models, a::__path_models)
        .add(post, "/api/assessment/models", Needs(P::ManageIndicators), a::create, a::__path_create)
        .add(get.clone(), "/api/assessment/models/{id}", AnyOf(VIEW_INDICATORS), a::model, a::__path_model)
        .add(put.clone(), "/api/assessment/models/{id}", Needs(P::ManageIndicators), a::replace, a::__path_replace)
        .add(get.clone(), "/api/assessment/results", AnyOf(VIEW_INDICATORS), a::results, a::__path_results)
        .add(put, "/api/assessment/results/published", Needs(P::ManageIndicators), a::publish, a::__path_publish)
        .add(get.clone(), "/api/assessment/compare", AnyOf(VIEW_INDICATORS), a::compare, a::__path_compare)
        .add(get, "/api/indicators/vital-signs", AnyOf(VIEW_INDICATORS), a::vital_signs, a::__path_vital_signs);
}

/// The routes of pulled sources (issue 18, item 2: values pulled from other systems).
pub(super) fn pulls(r: &mut impl Routes) {
    use super::indicator_pulls as p;
    use Access::Permission as Needs;
    let one = "/api/indicators/pulls/{id}";
    r.add(Method::GET, "/api/indicators/pulls", Needs(P::ManageIndicators), p::list, p::__path_list)
        .add(
            Method::POST,
            "/api/indicators/pulls/test-fetch",
            Needs(P::ManageIndicators),
            p::test_fetch,
            p::__path_test_fetch,
        )
        .add(Method::GET, one, Needs(P::ManageIndicators), p::one, p::__path_one)
        .add(Method::PUT, one, Needs(P::ManageIndicators), p::put, p::__path_put)
        .add(Method::DELETE, one, Needs(P::ManageIndicators), p::delete, p::__path_delete);
}
