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
