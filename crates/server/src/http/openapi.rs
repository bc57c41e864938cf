//! What the OpenAPI document says of every operation at once: who may call it, and the answers
//! of the layers in front of the handlers (the bearer-token check, the JSON reader).
//!
//! Written once here, so that an operation added tomorrow is described like the others; the
//! security suite (Schemathesis and the authorization matrix) checks that the server agrees.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

/// The name of the bearer-token scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";

/// Operations anyone may call, without a token: logging in, with a password or with the panel's
/// sign-on token. Every other one needs a live token.
pub const PUBLIC_OPERATIONS: &[&str] = &["login", "sso_login"];

pub struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of `POST /api/v1/session`; it ends at logout, after idling, \
                         or at its absolute expiry.",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                describe(op);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn describe(op: &mut Operation) {
    let public = op
        .operation_id
        .as_deref()
        .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
    if !public {
        op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        add_error(
            op,
            "401",
            "no token, or one that expired or was revoked at logout",
        );
    }
    let takes_json = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if takes_json {
        // What `extract::ApiJson` answers before the handler runs.
        add_error(op, "400", "the body is not well-formed JSON");
        add_error(op, "413", "the body is larger than the API reads");
        add_error(op, "415", "the body is not sent as application/json");
        add_error(
            op,
            "422",
            "a field is missing, unknown, or of a type or value the schema does not allow",
        );
    }
    if op.operation_id.as_deref() == Some("download") {
        served_types(op);
    }
}

/// Adds an answer in the API's error shape, unless the operation describes that status itself.
fn add_error(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorResponse")))
                            .build(),
                    )
                    .build(),
            )
        });
}

/// A download is served as one of the types the server knows how to serve, else as bytes.
fn served_types(op: &mut Operation) {
    let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else {
        return;
    };
    let mut types: Vec<&str> = crate::files::SERVABLE
        .iter()
        .map(|t| t.split(';').next().unwrap_or(t).trim())
        .chain([crate::files::OCTET_STREAM])
        .collect();
    types.sort_unstable();
    types.dedup();
    ok.content = types
        .into_iter()
        .map(|t| (t.to_string(), ContentBuilder::new().build()))
        .collect();
}

#[cfg(test)]
mod tests {
    use helpdesk_core::limits;
    use serde_json::Value;
    use utoipa::OpenApi;

    fn doc() -> Value {
        serde_json::to_value(super::super::ApiDoc::openapi()).expect("the document is JSON")
    }

    fn field(doc: &Value, schema: &str, field: &str, key: &str) -> u64 {
        doc["components"]["schemas"][schema]["properties"][field][key]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} has no {key}"))
    }

    /// Schema attributes take literals only; this keeps them equal to the limits the server applies.
    #[test]
    fn the_documented_limits_are_the_limits_the_server_applies() {
        let d = doc();
        let subject = limits::SUBJECT_MAX_CHARS as u64;
        let body = limits::BODY_MAX_CHARS as u64;
        let files = limits::MAX_FILES_PER_MESSAGE as u64;
        assert_eq!(field(&d, "NewTicket", "subject", "maxLength"), subject);
        assert_eq!(
            field(&d, "NewTicket", "subject", "minLength"),
            limits::SUBJECT_MIN_CHARS as u64
        );
        assert_eq!(
            field(&d, "NewTicket", "description", "minLength"),
            limits::DESCRIPTION_MIN_CHARS as u64
        );
        assert_eq!(field(&d, "NewTicket", "description", "maxLength"), body);
        assert_eq!(field(&d, "NewTicket", "upload_ids", "maxItems"), files);
        assert_eq!(
            field(&d, "NewReply", "body", "minLength"),
            limits::REPLY_MIN_CHARS as u64
        );
        assert_eq!(field(&d, "NewReply", "body", "maxLength"), body);
        assert_eq!(field(&d, "NewReply", "upload_ids", "maxItems"), files);
        assert_eq!(field(&d, "StaffReply", "body", "maxLength"), body);
        assert_eq!(field(&d, "AssessRequest", "subject", "maxLength"), subject);
        assert_eq!(
            field(&d, "SsoRequest", "token", "maxLength"),
            crate::sso::MAX_TOKEN_BYTES as u64
        );
        let limit = d["paths"]["/api/v1/tickets"]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
            .expect("the list documents `limit`");
        assert_eq!(
            limit["schema"]["maximum"].as_u64(),
            Some(u64::from(super::super::tickets::PAGE_MAX))
        );
    }

    #[test]
    fn every_operation_but_login_asks_for_a_token_and_every_operation_id_is_unique() {
        let d = doc();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in d["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operations") {
                let id = op["operationId"].as_str().expect("an operationId");
                assert!(ids.insert(id.to_string()), "{id} twice");
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                assert_eq!(
                    secured,
                    !super::PUBLIC_OPERATIONS.contains(&id),
                    "{method} {path}"
                );
                assert!(
                    !secured || op["responses"].get("401").is_some(),
                    "{method} {path} needs a token and documents its 401"
                );
            }
        }
    }
}
