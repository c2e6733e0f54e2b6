//! Strict query-string parsing: unknown, repeated or malformed parameters are a 400 that
//! names the parameter and the rule it broke, never silently ignored.
//!
//! One definition per contract: an endpoint's query struct derives `IntoParams` (its
//! OpenAPI documentation) and implements [`QueryContract`] (its parsing); the names it
//! accepts are read from that documentation, so the two cannot drift. Handlers take it as
//! [`Query<T>`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use std::any::TypeId;
use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::{OnceLock, RwLock};
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use crate::error::ApiError;
pub use crate::wire::{list, MAX_LIST_VALUES};

/// Longest accepted query string, and most values in one list parameter.
const MAX_QUERY_LEN: usize = 4096;

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `query`, accepting only the parameter names in `allowed`. Names in
    /// `repeatable` may appear more than once (their values are joined as a list).
    pub fn parse<S: AsRef<str>>(
        query: &str,
        allowed: &[S],
        repeatable: &[&str],
    ) -> Result<Self, ApiError> {
        if query.len() > MAX_QUERY_LEN {
            return Err(ApiError::param(
                "query",
                format!("must be at most {MAX_QUERY_LEN} bytes"),
            ));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::param("query", "is not a valid URL-encoded query string"))?;
        for (i, (name, value)) in pairs.iter().enumerate() {
            if !allowed.iter().any(|a| a.as_ref() == name) {
                let accepted: Vec<&str> = allowed.iter().map(AsRef::as_ref).collect();
                return Err(ApiError::param(
                    name,
                    format!(
                        "is not a parameter of this endpoint (accepted: {})",
                        accepted.join(", ")
                    ),
                ));
            }
            if !repeatable.contains(&name.as_str()) && pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::param(name, "is given more than once"));
            }
            if value.trim().is_empty() {
                return Err(ApiError::param(
                    name,
                    "is empty: give a value or leave it out",
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// The value of a parameter (never empty: [`Params::parse`] refuses that).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// A comma-separated (or repeated) list, without empty or repeated items.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let values = self.pairs.iter().filter(|(n, _)| n == name);
        list(name, values.map(|(_, v)| v.as_str()))
    }

    /// A number within `[min, max]`.
    pub fn f64_in(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
            _ => Err(ApiError::param(
                name,
                format!("must be a number from {min} to {max}, got {v:?}"),
            )),
        }
    }

    /// A whole number within `[min, max]`, or `default` when absent.
    pub fn usize_in(
        &self,
        name: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        match v.parse::<usize>() {
            Ok(x) if (min..=max).contains(&x) => Ok(x),
            _ => Err(ApiError::param(
                name,
                format!("must be a whole number from {min} to {max}, got {v:?}"),
            )),
        }
    }

    /// `true` or `false`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::param(
                name,
                format!("must be true or false, got {v:?}"),
            )),
        }
    }

    /// An RFC 3339 timestamp with an offset, e.g. `2026-11-24T14:30:00Z`.
    pub fn timestamp(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::param(
                    name,
                    format!("must be an RFC 3339 time such as 2026-11-24T14:30:00Z, got {v:?}"),
                )
            })
    }

    /// One of a fixed set of words.
    pub fn one_of<'a>(&self, name: &str, choices: &[&'a str]) -> Result<Option<&'a str>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| **c == v)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                ApiError::param(
                    name,
                    format!("must be one of {}, got {v:?}", choices.join(", ")),
                )
            })
    }

    /// `n` comma-separated numbers.
    pub fn numbers(&self, name: &str, n: usize, shape: &str) -> Result<Option<Vec<f64>>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        // Plain decimals only (`-0.12`), as the document's patterns say: no exponents,
        // signs, spaces or infinities.
        let decimal = |s: &str| {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
            !whole.is_empty()
                && !fraction.is_empty()
                && whole
                    .bytes()
                    .chain(fraction.bytes())
                    .all(|b| b.is_ascii_digit())
        };
        let nums: Option<Vec<f64>> = v
            .split(',')
            .map(|s| decimal(s).then(|| s.parse::<f64>().ok()).flatten())
            .collect();
        match nums {
            Some(nums) if nums.len() == n => Ok(Some(nums)),
            _ => Err(ApiError::param(name, format!("must be {shape}, got {v:?}"))),
        }
    }
}

/// The category slugs the migrations seed (a test keeps them equal): what a `category`
/// parameter may list.
pub const CATEGORY_SLUGS: [&str; 9] = [
    "museum",
    "library",
    "gallery",
    "theatre",
    "cafe",
    "arts_centre",
    "heritage",
    "cinema",
    "community_centre",
];

/// One of [`CATEGORY_SLUGS`]: an asset's or a what-if's `category`.
pub const CATEGORY: &str =
    "^(museum|library|gallery|theatre|cafe|arts_centre|heritage|cinema|community_centre)$";

