//! Access tokens: HS256 with a shared secret (`JWT_SECRET` or `JWT_SECRET_FILE`, at least
//! 32 bytes), or RS256 / EdDSA with PEM key files (`JWT_ALGORITHM`, `JWT_PRIVATE_KEY_FILE`,
//! `JWT_PUBLIC_KEY_FILE`). Tokens carry their key id (`JWT_KID`), and the previous key
//! (`JWT_PREVIOUS_SECRET[_FILE]` or `JWT_PREVIOUS_PUBLIC_KEY_FILE`, with `JWT_PREVIOUS_KID`)
//! is still accepted during a rotation. Every claim is validated: signature and algorithm
//! (the key's own; `alg: none` never), `exp`, `iat`, `iss`, `aud`, `sub`; the user's
//! current role, active flag and token version are then checked against the database by
//! the caller.

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use super::Role;
use crate::config::{KeyMaterial, TokenSettings};

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

/// One signing key: its id, algorithm, and the means to sign (not for a previous key) and
/// to verify.
pub struct Key {
    kid: String,
    alg: Algorithm,
    signing: Option<EncodingKey>,
    verifying: DecodingKey,
}

impl Key {
    /// An HS256 key from a secret of at least 32 bytes.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Key, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!("must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(Key {
            kid: kid.into(),
            alg: Algorithm::HS256,
            signing: Some(EncodingKey::from_secret(secret)),
            verifying: DecodingKey::from_secret(secret),
        })
    }

    /// An RS256 or EdDSA key from PEM files' contents (no private key: verify only).
    pub fn from_pem(
        kid: &str,
        alg: Algorithm,
        private: Option<&[u8]>,
        public: &[u8],
    ) -> Result<Key, String> {
        let bad = |what: &str, e: jsonwebtoken::errors::Error| {
            format!("the {what} key is not a {alg:?} PEM key: {e}")
        };
        let (signing, verifying) = match alg {
            Algorithm::RS256 => (
                private
                    .map(EncodingKey::from_rsa_pem)
                    .transpose()
                    .map_err(|e| bad("private", e))?,
                DecodingKey::from_rsa_pem(public).map_err(|e| bad("public", e))?,
            ),
            Algorithm::EdDSA => (
                private
                    .map(EncodingKey::from_ed_pem)
                    .transpose()
                    .map_err(|e| bad("private", e))?,
                DecodingKey::from_ed_pem(public).map_err(|e| bad("public", e))?,
            ),
            other => {
                return Err(format!(
                    "{other:?} is not supported: use HS256, RS256 or EdDSA"
                ))
            }
        };
        Ok(Key {
            kid: kid.into(),
            alg,
            signing,
            verifying,
        })
    }
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
    /// Keys from the configured settings: `Err` says why tokens cannot be issued or
    /// checked (the admin API then answers 503 with that reason; the public API is
    /// unaffected).
    pub fn from_settings(settings: &Result<TokenSettings, String>) -> Result<Self, String> {
        let s = settings.as_ref().map_err(Clone::clone)?;
        let disabled = |why: String| format!("the admin API is disabled: {why}");
        let (current, previous) = match &s.keys {
            KeyMaterial::Hs256 { secret, previous } => (
                Key::hs256(&s.kid, secret).map_err(|e| disabled(format!("JWT_SECRET {e}")))?,
                previous
                    .as_ref()
                    .map(|p| {
                        Key::hs256(&s.previous_kid, p)
                            .map_err(|e| disabled(format!("JWT_PREVIOUS_SECRET {e}")))
                    })
                    .transpose()?,
            ),
            KeyMaterial::Pem {
                eddsa,
                private,
                public,
                previous_public,
            } => {
                let alg = if *eddsa {
                    Algorithm::EdDSA
                } else {
                    Algorithm::RS256
                };
                (
                    Key::from_pem(&s.kid, alg, Some(private), public).map_err(disabled)?,
                    previous_public
                        .as_ref()
                        .map(|p| Key::from_pem(&s.previous_kid, alg, None, p).map_err(disabled))
                        .transpose()?,
                )
            }
        };
        Ok(Self::new(current, previous, s.ttl_seconds))
    }

    /// Keys from values (tests, and [`TokenKeys::from_settings`]).
    pub fn new(current: Key, previous: Option<Key>, ttl_seconds: i64) -> Self {
        TokenKeys {
            current,
            previous,
            ttl_seconds,
            issuer: "community-assets".into(),
            audience: "community-assets-admin".into(),
        }
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
            ..Header::new(self.current.alg)
        };
        let signing = self
            .current
            .signing
            .as_ref()
            .ok_or("the current key cannot sign")?;
        encode(&header, &claims, signing).map_err(|e| e.to_string())
    }

    /// The claims of a valid token: signed by the key its `kid` names, with that key's
    /// algorithm (so `alg: none` and algorithm confusion fail).
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))
            .ok_or("unknown key id")?;
        if header.alg != key.alg {
            return Err(format!("algorithm {:?} is not this key's", header.alg));
        }
        let mut validation = Validation::new(key.alg);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = decode::<Claims>(token, &key.verifying, &validation)
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
        TokenKeys::new(Key::hs256(kid, secret.as_bytes()).unwrap(), None, 3600)
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
        let e = Key::hs256("k1", b"short").err().unwrap();
        assert!(e.contains("at least 32 bytes"));
    }

    #[test]
    fn a_previous_key_still_verifies_during_rotation() {
        let old = keys("0123456789abcdef0123456789abcdef", "k1");
        let t = old.issue("ann", Role::Admin, 1).unwrap();
        let rotated = TokenKeys::new(
            Key::hs256("k2", b"fedcba9876543210fedcba9876543210").unwrap(),
            Some(Key::hs256("k1", b"0123456789abcdef0123456789abcdef").unwrap()),
            3600,
        );
        assert_eq!(rotated.verify(&t).unwrap().sub, "ann");
        assert!(rotated.issue("ann", Role::Admin, 1).unwrap() != t);
    }

    // Test-only key pairs, generated with openssl for these tests and used nowhere else.
    const ED_PRIVATE: &str = r#"-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILjIlhK0GI4HICNo9qPmHEwT9brBjg2BfnCvJWHttItT
