//! The frame of the OpenAPI 3.1 document: title, tags, security scheme. The paths
//! come from the route registry ([`crate::routes::registry`]).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame; [`crate::routes::openapi`] is the whole document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "server-example",
        description = "Auth (accounts, JWT access tokens, rotating refresh sessions, admin) and currency exchange."
    ),
    components(schemas(crate::dto::ErrorBody)),
    modifiers(&BearerAuth, &ErrorCodes),
    tags(
        (name = "auth", description = "Registration, login, tokens"),
        (name = "users", description = "The signed-in user"),
        (name = "admin", description = "User and role management (role admin)"),
        (name = "exchange", description = "Currencies, rates, conversion"),
        (name = "kv", description = "Per-user key-value store"),
        (name = "ops", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token (a JWT from `/auth/login` or `/auth/refresh`), or an \
                         API key (`ak_...`, from `/users/me/api-keys`); both are checked \
                         statefully. A key acts as its owner with the key's roles, and is \
                         refused (`session_required`) where a signed-in session is needed.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every error code an answer can carry (both cores' tables and the server's own), as
/// the `enum` of `ErrorBody.code` and, with its status and meaning, in
/// `ErrorBody`'s `x-error-codes`.
struct ErrorCodes;

impl ErrorCodes {
    /// `(code, status, meaning)` of every code, each once.
    fn all() -> Vec<(&'static str, u16, &'static str)> {
        let server = crate::codes::ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.status().as_u16(), c.meaning()));
        let mut all: Vec<_> = auth_core::AuthError::CODES
            .iter()
            .chain(exchange_core::ExchangeError::CODES)
            .copied()
            .chain(server)
            .collect();
        let mut seen = std::collections::HashSet::new();
        all.retain(|(code, _, _)| seen.insert(*code));
        all
    }
}

impl Modify for ErrorCodes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::extensions::ExtensionsBuilder;
        use utoipa::openapi::{RefOr, Schema};
        let Some(RefOr::T(Schema::Object(body))) = doc
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("ErrorBody"))
        else {
            return;
        };
        let all = Self::all();
        if let Some(RefOr::T(Schema::Object(code))) = body.properties.get_mut("code") {
            code.enum_values = Some(all.iter().map(|(c, _, _)| (*c).into()).collect());
        }
        let table: serde_json::Map<String, serde_json::Value> = all
            .iter()
            .map(|(code, status, meaning)| {
                let row = serde_json::json!({ "status": status, "meaning": meaning });
                ((*code).to_owned(), row)
            })
            .collect();
        body.extensions = Some(
            ExtensionsBuilder::new()
                .add("x-error-codes", serde_json::Value::Object(table))
                .build(),
        );
    }
}

/// The field rules of auth-core written into the schemas (utoipa takes patterns only
/// as string literals, so they are set here from the domain types instead of being
/// copied into attributes): which fields of which bodies follow which rule.
#[derive(Debug, Clone, Default)]
pub struct DomainRules {
    /// The login policy in force.
    pub login: auth_core::LoginPolicy,
    /// The password policy in force.
    pub password: auth_core::PasswordPolicy,
}

/// A rule for a string field: its pattern and length bounds.
struct Rule {
    pattern: String,
    min: Option<usize>,
    max: Option<usize>,
}

impl DomainRules {
    /// Every (schema, field) that follows a rule of the domain.
    fn table(&self) -> Vec<(&'static str, &'static str, Rule)> {
        use auth_core::{PersonName, RoleName};
        let login = || Rule {
            pattern: self.login.pattern(),
            min: None,
            max: None,
        };
        let policy = &self.password;
        let password = || Rule {
            pattern: policy.pattern(),
            min: Some(policy.min_len),
            max: Some(policy.max_len),
        };
        let name = || Rule {
            pattern: PersonName::PATTERN.into(),
            min: Some(PersonName::MIN_CHARS),
            max: Some(PersonName::MAX_CHARS),
        };
        let mut table = vec![
            ("RegisterBody", "login", login()),
            ("VerifyEmailBody", "login", login()),
            ("ResendBody", "login", login()),
            ("RegisterBody", "password", password()),
            ("PasswordBody", "new_password", password()),
            ("PasswordResetConfirmBody", "new_password", password()),
            (
                "RoleBody",
                "name",
                Rule {
                    pattern: RoleName::PATTERN.into(),
                    min: None,
                    max: None,
                },
            ),
        ];
        for body in ["RegisterBody", "ProfileBody", "AdminUserBody"] {
            table.push((body, "first_name", name()));
            table.push((body, "last_name", name()));
        }
        table
    }
}

impl Modify for DomainRules {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        for (schema, field, rule) in self.table() {
            let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut(schema) else {
                continue;
            };
            if let Some(RefOr::T(Schema::Object(prop))) = body.properties.get_mut(field) {
                prop.pattern = Some(rule.pattern);
                prop.min_length = rule.min;
                prop.max_length = rule.max;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_rule_lands_on_its_field() {
        let doc = serde_json::to_value(crate::routes::openapi()).unwrap();
        for (schema, field, rule) in DomainRules::default().table() {
            let prop = &doc["components"]["schemas"][schema]["properties"][field];
            assert_eq!(prop["pattern"], rule.pattern.as_str(), "{schema}.{field}");
            assert_eq!(
                prop["minLength"].as_u64(),
                rule.min.map(|n| n as u64),
                "{schema}.{field}"
            );
            assert_eq!(
                prop["maxLength"].as_u64(),
                rule.max.map(|n| n as u64),
                "{schema}.{field}"
            );
        }
    }
}
