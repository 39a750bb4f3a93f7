//! Extractors: the authenticated caller ([`Authenticated`]), a caller with a role
//! ([`RequireRole`]), and the client's address and user agent ([`Client`]).

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use auth_core::{AuthError, AuthService, ClientInfo, Principal, RoleName};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::error::ErrorResponse;
use crate::proxies::TrustedProxies;

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
///
/// Errors: [`AuthError::MissingCredentials`] without the header,
/// [`AuthError::InvalidToken`] for another scheme or an empty token.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingCredentials)?;
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::InvalidToken)
}

/// The caller of a request with a Bearer access token or API key, checked statefully
/// ([`AuthService::authenticate`]): a logged-out, revoked or blocked session is
/// refused at once. The state gives the service through `FromRef`
/// (`Arc<AuthService>: FromRef<S>`). The principal carries the request's [`Client`]
/// (`Principal::client`), so what the caller changes is audited with its address.
///
/// Rejection: 401 `missing_token` without a token, 401 `invalid_token` for a bad one,
/// 503 when the store is unreachable.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated
where
    Arc<AuthService>: FromRef<S>,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        let auth = Arc::<AuthService>::from_ref(state);
        let principal = auth.authenticate(token).await?;
        let Ok(Client(client)) = Client::from_request_parts(parts, state).await;
        Ok(Self(principal.from_client(client)))
    }
}

/// A role a route requires, named by a type: `RequireRole<Admin>`.
pub trait Role: Send + Sync + 'static {
    /// The role's name.
    const NAME: &'static str;
}

/// The built-in `admin` role.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Role for Admin {
    const NAME: &'static str = RoleName::ADMIN;
}

/// An [`Authenticated`] caller holding the role `R`; 403 `forbidden` otherwise.
///
/// ```
/// use auth_axum::{Role, RequireRole};
///
/// struct Auditor;
/// impl Role for Auditor {
///     const NAME: &'static str = "auditor";
/// }
///
/// async fn report(RequireRole(caller, ..): RequireRole<Auditor>) -> String {
///     format!("hello, {}", caller.user.login)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RequireRole<R: Role>(pub Principal, pub PhantomData<R>);

impl<S: Send + Sync, R: Role> FromRequestParts<S> for RequireRole<R>
where
    Arc<AuthService>: FromRef<S>,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(p) = Authenticated::from_request_parts(parts, state).await?;
        p.require_role(R::NAME)?;
        Ok(Self(p, PhantomData))
    }
}

