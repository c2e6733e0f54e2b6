//! One error type for the HTTP API, rendered once as RFC 9457 `application/problem+json`.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::import::ImportError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details object.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank", "title": "Bad Request", "status": 400,
    "detail": "radius_m: must be a number from 1 to 50000",
    "invalid-params": [{"name": "radius_m", "reason": "must be a number from 1 to 50000"}]
}))]
pub struct Problem {
    /// A URI identifying the problem type; `about:blank` means the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The query parameters or fields that were wrong, and why (for a file, at most the
    /// first 1,000 of its problems).
    #[serde(rename = "invalid-params", skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// A rejected file: how many problems it has, listed or not.
    #[serde(
        rename = "invalid-params-total",
        skip_serializing_if = "Option::is_none"
    )]
    pub invalid_params_total: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{name}: {reason}")]
    BadParam { name: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAcceptable(String),
    /// The request is valid but the data it needs is not there yet (e.g. no areas).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    /// The work budget is full (see [`crate::budget`]): try again after `retry_after_s`.
    #[error("{message}")]
    Busy { retry_after_s: u64, message: String },
    /// A part of the service is switched off by its configuration (e.g. no JWT secret).
    #[error("{0}")]
    Disabled(String),
    /// No valid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// `If-Match` names another version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A conditional request was required.
    #[error("{0}")]
    PreconditionRequired(String),
    /// The body's fields are invalid; every one is listed.
    #[error("{} field(s) are invalid", .0.len())]
    InvalidFields(Vec<InvalidParam>),
    /// A file's rows are invalid: the first [`crate::import::MAX_LISTED`] problems are
    /// listed, and `total` says how many there are.
    #[error("{total} problem(s) in the file; nothing was imported{}", if .listed.len() < *.total { format!(" (the first {} are listed)", .listed.len()) } else { String::new() })]
    Rejected {
        listed: Vec<InvalidParam>,
        total: usize,
    },
    #[error("{message}")]
    TooManyRequests { retry_after_s: u64, message: String },
    /// The body's media type is not one the endpoint takes (e.g. `text/plain` for JSON).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request's headers are larger than the service accepts.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The request was not received and answered in time (`REQUEST_TIMEOUT_SECONDS`).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn param(name: &str, reason: impl Into<String>) -> Self {
        ApiError::BadParam {
            name: name.to_string(),
            reason: reason.into(),
        }
    }

    /// A 422 for one invalid body field.
    pub fn field(name: &str, reason: impl Into<String>) -> Self {
        ApiError::InvalidFields(vec![InvalidParam {
            name: name.to_string(),
            reason: reason.into(),
        }])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed(format!(
                "the asset has changed since you read it: it is now at version {current} (ETag \"{current}\"); read it again and reapply your change"
            )),
            StoreError::Invalid(m) => ApiError::Conflict(m),
            // A unique key (an asset's source and source_id, a username) already taken,
            // e.g. by a concurrent write: the caller's conflict, not a server error.
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => ApiError::Conflict(unique_key_taken(info.as_ref())),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The client's words for a unique key already taken: which key, never the database's
/// own text (constraint and index names, the values), which goes to the log.
fn unique_key_taken(info: &(dyn diesel::result::DatabaseErrorInformation + Send + Sync)) -> String {
    tracing::info!(
        message = info.message(),
        constraint = info.constraint_name(),
        details = info.details(),
        "unique key already taken"
    );
    let said = format!(
        "{} {}",
        info.message(),
        info.constraint_name().unwrap_or_default()
    );
    if said.contains("source_records") {
        "another asset already has this source and source_id".into()
    } else if said.contains("username") {
        "another account already has this username".into()
    } else {
        "another record already has this key".into()
    }
}

/// An import's rejected rows are a 422 listing each as `location: field`.
impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Rejected(errors) => ApiError::Rejected {
                total: errors.total(),
                listed: errors
                    .into_listed()
                    .into_iter()
                    .map(|e| InvalidParam {
                        name: format!("{}: {}", e.location, e.field),
                        reason: match &e.value {
                            Some(v) => {
                                format!("{} (value {})", e.reason, crate::domain::asset::preview(v))
                            }
                            None => e.reason,
                        },
                    })
                    .collect(),
            },
            ImportError::Store(e) => e.into(),
            ImportError::Io(m) => ApiError::Internal(m),
        }
    }
}

/// Costly work not admitted: the service is busy (503), or this client already has its
/// share running (429); both say when to try again.
impl From<crate::budget::Refused> for ApiError {
    fn from(r: crate::budget::Refused) -> Self {
        use crate::budget::Refused;
        match r {
            Refused::Busy { retry_after_s } => ApiError::Busy {
                retry_after_s,
                message: "the server is busy with other costly requests; try again after Retry-After seconds (cached reports and searches are still answered)".into(),
            },
            Refused::ClientBusy { retry_after_s, held } => ApiError::TooManyRequests {
                retry_after_s,
                message: format!("you already have {held} costly request(s) running; wait for them before sending another"),
            },
            Refused::Failed(m) => ApiError::Internal(m),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::Disabled(_) | ApiError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::InvalidFields(_) | ApiError::Rejected { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            // Internal details go to the log, not to the client.
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                "the server could not complete the request".to_string()
            }
            ApiError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                "the database is unavailable; public reads still work, try again shortly"
                    .to_string()
            }
            other => other.to_string(),
        };
        let mut p = problem(status, detail);
        match self {
            ApiError::BadParam { name, reason } => p.invalid_params.push(InvalidParam {
                name: name.clone(),
                reason: reason.clone(),
            }),
            ApiError::InvalidFields(fields) => p.invalid_params = fields.clone(),
            ApiError::Rejected { listed, total } => {
                p.invalid_params = listed.clone();
                p.invalid_params_total = Some(*total);
            }
            _ => {}
        }
        let mut res = HttpResponse::build(status);
        match self {
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::TooManyRequests { retry_after_s, .. }
            | ApiError::Busy { retry_after_s, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after_s.to_string()));
            }
            ApiError::Unauthorized(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"community-assets\"",
                ));
            }
            _ => {}
        }
        res.content_type(PROBLEM_JSON).json(p)
    }
}

fn problem(status: StatusCode, detail: String) -> Problem {
    Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail,
        invalid_params: Vec::new(),
        invalid_params_total: None,
    }
}

/// Middleware hook: any error response that is not already problem+json (actix's own 404,
/// 405, 413, malformed-path errors and so on) is rewritten as one, so clients see a single
/// error format.
pub fn render_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match status {
        StatusCode::NOT_FOUND => format!("no resource at {}", res.request().path()),
        StatusCode::METHOD_NOT_ALLOWED => {
            format!(
                "{} is not allowed on {}",
                res.request().method(),
                res.request().path()
            )
        }
        _ => res
            .response()
            .error()
            .map(|e| e.to_string())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
    };
    let body = serde_json::to_string(&problem(status, detail)).unwrap_or_default();
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let res = res.set_body(body).map_into_boxed_body();
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, res).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