/// `category` of a search or report: one or more of [`CATEGORY_SLUGS`], comma-separated.
pub const CATEGORY_PATTERN: &str = "^(museum|library|gallery|theatre|cafe|arts_centre|heritage|cinema|community_centre)(,(museum|library|gallery|theatre|cafe|arts_centre|heritage|cinema|community_centre))*$";

/// Number shapes, for the patterns below.
macro_rules! latitude {
    () => {
        r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"
    };
}
macro_rules! longitude {
    () => {
        r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"
    };
}

/// The shapes of the structured string parameters, by name, written into the OpenAPI
/// document (utoipa's attributes take only literals); the parsers enforce the same.
pub const PATTERNS: &[(&str, &str)] = &[
    ("category", CATEGORY_PATTERN),
    ("decile", "^(10|[1-9])(,(10|[1-9]))*$"),
    ("near", concat!("^", latitude!(), ",", longitude!(), "$")),
    (
        "bbox",
        concat!(
            "^",
            longitude!(),
            ",",
            latitude!(),
            ",",
            longitude!(),
            ",",
            latitude!(),
            "$"
        ),
    ),
    ("If-Match", r#"^(\*|(W/)?("[0-9]+"|[0-9]+))$"#),
];

/// An endpoint's query parameters: documented by `IntoParams`, parsed by [`Self::parse`].
pub trait QueryContract: Sized + 'static {
    /// The accepted names: those the documentation lists.
    fn documented() -> Vec<String>;
    /// Names that may be given more than once (their values join as one list).
    fn repeatable() -> Vec<&'static str> {
        Vec::new()
    }
    /// The typed values; a malformed one is a 400 naming it.
    fn parse(p: &Params) -> Result<Self, ApiError>;
}

/// The query parameter names `T` documents.
pub fn documented<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Two contracts over one query string, e.g. the public list's and the admin's `status`.
impl<A: QueryContract, B: QueryContract> QueryContract for (A, B) {
    fn documented() -> Vec<String> {
        let mut names = A::documented();
        names.extend(B::documented());
        names
    }

    fn repeatable() -> Vec<&'static str> {
        let mut names = A::repeatable();
        names.extend(B::repeatable());
        names
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok((A::parse(p)?, B::parse(p)?))
    }
}

/// A contract's names, worked out once per type (building the documentation for every
/// request would cost more than most searches).
struct Names {
    accepted: Vec<String>,
    repeatable: Vec<&'static str>,
}

fn names_of<T: QueryContract>() -> &'static Names {
    static ALL: OnceLock<RwLock<HashMap<TypeId, &'static Names>>> = OnceLock::new();
    let all = ALL.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(n) = all.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return n;
    }
    let names: &'static Names = Box::leak(Box::new(Names {
        accepted: T::documented(),
        repeatable: T::repeatable(),
    }));
    all.write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_insert(names)
}

/// A handler's parsed query: `Query<ListQuery>` in its signature.
pub struct Query<T>(pub T);

impl<T: QueryContract> Query<T> {
    pub fn from_query_string(query: &str) -> Result<T, ApiError> {
        let names = names_of::<T>();
        T::parse(&Params::parse(query, &names.accepted, &names.repeatable)?)
    }
}

impl<T: QueryContract> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_query_string(req.query_string()).map(Query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Params, ApiError> {
        Params::parse(q, &["a", "n", "cat"], &["cat"])
    }

    #[test]
    fn rejects_unknown_and_repeated_names() {
        assert!(matches!(parse("zzz=1"), Err(ApiError::BadParam { name, .. }) if name == "zzz"));
        assert!(matches!(parse("a=1&a=2"), Err(ApiError::BadParam { name, .. }) if name == "a"));
        let p = parse("cat=a,b&cat=c,a").unwrap();
        assert_eq!(p.list("cat").unwrap().unwrap(), vec!["a", "b", "c"]);
    }

    #[test]
    fn the_category_pattern_lists_the_seeded_categories() {
        let dir = std::env::temp_dir().join(format!("ca-cats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::store::Store::open(dir.join("db.sqlite3").to_str().unwrap()).unwrap();
        let mut seeded: Vec<String> = crate::store::assets::categories(&mut store.conn().unwrap())
            .unwrap()
            .into_iter()
            .map(|c| c.slug)
            .collect();
        seeded.sort();
        let mut listed: Vec<String> = CATEGORY_SLUGS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(seeded, listed);
        let alternatives = format!("({})", CATEGORY_SLUGS.join("|"));
        assert_eq!(
            CATEGORY_PATTERN,
            format!("^{alternatives}(,{alternatives})*$")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn numbers_are_checked() {
        let p = parse("n=12&a=x").unwrap();
        assert_eq!(p.usize_in("n", 5, 1, 100).unwrap(), 12);
        assert!(p.usize_in("a", 5, 1, 100).is_err());
        assert!(parse("n=1000").unwrap().usize_in("n", 5, 1, 100).is_err());
        assert!(parse("n=NaN").unwrap().f64_in("n", 0.0, 1.0).is_err());
        assert_eq!(parse("").unwrap().usize_in("n", 5, 1, 100).unwrap(), 5);
    }
}