-----END PRIVATE KEY-----
"#;
    const ED_PUBLIC: &str = r#"-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEALMLtsrzbC0Av9iXiYe4Z1x+Zexfg2IwB8JIxa63vEgY=
-----END PUBLIC KEY-----
"#;
    const RSA_PRIVATE: &str = r#"-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDFhJEjoX1i9vVA
Wr4pjbD0jZBW0GMMGnNpIbLPeYL+SsREhnr3uTJAqtiqVMF2OlGnZTyLc4kYTWie
22hIu/wp6H0Y97HCxRmcQKJdvt+blLOkGjte4kBjBVleLrnEa8uxK/9cuYzvwd8p
siGQzgrcMekvdBcCgQUBm74CBR8cu0Ol5W2TAc26yC1/RXx9MZxcYYBxZ/+1I2gW
PVEAnbwxaSLMPtnd3UOYZw4wDq9L1Ah4Ot3pRfaolT6UI25TfjLdJpCwc3LPpdM7
nyoPQ0oG7ko6ISArNFTohB883RBhzRvaWUrPzGA+YrGRh27rNMWCQnblU+R28jHz
fW2M7+cJAgMBAAECggEADaWLIZsWvq+xYjDi0pwnjb36KwVa0otBThI1+H+8vTUN
Om7QMC1re2xSa/JPK4v7+ETWWgwxfKxcfh1KpzvVwE9/1SnH7l0P1+vfS/rUGDu9
7aiiUXvwVucXtZok251XBXa0vgNT6XzLnmXgS9DwjyYjplOvA01Gu0W3awxPifyH
K6KNKkbFXKbun0mjoNRAN53w5fYDtQZmyDhHsUDfRmPNcAYUrlH0is9+cmgxRy1/
8W8cjWVztir58+HJv2BkEn/cPv3IEEfhJnetFMhX01y079g0DQFsRIWZ4qx7ONhE
pBpQFLqQJLP9e2Thyo7tVjCvUiSIvyUyFH/MCmIbAQKBgQDlndxSOKHSQ+CGPcmY
ZThFnkuFkGF0FxmMkVeJgVf6h5ptRuiyZBYTuYu81PO9va6lAhqSCNFLiBZW1Zz3
b/FqbFRDA/nDaQPTs7Jk1SpaiTdfOFZ3hf9ip1ze1ariFBmlUP8kEOAbGz5DDu7I
hJ6hmT3UxQy2K3XEsw4SR1gGnQKBgQDcNoZZC3PnXrC9hNyEhPv+U3Kr9XC9poNP
YpN3WprCKEbNuoI2mt9y/koPNovPN1/I1hEIOs1BiYC1JstY+K/d/M+pGkTR4pC6
4BN3odGqFIaBXVE5Ffi4Bj/EAYWFv3uFNxfhJXHf3UFBULXBkfdj2NjmtyCSfyoK
GlX/VROAXQKBgE34Ms5AqMJrhhxPctsq09bgD6kFA/KVvXk8CUuJ/kP2M/wTbgTV
c6GzCb5PWYz+kgU6F6erEtbhGSTXWHu1KXcH3fz7pp4yVLhYdqVCtSUVHxZYXRQt
DjGDv0dzqpkmVicKv/iROmg58gR3V6IDVpJtJM/RMaXSUCVA3/BZBY0JAoGBALT8
nyh6EDVdjrcEhlToE0/wd7O60oEcZJmPNBIJRl5CygZ1vmVwniudsXKVawzQvwmK
Xo87/MxbXYwFKWWjZq91A5tA+sThh///ACD3vyEhI3cZIhNf6n4crLXEZmAJg1R2
dkrWAqRx7RroYamI9SF77LCaW8vrdbq98GYdHx0FAoGAJdpuKpmwEW3zRT2YLb1/
BwBjqE+1ZoVA9NIxD9fbhsR3hBwT/8quaEN9HEDcpUkoL9rJn6q6d1hufUKcC5V2
A503S1jeASxG1myt0kenCnwCLmXhD/s7KYxWxvxIm2wIS3bQIEyPAh6dWfjSYOEw
ZQZhv2vhzPZ0NUNlSA3dq/Q=
-----END PRIVATE KEY-----
"#;
    const RSA_PUBLIC: &str = r#"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxYSRI6F9Yvb1QFq+KY2w
