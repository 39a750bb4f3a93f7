//! axum glue for [`auth_core`]: what every axum service embedding it writes otherwise.
//!
//! - [`Authenticated`]: the caller of a request with `Authorization: Bearer <token>`,
//!   checked statefully (a revoked or blocked session is refused at once);
//! - [`RequireRole<R>`](RequireRole): the same, holding a role (`RequireRole<Admin>`);
//! - [`Client`]: the client's address and user agent, behind
//!   [`TrustedProxies`] when the application adds them;
//! - [`ErrorResponse`]: every error of the cores (and the application's own) as
//!   `{"message", "code"}` with its status, `WWW-Authenticate` on 401s and
//!   `Retry-After` on 429s; `?` converts a core error.
//!
//! The state gives the service through `FromRef`:
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_axum::{Admin, Authenticated, Client, ErrorResponse, RequireRole};
//! use auth_core::AuthService;
//! use axum::extract::FromRef;
//! use axum::routing::get;
//! use axum::{Json, Router};
//!
//! #[derive(Clone, FromRef)]
//! struct AppState {
//!     auth: Arc<AuthService>,
//! }
//!
//! async fn me(Authenticated(caller): Authenticated, Client(client): Client) -> Json<String> {
//!     Json(format!("{} from {:?}", caller.user.login, client.ip))
//! }
//!
//! async fn sessions(
//!     axum::extract::State(s): axum::extract::State<AppState>,
//!     RequireRole(admin, ..): RequireRole<Admin>,
//! ) -> Result<Json<usize>, ErrorResponse> {
//!     let mine = s.auth.sessions(admin.user_id, admin.session_id().ok(), 100, 0).await?;
//!     Ok(Json(mine.len()))
//! }
//!
//! fn routes(state: AppState) -> Router {
//!     Router::new()
//!         .route("/me", get(me))
//!         .route("/admin/sessions", get(sessions))
//!         .with_state(state)
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod extract;
mod proxies;

pub use error::{BoxError, CHALLENGE, CHALLENGE_INVALID, ErrorResponse};
pub use extract::{Admin, Authenticated, Client, RequireRole, Role, bearer_token};
pub use proxies::{TrustedProxies, parse_net};
