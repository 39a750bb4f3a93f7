//! Health, readiness, the OpenAPI document and its docs page.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiPath;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::routing::get;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        // The document and its viewer describe the API; they are not part of it.
        .route("/docs", get(docs))
        .route("/docs/{*file}", get(docs_file))
}

/// Liveness: 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 200 when the store answers, 503 otherwise. `session_cache` says what
/// the session-status cache is doing: `listening`, `reconnecting` (its listener is
/// away, so every request reads the database) or `off`.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Ready; `session_cache` is `listening`, `reconnecting` (every request reads the database meanwhile) or `off`", body = Object, example = json!({"status": "ready", "session_cache": "listening"})),
        (status = 503, description = "The store does not answer", body = crate::dto::ErrorBody),
    ))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    if s.health.ready().await {
        let cache = s.health.session_cache();
        Json(json!({ "status": "ready", "session_cache": cache })).into_response()
    } else {
        ErrorCode::NotReady
            .error("the store does not answer")
            .into_response()
    }
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>server-example API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    });
  </script>
</body>
</html>
"##;

/// The docs page: Swagger UI served from files built into the binary, no internet.
pub async fn docs() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

/// Swagger UI's static files.
pub async fn docs_file(ApiPath(file): ApiPath<String>) -> Result<Response, ApiError> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));
    match utoipa_swagger_ui::serve(&file, config.clone()) {
        Ok(Some(f)) if file != "index.html" && !file.is_empty() => Ok((
            [(header::CONTENT_TYPE, f.content_type)],
            f.bytes.into_owned(),
        )
            .into_response()),
        Ok(_) => Err(auth_core::AuthError::NotFound("file").into()),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}