9I2QVtBjDBpzaSGyz3mC/krERIZ697kyQKrYqlTBdjpRp2U8i3OJGE1onttoSLv8
Keh9GPexwsUZnECiXb7fm5SzpBo7XuJAYwVZXi65xGvLsSv/XLmM78HfKbIhkM4K
3DHpL3QXAoEFAZu+AgUfHLtDpeVtkwHNusgtf0V8fTGcXGGAcWf/tSNoFj1RAJ28
MWkizD7Z3d1DmGcOMA6vS9QIeDrd6UX2qJU+lCNuU34y3SaQsHNyz6XTO58qD0NK
Bu5KOiEgKzRU6IQfPN0QYc0b2llKz8xgPmKxkYdu6zTFgkJ25VPkdvIx831tjO/n
CQIDAQAB
-----END PUBLIC KEY-----
"#;

    #[test]
    fn eddsa_and_rs256_keys_sign_and_verify_and_cannot_be_confused() {
        for (alg, private, public) in [
            (Algorithm::EdDSA, ED_PRIVATE, ED_PUBLIC),
            (Algorithm::RS256, RSA_PRIVATE, RSA_PUBLIC),
        ] {
            let key =
                Key::from_pem("p1", alg, Some(private.as_bytes()), public.as_bytes()).unwrap();
            let k = TokenKeys::new(key, None, 3600);
            let t = k.issue("ann", Role::Editor, 2).unwrap();
            assert_eq!(k.verify(&t).unwrap().ver, 2, "{alg:?}");
            // A verifier with only the public key (another instance, or a previous key).
            let public_only = Key::from_pem("p1", alg, None, public.as_bytes()).unwrap();
            let v = TokenKeys::new(public_only, None, 3600);
            assert!(v.verify(&t).is_ok());
            assert!(
                v.issue("ann", Role::Editor, 2).is_err(),
                "cannot sign without the private key"
            );
            // The public key used as an HS256 secret (algorithm confusion) is refused.
            let confused = TokenKeys::new(Key::hs256("p1", public.as_bytes()).unwrap(), None, 3600)
                .issue("ann", Role::Admin, 2)
                .unwrap();
            assert!(k.verify(&confused).is_err(), "{alg:?}");
        }
        assert!(Key::from_pem("p1", Algorithm::EdDSA, None, b"not a key").is_err());
    }
}
