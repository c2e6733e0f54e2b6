//! JSON request bodies, in one extractor: the `Content-Type` must say JSON
//! (`application/json`, or a `+json` type such as `application/merge-patch+json`), else
//! `415 Unsupported Media Type` before the body is read. A cross-origin page can send
//! `text/plain` without a CORS preflight (a "simple request"), so a route that parsed any
//! body as JSON could be made to act by every visitor of that page; refusing other types
//! closes that door. The body is then parsed with a 400 naming what was expected.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

use crate::error::ApiError;

/// A body type: what a malformed one is told, and which media types it comes in.
pub trait JsonBody: DeserializeOwned {
    /// The 400's reason for a body that is not this, e.g. `must be {"reason": "..."}`.
    const INVALID: &'static str;

    /// Whether `media` (the lower-cased type and subtype, without parameters) is accepted.
    fn accepts(media: &str) -> bool {
        is_json(media)
    }

    /// What the 415 says is accepted.
    fn accepted() -> &'static str {
        "application/json"
    }
}

/// `application/json` or `application/<anything>+json`.
pub fn is_json(media: &str) -> bool {
    media == "application/json"
        || media
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && sub.len() > "+json".len())
}

/// A JSON body of type `T`, checked for its media type, then parsed.
pub struct Json<T>(pub T);

/// Any JSON value (the asset bodies, validated field by field by the write side).
impl JsonBody for serde_json::Value {
    const INVALID: &'static str = "is not valid JSON";
}

/// A JSON Merge Patch (RFC 7396): `application/merge-patch+json`, or plain
/// `application/json`; not other `+json` types such as JSON Patch (RFC 6902), which is a
/// different format.
pub struct MergePatch(pub serde_json::Value);

impl<'de> serde::Deserialize<'de> for MergePatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(MergePatch)
    }
}

impl JsonBody for MergePatch {
    const INVALID: &'static str = "is not valid JSON";

    fn accepts(media: &str) -> bool {
        media == "application/merge-patch+json" || media == "application/json"
    }

    fn accepted() -> &'static str {
        "application/merge-patch+json or application/json"
    }
}

/// The request's media type, lower-cased, without parameters (`charset=utf-8`).
fn media_type(req: &HttpRequest) -> Option<String> {
    let v = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// The 415 for a body that is not of an accepted media type.
pub fn check_media_type<T: JsonBody>(req: &HttpRequest) -> Result<(), ApiError> {
    match media_type(req) {
        Some(m) if T::accepts(&m) => Ok(()),
        Some(m) => Err(ApiError::UnsupportedMediaType(format!(
            "the body is {m}; this endpoint takes {} (send Content-Type: {})",
            T::accepted(),
            T::accepted()
                .split(' ')
                .next()
                .unwrap_or("application/json")
        ))),
        None => Err(ApiError::UnsupportedMediaType(format!(
            "no Content-Type: this endpoint takes {}",
            T::accepted()
        ))),
    }
}

impl<T: JsonBody + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The body is only read when its type is right.
        if let Err(e) = check_media_type::<T>(req) {
            return Box::pin(std::future::ready(Err(e.into())));
        }
        // Within the route's size limit (413 beyond it), as a plain `Bytes` body is.
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            serde_json::from_slice(&bytes)
                .map(Json)
                .map_err(|e| ApiError::param("body", format!("{}: {e}", T::INVALID)).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("application/+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("text/json+xml"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data"));
    }
}
