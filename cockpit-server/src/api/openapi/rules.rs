//! What every request obeys, whatever its handler, written into the document so that a
//! request valid by the document is one the server takes (`params` holds the checks):
//! - no control character in a path or query parameter (C0 and DEL), nor in a body's text
//!   or member names (tab, line feed and carriage return are text there);
//! - a path parameter is never empty;
//! - an optional query parameter left blank counts as absent, and so does a blank member of
//!   the bodies read that way ([`BLANK_IS_ABSENT`]); a required one is therefore never blank;
//! - a member a body's type does not name is ignored, whatever JSON it holds, under the
//!   same rule for its text (`FreeJson`).

use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{AdditionalProperties, AnyOf, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Required};

/// A path parameter's text: at least one character, none a control character.
const PATH_TEXT: &str = "^[^\\x00-\\x1F\\x7F]+$";
/// A query parameter's text: no control character.
const QUERY_TEXT: &str = "^[^\\x00-\\x1F\\x7F]*$";
/// A required query parameter's text: no control character, and not blank (a blank value
/// counts as absent).
const REQUIRED_QUERY_TEXT: &str = "^[^\\x00-\\x1F\\x7F]*[^ \\x00-\\x1F\\x7F][^\\x00-\\x1F\\x7F]*$";
/// A body's text: no control character but tab, line feed and carriage return.
const BODY_TEXT: &str = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]*$";

/// A blank query value: spaces only (the other white space is a control character there).
const BLANK_QUERY: &str = "^ *$";
/// A blank body member: white space only.
const BLANK_BODY: &str = "^[ \\t\\n\\r]*$";

/// The bodies read by `params::from_body`, whose blank members count as absent.
const BLANK_IS_ABSENT: &[&str] = &["NewCaseBody"];

/// The name of the schema of any JSON under the body rules.
const FREE_JSON: &str = "FreeJson";

/// Writes the rules into every operation and schema of `doc`.
pub(super) fn apply(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter {
                    parameter_rules(parameter);
                }
            }
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                body_rules(body);
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            text_rules(schema);
        }
        for name in BLANK_IS_ABSENT {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) {
                let required = object.required.clone();
                let optional = object.properties.iter_mut().filter(|(member, _)| !required.contains(member));
                optional.for_each(|(_, schema)| or_blank(schema, BLANK_BODY));
            }
        }
        components.schemas.insert(FREE_JSON.to_string(), free_json());
    }
}

/// `schema`, or a text of nothing but `blank` (trimmed, it is empty).
fn or_blank(schema: &mut RefOr<Schema>, blank: &str) {
    let given = std::mem::replace(schema, RefOr::T(Schema::AnyOf(AnyOf::new())));
    let blank = ObjectBuilder::new().schema_type(Type::String).pattern(Some(blank)).build();
    let mut either = AnyOf::new();
    either.items = vec![given, RefOr::T(Schema::Object(blank))];
    *schema = RefOr::T(Schema::AnyOf(either));
}

/// Any JSON whose texts and member names hold no control character but tab, line feed and
/// carriage return.
fn free_json() -> RefOr<Schema> {
    let itself = || RefOr::Ref(utoipa::openapi::Ref::from_schema_name(FREE_JSON));
    let text = ObjectBuilder::new().schema_type(Type::String).pattern(Some(BODY_TEXT)).build();
    let names = ObjectBuilder::new().schema_type(Type::String).pattern(Some(BODY_TEXT)).build();
    let object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(Schema::Object(names)))
        .additional_properties(Some(AdditionalProperties::RefOr(itself())))
        .build();
    let array = utoipa::openapi::schema::ArrayBuilder::new().items(itself()).build();
    let scalar =
        ObjectBuilder::new().schema_type(SchemaType::Array(vec![Type::Number, Type::Boolean, Type::Null])).build();
    let mut any = AnyOf::new();
    any.items = vec![
        RefOr::T(Schema::Object(text)),
        RefOr::T(Schema::Object(scalar)),
        RefOr::T(Schema::Array(array)),
        RefOr::T(Schema::Object(object)),
    ];
    RefOr::T(Schema::AnyOf(any))
}

fn parameter_rules(parameter: &mut Parameter) {
    let required = matches!(parameter.required, Required::True);
    let text = match parameter.parameter_in {
        ParameterIn::Path => PATH_TEXT,
        ParameterIn::Query if required => REQUIRED_QUERY_TEXT,
        ParameterIn::Query => QUERY_TEXT,
        _ => return,
    };
    let Some(schema) = parameter.schema.as_mut() else { return };
    if let RefOr::T(schema) = schema {
        free_text(schema, text);
    }
    if parameter.parameter_in == ParameterIn::Query && !required {
        or_blank(schema, BLANK_QUERY);
    }
}

fn body_rules(body: &mut RequestBody) {
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content
            && let Some(schema) = content.schema.as_mut()
        {
            text_rules(schema);
        }
    }
}

/// A text schema without a pattern, an enum or a format gets `pattern`.
fn free_text(schema: &mut Schema, pattern: &str) {
    if let Schema::Object(object) = schema
        && is(&object.schema_type, Type::String)
        && object.pattern.is_none()
        && object.enum_values.is_none()
        && object.format.is_none()
    {
        object.pattern = Some(pattern.to_string());
    }
}

/// The body rules, down through a schema: text without control characters, and member
/// names without them.
fn text_rules(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) if is(&object.schema_type, Type::Object) => {
            let names = ObjectBuilder::new().schema_type(Type::String).pattern(Some(BODY_TEXT)).build();
            object.property_names = Some(Box::new(Schema::Object(names)));
            for property in object.properties.values_mut() {
                text_rules(property);
            }
            match object.additional_properties.as_deref_mut() {
                Some(AdditionalProperties::RefOr(extra)) => text_rules(extra),
                Some(AdditionalProperties::FreeForm(false)) => {}
                _ => {
                    let extra = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(FREE_JSON));
                    object.additional_properties = Some(Box::new(AdditionalProperties::RefOr(extra)));
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                text_rules(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(text_rules),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(text_rules),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(text_rules),
        _ => {}
    }
    free_text(schema, BODY_TEXT);
}

/// Whether a schema's type is `kind` (alone or beside null).
fn is(schema_type: &SchemaType, kind: Type) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == kind,
        SchemaType::Array(types) => types.contains(&kind),
        SchemaType::AnyValue => false,
    }
}
