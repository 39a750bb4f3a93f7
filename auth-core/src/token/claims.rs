//! The claims of an access token.

use std::fmt;

use jsonwebtoken::Header;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ACCESS_TOKEN_TYPE, TokenError};

/// Claims of an access token.
///
/// Read by hand ([`Deserialize`] below) rather than derived: a derived `flatten`
/// buffers every member before sorting them out, on every verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id.
    pub sub: Uuid,
    /// Session id.
    pub sid: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// Not before, seconds since the epoch; honoured when present, never issued here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Role names at issue time.
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the user signed in (RFC 8176): `["pwd"]`, or `["pwd", "otp"]` after a
    /// second factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The application's own claims (see [`crate::AuthService::with_custom_claims`]):
    /// every other member of the payload. Names of the claims above are never here.
    #[serde(flatten)]
    pub custom: CustomClaims,
}

/// A member name of the claims: one of the fields, or an application's own.
enum Member {
    Iss,
    Aud,
    Sub,
    Sid,
    Iat,
    Exp,
    Jti,
    Nbf,
    Roles,
    Amr,
    Custom(String),
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "iss" => Member::Iss,
                    "aud" => Member::Aud,
                    "sub" => Member::Sub,
                    "sid" => Member::Sid,
                    "iat" => Member::Iat,
                    "exp" => Member::Exp,
                    "jti" => Member::Jti,
                    "nbf" => Member::Nbf,
                    "roles" => Member::Roles,
                    "amr" => Member::Amr,
                    other => Member::Custom(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(Name)
    }
}

/// Reads the value of member `name` into `slot`; a member twice is an error.
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Deserialize<'de> for AccessClaims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Claims;
        impl<'de> Visitor<'de> for Claims {
            type Value = AccessClaims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the claims of an access token")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AccessClaims, A::Error> {
                let (mut iss, mut aud, mut sub, mut sid) = (None, None, None, None);
                let (mut iat, mut exp, mut jti, mut nbf) = (None, None, None, None::<Option<i64>>);
                let (mut roles, mut amr, mut custom) = (None, None, CustomClaims::new());
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::Iss => once(&mut iss, &mut map, "iss")?,
                        Member::Aud => once(&mut aud, &mut map, "aud")?,
                        Member::Sub => once(&mut sub, &mut map, "sub")?,
                        Member::Sid => once(&mut sid, &mut map, "sid")?,
                        Member::Iat => once(&mut iat, &mut map, "iat")?,
                        Member::Exp => once(&mut exp, &mut map, "exp")?,
                        Member::Jti => once(&mut jti, &mut map, "jti")?,
                        Member::Nbf => once(&mut nbf, &mut map, "nbf")?,
                        Member::Roles => once(&mut roles, &mut map, "roles")?,
                        Member::Amr => once(&mut amr, &mut map, "amr")?,
                        Member::Custom(name) => {
                            let value = map.next_value()?;
                            custom.insert(name, value);
                        }
                    }
                }
                let required = de::Error::missing_field;
                Ok(AccessClaims {
                    iss: iss.ok_or_else(|| required("iss"))?,
                    aud: aud.ok_or_else(|| required("aud"))?,
                    sub: sub.ok_or_else(|| required("sub"))?,
                    sid: sid.ok_or_else(|| required("sid"))?,
                    iat: iat.ok_or_else(|| required("iat"))?,
                    exp: exp.ok_or_else(|| required("exp"))?,
                    jti: jti.ok_or_else(|| required("jti"))?,
                    nbf: nbf.flatten(),
                    roles: roles.unwrap_or_default(),
                    amr: amr.unwrap_or_default(),
                    custom,
                })
            }
        }
        d.deserialize_map(Claims)
    }
}

/// Claims an application adds to its access tokens, by name.
pub type CustomClaims = serde_json::Map<String, serde_json::Value>;

/// Claim names this crate writes itself; custom claims by these names are dropped.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss", "aud", "sub", "sid", "iat", "exp", "jti", "nbf", "roles", "amr",
];

pub(super) fn check_typ(header: &Header) -> Result<(), TokenError> {
    let ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if ok {
        Ok(())
    } else {
        Err(TokenError::WrongType)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload() -> serde_json::Value {
        json!({
            "iss": "i", "aud": "a", "sub": Uuid::nil(), "sid": Uuid::max(),
            "iat": 1, "exp": 2, "jti": Uuid::nil(),
        })
    }

    #[test]
    fn reads_the_fields_and_keeps_the_rest_as_custom_claims() {
        let mut p = payload();
        p["roles"] = json!(["admin"]);
        p["amr"] = json!(["pwd", "otp"]);
        p["nbf"] = json!(1);
        p["tenant"] = json!({"id": 7});
        let c: AccessClaims = serde_json::from_value(p.clone()).unwrap();
        assert_eq!((c.iss.as_str(), c.aud.as_str()), ("i", "a"));
        assert_eq!(
            (c.sub, c.sid, c.iat, c.exp),
            (Uuid::nil(), Uuid::max(), 1, 2)
        );
        assert_eq!(
            (c.nbf, c.roles.clone(), c.amr.clone()),
            (
                Some(1),
                vec!["admin".to_owned()],
                vec!["pwd".to_owned(), "otp".to_owned()]
            )
        );
        assert_eq!(c.custom.len(), 1);
        assert_eq!(c.custom["tenant"], json!({"id": 7}));
        // What is read back serializes to what was read.
        assert_eq!(serde_json::to_value(&c).unwrap(), p);
    }

    #[test]
    fn optional_members_may_be_absent_or_null() {
        let c: AccessClaims = serde_json::from_value(payload()).unwrap();
        assert_eq!(
            (c.nbf, c.roles.len(), c.amr.len(), c.custom.len()),
            (None, 0, 0, 0)
        );
        let mut p = payload();
        p["nbf"] = serde_json::Value::Null;
        assert_eq!(serde_json::from_value::<AccessClaims>(p).unwrap().nbf, None);
    }

    #[test]
    fn a_missing_duplicated_or_mistyped_member_is_refused() {
        let mut p = payload();
        p.as_object_mut().unwrap().remove("sid");
        let e = serde_json::from_value::<AccessClaims>(p).unwrap_err();
        assert!(e.to_string().contains("missing field `sid`"), "{e}");
        let e = serde_json::from_str::<AccessClaims>(
            r#"{"iss":"i","iss":"j","aud":"a","sub":"00000000-0000-0000-0000-000000000000"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("duplicate field `iss`"), "{e}");
        let mut p = payload();
        p["exp"] = json!("soon");
        assert!(serde_json::from_value::<AccessClaims>(p).is_err());
        assert!(serde_json::from_value::<AccessClaims>(json!([1, 2])).is_err());
    }
}
