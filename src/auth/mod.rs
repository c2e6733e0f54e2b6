//! Accounts and tokens: argon2id password hashes, HS256 JSON Web Tokens with a key id (so
//! keys can rotate), and slowing down failed logins.

pub mod api_keys;
pub mod login;
pub mod password;
pub mod throttle;
pub mod token;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user may do: `admin` manages users and everything; `editor` curates listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }

    /// Whether this role may do what `needed` may: an admin may do everything.
    pub fn allows(self, needed: Role) -> bool {
        self == Role::Admin || self == needed
    }
}

/// Usernames: 1 to 64 letters, digits, `.`, `_` or `-`, so that they are safe to keep,
/// show in logs and write in the audit trail. Checked when an account is made and at login
/// (before a name is kept or logged).
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (1..=MAX_USERNAME_LEN).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then_some(())
        .ok_or_else(|| "must be 1 to 64 letters, digits, '.', '_' or '-'".into())
}

/// Longest accepted username, in bytes (and characters: they are ASCII).
pub const MAX_USERNAME_LEN: usize = 64;

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 12;

/// What the HTTP layer needs to authenticate and to slow down abuse: the token keys (or
/// why there are none), the API keys, the failed-login throttle and the public
/// suggestions quota.
pub struct Auth {
    pub keys: Result<token::TokenKeys, String>,
    pub logins: throttle::LoginThrottle,
    pub suggestions: throttle::Quota,
    pub api_keys: api_keys::ApiKeys,
}

/// Suggestions accepted per client address per hour.
pub const SUGGESTIONS_PER_HOUR: u32 = 20;

impl Auth {
    pub fn new(keys: Result<token::TokenKeys, String>) -> Self {
        Auth {
            keys,
            api_keys: Default::default(),
            logins: Default::default(),
            suggestions: throttle::Quota::new(
                SUGGESTIONS_PER_HOUR,
                std::time::Duration::from_secs(3600),
            ),
        }
    }
}