/// The client's address and user agent, for the per-address limits and the session
/// record. The address is the TCP peer's (`ConnectInfo<SocketAddr>`, from
/// `into_make_service_with_connect_info`); behind proxies, add the trusted ones as a
/// request extension (`Extension(TrustedProxies::new(..))`) and the address is the
/// client they forward ([`TrustedProxies::client_ip`]). Never rejects.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip());
        let ip = peer.map(|peer| match parts.extensions.get::<TrustedProxies>() {
            Some(proxies) => proxies.client_ip(peer, &parts.headers),
            None => peer,
        });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self(ClientInfo { ip, user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use auth_core::memory::MemoryStore;
    use auth_core::{AuthConfig, Key, KeySet, RefreshSecret, Registration};
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::error::{CHALLENGE, CHALLENGE_INVALID};

    const PASSWORD: &str = "Corr3ct-horse";

    async fn service() -> Arc<AuthService> {
        let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
        let auth = AuthService::new(
            Arc::new(MemoryStore::new()),
            keys,
            &RefreshSecret::generate(),
            AuthConfig::default(),
        )
        .unwrap();
        Arc::new(auth)
    }

    async fn token(auth: &AuthService, login: &str) -> String {
        let registration = Registration {
            login: login.into(),
            password: PASSWORD.into(),
            ..Default::default()
        };
        auth.register(registration, &ClientInfo::default())
            .await
            .unwrap();
        auth.login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap()
            .access_token
    }

    fn app(auth: Arc<AuthService>) -> Router {
        Router::new()
            .route(
                "/me",
                get(|Authenticated(p): Authenticated| async move { p.user.login }),
            )
            .route(
                "/admin",
                get(|RequireRole(p, ..): RequireRole<Admin>| async move { p.user.login }),
            )
            .route(
                "/client",
                get(|Client(c): Client| async move { format!("{:?}", c.ip) }),
            )
            .with_state(auth)
    }

    /// Status, `code`, `WWW-Authenticate` and body text of `GET path`.
    async fn get_with(
        app: &Router,
        path: &str,
        authorization: Option<&str>,
        extra: impl FnOnce(&mut Request<Body>),
    ) -> (StatusCode, Option<String>, Option<String>, String) {
        let mut req = Request::get(path);
        if let Some(a) = authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        let mut req = req.body(Body::empty()).unwrap();
        extra(&mut req);
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let challenge = resp
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        let code = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned));
        (status, code, challenge, text)
    }

    #[tokio::test]
    async fn the_bearer_extractor_tells_a_missing_token_from_a_bad_one() {
        let auth = service().await;
        let alice = token(&auth, "alice").await;
        let app = app(auth.clone());
        let get = |authorization: Option<String>| {
            let app = app.clone();
            async move { get_with(&app, "/me", authorization.as_deref(), |_| {}).await }
        };
        let (status, code, challenge, _) = get(None).await;
        assert_eq!(
            (status, code.as_deref(), challenge.as_deref()),
            (
                StatusCode::UNAUTHORIZED,
                Some("missing_token"),
                Some(CHALLENGE)
            )
        );
        for bad in ["Basic YWxpY2U6eA==", "Bearer ", "Bearer not-a-token"] {
            let (status, code, challenge, _) = get(Some(bad.to_owned())).await;
            assert_eq!(
                (status, code.as_deref(), challenge.as_deref()),
                (
                    StatusCode::UNAUTHORIZED,
                    Some("invalid_token"),
                    Some(CHALLENGE_INVALID)
                ),
                "{bad}"
            );
        }
        // The scheme in any case.
        let (status, _, _, body) = get(Some(format!("bEaReR {alice}"))).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
        // Logged out: refused at once.
        let principal = auth.authenticate(&alice).await.unwrap();
        auth.logout(&principal, auth_core::LogoutScope::Local)
            .await
            .unwrap();
        let (status, code, _, _) = get(Some(format!("Bearer {alice}"))).await;
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );
    }

    #[tokio::test]
    async fn a_required_role_is_checked_on_the_current_roles() {
        let auth = service().await;
        let bob = token(&auth, "bob").await;
        let app = app(auth.clone());
        let bearer = format!("Bearer {bob}");
        let (status, code, _, _) = get_with(&app, "/admin", Some(&bearer), |_| {}).await;
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        auth.ensure_admin("bob", PASSWORD).await.unwrap();
        let (status, _, _, body) = get_with(&app, "/admin", Some(&bearer), |_| {}).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "bob"));
        let (status, code, _, _) = get_with(&app, "/admin", None, |_| {}).await;
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::UNAUTHORIZED, Some("missing_token"))
        );
    }

    #[tokio::test]
    async fn the_client_is_the_peer_unless_a_trusted_proxy_forwards_it() {
        let app = app(service().await);
        let proxy = SocketAddr::from(([10, 0, 0, 7], 4711));
        let forwarded = |proxies: Option<TrustedProxies>| {
            move |req: &mut Request<Body>| {
                req.extensions_mut().insert(ConnectInfo(proxy));
                req.headers_mut()
                    .insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
                if let Some(p) = proxies {
                    req.extensions_mut().insert(p);
                }
            }
        };
        let shown = |ip: IpAddr| format!("Some({ip})");
        let (_, _, _, body) = get_with(&app, "/client", None, forwarded(None)).await;
        assert_eq!(body, shown(proxy.ip()), "no proxies trusted: the peer");
        let trusted = TrustedProxies::new([crate::parse_net("10.0.0.0/8").unwrap()]);
        let (_, _, _, body) = get_with(&app, "/client", None, forwarded(Some(trusted))).await;
        assert_eq!(body, shown(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))));
        let (_, _, _, body) = get_with(&app, "/client", None, |_| {}).await;
        assert_eq!(body, "None", "no ConnectInfo: no address");
    }
}
