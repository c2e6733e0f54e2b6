//! HS256 access tokens. The signing secret comes from `JWT_SECRET` (or the file named by
//! `JWT_SECRET_FILE`), at least 32 bytes; tokens carry its key id (`JWT_KID`), and a
//! previous secret (`JWT_PREVIOUS_SECRET[_FILE]`, `JWT_PREVIOUS_KID`) is still accepted
//! during a rotation. Every claim is validated: signature and algorithm, `exp`, `iat`,
//! `iss`, `aud`, `sub`; the user's current role, active flag and token version are then
//! checked against the database by the caller.

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use super::Role;

pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The username.
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The user's token version when the token was issued.
    pub ver: i64,
}

struct Key {
    kid: String,
    secret: Vec<u8>,
}

/// The keys and claims settings of one service instance.
pub struct TokenKeys {
    current: Key,
    previous: Option<Key>,
    pub ttl_seconds: i64,
    pub issuer: String,
    pub audience: String,
}

impl TokenKeys {
    /// Keys from the environment: `Err` says why tokens cannot be issued or checked (the
    /// admin API then answers 503 with that reason; the public API is unaffected).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let secret = |name: &str| -> Result<Option<Vec<u8>>, String> {
            if let Some(v) = var(name) {
                return Ok(Some(v.into_bytes()));
            }
            match var(&format!("{name}_FILE")) {
                None => Ok(None),
                Some(path) => std::fs::read(&path)
                    .map(|mut b| {
                        while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
                            b.pop();
                        }
                        Some(b)
                    })
                    .map_err(|e| format!("cannot read {name}_FILE {path}: {e}")),
            }
        };
        let current = secret("JWT_SECRET")?.ok_or(
            "the admin API is disabled: set JWT_SECRET (or JWT_SECRET_FILE) to a secret of at least 32 bytes",
        )?;
        let previous = secret("JWT_PREVIOUS_SECRET")?;
        let ttl_seconds = match var("JWT_TTL_SECONDS") {
            None => 3600,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (60..=86_400).contains(s))
                .ok_or("JWT_TTL_SECONDS must be 60 to 86400")?,
        };
        Self::new(
            (var("JWT_KID").unwrap_or_else(|| "k1".into()), current),
            previous.map(|p| (var("JWT_PREVIOUS_KID").unwrap_or_else(|| "k0".into()), p)),
            ttl_seconds,
        )
    }

    /// Keys from values (tests, and [`TokenKeys::from_env`]).
    pub fn new(
        current: (String, Vec<u8>),
        previous: Option<(String, Vec<u8>)>,
        ttl_seconds: i64,
    ) -> Result<Self, String> {
        for (name, (_, s)) in [
            ("JWT_SECRET", Some(&current)),
            ("JWT_PREVIOUS_SECRET", previous.as_ref()),
        ]
        .into_iter()
        .filter_map(|(n, k)| k.map(|k| (n, k)))
        {
            if s.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "the admin API is disabled: {name} must be at least {MIN_SECRET_BYTES} bytes"
                ));
            }
        }
        let key = |(kid, secret): (String, Vec<u8>)| Key { kid, secret };
        Ok(TokenKeys {
            current: key(current),
            previous: previous.map(key),
            ttl_seconds,
            issuer: "community-assets".into(),
            audience: "community-assets-admin".into(),
        })
    }

    /// A signed token for a user, valid for the configured lifetime.
    pub fn issue(&self, username: &str, role: Role, token_version: i64) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: username.to_string(),
            role,
            iat: now,
            exp: now + self.ttl_seconds,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            ver: token_version,
        };
        let header = Header {
            kid: Some(self.current.kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&self.current.secret),
        )
        .map_err(|e| e.to_string())
    }

    /// The claims of a valid token. Only HS256 is accepted (so `alg: none` and algorithm
    /// confusion fail), with the key its `kid` names.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        if header.alg != Algorithm::HS256 {
            return Err(format!("algorithm {:?} is not accepted", header.alg));
        }
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))
            .ok_or("unknown key id")?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation)
            .map_err(|e| format!("invalid token: {e}"))?;
        if data.claims.iat > chrono::Utc::now().timestamp() + 30 {
            return Err("invalid token: issued in the future".into());
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys(secret: &str, kid: &str) -> TokenKeys {
        TokenKeys::new((kid.into(), secret.as_bytes().to_vec()), None, 3600).unwrap()
    }

    #[test]
    fn issues_and_verifies_and_rejects_forgeries() {
        let k = keys("0123456789abcdef0123456789abcdef", "k1");
        let t = k.issue("ann", Role::Editor, 3).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.role, c.ver), ("ann", Role::Editor, 3));

        // Another secret with the same kid: bad signature.
        assert!(keys("ffffffffffffffffffffffffffffffff", "k1")
            .verify(&t)
            .is_err());
        // Another kid: unknown key.
        assert!(keys("0123456789abcdef0123456789abcdef", "k2")
            .verify(&t)
            .is_err());
        // alg none, with the same claims and no signature.
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = t.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{payload}.",
            b64(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#)
        );
        assert!(k.verify(&none).is_err());
        // Tampered payload.
        let claims = serde_json::json!({"sub": "ann", "role": "admin", "iat": c.iat, "exp": c.exp,
            "iss": c.iss, "aud": c.aud, "ver": 3});
        let parts: Vec<&str> = t.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims.to_string()), parts[2]);
        assert!(k.verify(&tampered).is_err());
    }

    #[test]
    fn short_secrets_disable_the_admin_api() {
        let e = TokenKeys::new(("k1".into(), b"short".to_vec()), None, 3600)
            .err()
            .unwrap();
        assert!(e.contains("at least 32 bytes"));
    }

    #[test]
    fn a_previous_key_still_verifies_during_rotation() {
        let old = keys("0123456789abcdef0123456789abcdef", "k1");
        let t = old.issue("ann", Role::Admin, 1).unwrap();
        let rotated = TokenKeys::new(
            ("k2".into(), b"fedcba9876543210fedcba9876543210".to_vec()),
            Some(("k1".into(), b"0123456789abcdef0123456789abcdef".to_vec())),
            3600,
        )
        .unwrap();
        assert_eq!(rotated.verify(&t).unwrap().sub, "ann");
        assert!(rotated.issue("ann", Role::Admin, 1).unwrap() != t);
    }
}
