//! The error responses of the OpenAPI document, defined once: each is an RFC 9457
//! `application/problem+json` body (the `Problem` schema) whose `detail` and
//! `invalid-params` say what exactly was wrong. Operations reference them by status
//! (`(status = 404, response = NotFound)`), and [`super::ApiDoc`] registers them.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type};

/// A problem+json response with this description, and `Retry-After` when `retry`.
fn problem(description: &str, retry: bool) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        crate::error::PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if retry {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    response.build().into()
}

macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident = ($description:literal, retry: $retry:literal);)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), problem($description, $retry))
                }
            }
        )*

        /// Every shared response, for the document's components.
        pub fn all() -> Vec<(&'static str, RefOr<Response>)> {
            use utoipa::ToResponse;
            vec![$($name::response()),*]
        }
    };
}

problem_responses! {
    /// 400.
    BadRequest = ("A parameter or the body is missing, malformed or out of range (the problem names it)", retry: false);
    /// 401.
    Unauthorized = ("No valid credentials: a missing, bad, expired or revoked bearer token, wrong login details, or an unknown or revoked X-API-Key", retry: false);
    /// 403.
    Forbidden = ("The token's role may not do this", retry: false);
    /// 404.
    NotFound = ("No such resource (the detail says which)", retry: false);
    /// 406.
    NotAcceptable = ("The Accept header names no format this endpoint serves", retry: false);
    /// 408.
    RequestTimeout = ("The request was not received and answered in time", retry: false);
    /// 409.
    Conflict = ("The request conflicts with the data: a key already taken, a decision already made, or data not imported yet (the detail says which)", retry: false);
    /// 412.
    PreconditionFailed = ("The record has changed since the ETag in If-Match", retry: false);
    /// 413.
    PayloadTooLarge = ("The body is larger than this endpoint accepts", retry: false);
    /// 415.
    UnsupportedMediaType = ("The body's Content-Type is not one this endpoint takes (JSON bodies need application/json or a +json type)", retry: false);
    /// 422.
    Unprocessable = ("Invalid fields, each named in `invalid-params`; nothing changed", retry: false);
    /// 428.
    PreconditionRequired = ("If-Match with the record's ETag is required", retry: false);
    /// 429.
    TooManyRequests = ("Too many requests from this client address or API key (or failed logins, or suggestions, or costly requests still running); wait Retry-After seconds", retry: true);
    /// 431.
    HeadersTooLarge = ("The request's headers are larger than 16 KiB", retry: false);
    /// 503.
    Unavailable = ("The database is unavailable, the server is busy with other costly requests (reports not yet cached, what-if, imports) or password checks, or the admin API is disabled (no JWT secret); the detail says which", retry: true);
}

/// A reference to the shared response `name`.
pub fn reference(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
}
