//! A small actix-web service on `auth-core` and `exchange-core`: sign-up, login,
//! refresh, logout, a protected route and conversion. It shows the cores need nothing
//! of axum: each handler calls a service, and every error answers with the status and
//! code the core gives it.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use auth_core::{AuthError, AuthService, ClientInfo, Principal, Registration};
use exchange_core::{ExchangeError, ExchangeService};
use serde::{Deserialize, Serialize};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Accounts, tokens and sessions.
    pub auth: Arc<AuthService>,
    /// Currencies and conversion.
    pub exchange: Arc<ExchangeService>,
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/signup", web::post().to(signup))
        .route("/login", web::post().to(login))
        .route("/refresh", web::post().to(refresh))
        .route("/logout", web::post().to(logout))
        .route("/me", web::get().to(me))
        .route("/convert", web::get().to(convert));
}

/// An error answer: `{"code", "message"}` with the core's status and, for 429s,
/// `Retry-After`.
#[derive(Debug)]
pub struct Problem {
    status: u16,
    code: &'static str,
    message: String,
    retry_after: Option<i64>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl Problem {
    fn new(status: u16, code: &'static str, message: String) -> Self {
        // 5xx say nothing of the cause.
        let message = if status >= 500 {
            "the server failed to handle this request".to_owned()
        } else {
            message
        };
        Self {
            status,
            code,
            message,
            retry_after: None,
        }
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        let mut p = Self::new(e.status(), e.code(), e.to_string());
        p.retry_after = e.retry_after().map(|d| d.whole_seconds().max(1));
        p
    }
}

impl From<ExchangeError> for Problem {
    fn from(e: ExchangeError) -> Self {
        Self::new(e.status(), e.code(), e.to_string())
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            answer.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == 401 {
            answer.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        answer.json(ProblemBody {
            code: self.code,
            message: &self.message,
        })
    }
}

fn client(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        ip: req.peer_addr().map(|a| a.ip()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The caller of a protected route, checked against the store on every request.
async fn caller(state: &AppState, req: &HttpRequest) -> Result<Principal, Problem> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingCredentials)?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AuthError::InvalidToken)?;
    Ok(state.auth.authenticate(token).await?)
}

/// Sign-up fields.
#[derive(Deserialize)]
pub struct SignUp {
    login: String,
    password: String,
    email: Option<String>,
}

async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SignUp>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    let user = state
        .auth
        .register(
            Registration {
                login: body.login,
                password: body.password,
                email: body.email,
                ..Default::default()
            },
            &client(&req),
        )
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Login fields.
#[derive(Deserialize)]
pub struct Credentials {
    login: String,
    password: String,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, Problem> {
    let pair = state
        .auth
        .login(&body.login, &body.password, client(&req))
        .await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Refresh fields.
#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, Problem> {
    let pair = state
        .auth
        .refresh(&body.refresh_token, &client(&req))
        .await?;
    Ok(HttpResponse::Ok().json(pair))
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let who = caller(&state, &req).await?;
    state
        .auth
        .logout(&who, auth_core::LogoutScope::Local)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct Me {
    user_id: String,
    roles: Vec<String>,
}

async fn me(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let who = caller(&state, &req).await?;
    Ok(HttpResponse::Ok().json(Me {
        user_id: who.user_id.to_string(),
        roles: who.user.roles.into_iter().map(String::from).collect(),
    }))
}

/// Conversion parameters.
#[derive(Deserialize)]
pub struct ConvertQuery {
    from: String,
    to: String,
    amount: String,
}

async fn convert(
    state: web::Data<AppState>,
    q: web::Query<ConvertQuery>,
) -> Result<HttpResponse, Problem> {
    let c = state.exchange.convert(&q.from, &q.to, &q.amount).await?;
    Ok(HttpResponse::Ok().json(c))
}
