//! The OpenAPI 3.1 document, generated from the handlers and wire types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, auth, exchange, kv, ops, users};

/// The document of every route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "server-example",
        description = "Auth (accounts, JWT access tokens, rotating refresh sessions, admin) and currency exchange."
    ),
    paths(
        auth::register, auth::verify_email, auth::resend_verification, auth::login, auth::refresh, auth::logout, auth::jwks,
        users::me, users::update_me, users::change_password, users::logins, users::sessions,
        users::revoke_session,
        admin::list_users, admin::get_user, admin::update_user, admin::delete_user,
        admin::block_user, admin::unblock_user, admin::user_sessions, admin::revoke_user_sessions,
        admin::list_roles, admin::create_role, admin::delete_role, admin::grant_role,
        admin::revoke_role,
        exchange::list_currencies, exchange::get_currency, exchange::add_currency,
        exchange::delete_currency, exchange::list_rates, exchange::get_rate, exchange::add_rate,
        exchange::update_rate, exchange::delete_rate, exchange::convert,
        kv::write, kv::read,
        ops::healthz, ops::readyz,
    ),
    components(schemas(crate::dto::ErrorBody)),
    modifiers(&BearerAuth),
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
                    .build(),
            ),
        );
    }
}
