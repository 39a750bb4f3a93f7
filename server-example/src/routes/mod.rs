//! The router: every module's routes plus the production middleware.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod exchange;
pub mod kv;
pub mod mfa;
pub mod money;
pub mod ops;
pub mod passkeys;
pub mod password_reset;
pub mod reauth;
pub mod signing_keys;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::{ApiError, json_errors};
use crate::openapi::{ApiDoc, DomainRules};
use crate::state::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

fn cors(origins: Option<&[String]>) -> CorsLayer {
    let allow = match origins {
        None => AllowOrigin::from(Any),
        Some(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Request ids of one process: a prefix drawn at random once and a counter, 32 hex
/// digits. Unique within the process and, by the prefix, across processes, without a
/// random draw (a system call) per request. They name requests in logs and are no
/// secret.
#[derive(Clone)]
struct RequestIds {
    prefix: u64,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        Self {
            prefix: uuid::Uuid::new_v4().as_u64_pair().0,
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:016x}{n:016x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

async fn no_route() -> ApiError {
    auth_core::AuthError::NotFound("route").into()
}

/// A body declared larger than the limit is refused at once, before anyone waits for
/// it (the body limit alone only trips once that much has arrived).
async fn refuse_declared_oversize(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return axum::response::IntoResponse::into_response(crate::error::payload_too_large());
    }
    next.run(req).await
}

/// Every documented route and the OpenAPI document, from the one registry: each
/// module registers its handlers with `routes!`, which reads their `#[utoipa::path]`,
/// so no route is served undocumented and no document entry lacks its route.
pub fn registry(
    cors_origins: Option<&[String]>,
    rules: &DomainRules,
) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(password_reset::router())
        .merge(mfa::router())
        .merge(passkeys::router())
        .merge(reauth::router())
        .merge(users::router())
        .merge(admin::router())
        .merge(api_keys::router())
        .merge(audit::router())
        .merge(signing_keys::router())
        .merge(kv::router())
        .layer(cors(cors_origins))
        // The exchange routes serve browser clients from anywhere.
        .merge(exchange::router().layer(cors(None)))
        .merge(money::router().layer(cors(None)))
        .merge(ops::router())
        .split_for_parts();
    // The bodies' schemas exist only now: apply the domain's field rules to them.
    utoipa::Modify::modify(rules, &mut api);
    (routes, api)
}

/// The OpenAPI document of every route under the default policies.
pub fn openapi() -> utoipa::openapi::OpenApi {
    registry(None, &DomainRules::default()).1
}

/// The whole application: routes, error shape, limits, timeouts, CORS, request ids
/// and tracing (which never records the Authorization header or bodies).
pub fn app(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings are the client's business.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        })
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO));
    // The document states the login and password rules in force.
    let rules = DomainRules {
        login: state.auth.config().login_policy.clone(),
        password: state.auth.config().password_policy.clone(),
    };
    let (routes, api) = registry(state.cors_origins.as_deref(), &rules);
    let document = api.to_json().expect("the OpenAPI document serializes");
    let routes = routes
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        )
        .fallback(no_route)
        .with_state(state.clone());
    // The middleware wraps the router once, outermost first, rather than every route
    // (`Router::layer`): a request then clones no boxed layer stack on its way in.
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(
            x_request_id.clone(),
            RequestIds::new(),
        ))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(
            state.body_limit,
            refuse_declared_oversize,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(state.body_limit))
        // The client address of the adapter's `Client` extractor, behind these proxies.
        .layer(axum::Extension(state.trusted_proxies.clone()))
        .service(routes);
    Router::new().fallback_service(stack)
}
