//! The baseline of `http_load`: what a developer would hand-write instead of the
//! crates, axum + sqlx + jsonwebtoken, one statement per request, no middleware.
//!
//! Serves, over the tables server-example created (schema `auth_exchange`):
//! - `GET /healthz`: `{"status":"ok"}`;
//! - `GET /users/me`: checks the bearer token (EdDSA, issuer, audience, expiry) with
//!   the public key `PUBLIC_KEY_X` (the JWK's `x`, from server-example's JWKS), then
//!   reads the user by primary key;
//! - `POST /auth/refresh` with `{"refresh_token": "<session id>.<counter>"}`: one
//!   `UPDATE ... RETURNING` rotates the session if the counter matches and it is
//!   live, then signs a new access token.
//!
//! Environment: `BIND_ADDR`, `DATABASE_URL`, `DATABASE_MAX_CONNECTIONS`,
//! `PUBLIC_KEY_X`, `JWT_ISSUER`, `JWT_AUDIENCE`. Started by `http_load`.

use std::sync::Arc;

use aws_lc_rs::signature::Ed25519KeyPair;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

struct App {
    pool: PgPool,
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

/// What `/users/me` reads of a token (the validation checks the rest).
#[derive(Deserialize)]
struct Subject {
    sub: Uuid,
}

#[derive(Serialize)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[derive(sqlx::FromRow, Serialize)]
struct UserRow {
    id: Uuid,
    login: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<UserRow>, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let subject = jsonwebtoken::decode::<Subject>(token, &app.decoding, &app.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    let user: Option<UserRow> = sqlx::query_as(
        "SELECT id, login, email, first_name, last_name FROM auth_exchange.users WHERE id = $1",
    )
    .bind(subject.sub)
    .fetch_optional(&app.pool)
    .await
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(user.ok_or(StatusCode::UNAUTHORIZED)?))
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    State(app): State<Arc<App>>,
    Json(body): Json<RefreshBody>,
) -> Result<Json<Value>, StatusCode> {
    let (sid, counter) = body
        .refresh_token
        .split_once('.')
        .and_then(|(s, c)| Some((s.parse::<Uuid>().ok()?, c.parse::<i64>().ok()?)))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let row: Option<(Uuid, i64)> = sqlx::query_as(
        "UPDATE auth_exchange.sessions SET counter = counter + 1, last_refreshed_at = now() \
         WHERE id = $1 AND counter = $2 AND NOT revoked AND expires_at > now() \
         RETURNING user_id, counter",
    )
    .bind(sid)
    .bind(counter)
    .fetch_optional(&app.pool)
    .await
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let (user, counter) = row.ok_or(StatusCode::UNAUTHORIZED)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: user,
        sid,
        iss: app.issuer.clone(),
        aud: app.audience.clone(),
        iat: now,
        exp: now + 900,
    };
    let access = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &app.encoding)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({
        "access_token": access,
        "refresh_token": format!("{sid}.{counter}"),
        "token_type": "Bearer",
        "expires_in": 900,
    })))
}

#[tokio::main]
async fn main() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(env("DATABASE_MAX_CONNECTIONS").parse().expect("a number"))
        .connect(&env("DATABASE_URL"))
        .await
        .expect("Postgres at DATABASE_URL");
    let (issuer, audience) = (env("JWT_ISSUER"), env("JWT_AUDIENCE"));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[&audience]);
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
        .expect("an Ed25519 key");
    let app = Arc::new(App {
        pool,
        decoding: DecodingKey::from_ed_components(&env("PUBLIC_KEY_X")).expect("an Ed25519 x"),
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        validation,
        issuer,
        audience,
    });
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/users/me", get(me))
        .route("/auth/refresh", post(refresh))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(env("BIND_ADDR"))
        .await
        .expect("bind");
    axum::serve(listener, router).await.expect("serve");
}
