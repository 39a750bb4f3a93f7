//! Item: a resource server verifies tokens with public keys alone, custom claims included.

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{AuthConfig, AuthService, ClientInfo, CustomClaims, JwkSet, KeyError, KeySet};
use consumer::{PASSWORD, auth_service, register};

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "orders-api";

fn issuer_service() -> AuthService {
    auth_service(
        Arc::new(MemoryStore::new()),
        ISSUER,
        AUDIENCE,
        AuthConfig::default(),
    )
    .with_custom_claims(|_, _| {
        let mut c = CustomClaims::new();
        c.insert("tenant".into(), "acme".into());
        c
    })
}

async fn token(auth: &AuthService) -> String {
    register(auth, "alice").await;
    auth.login("alice", PASSWORD, ClientInfo::default())
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn a_resource_server_verifies_with_the_published_jwks_only() {
    let auth = issuer_service();
    let access = token(&auth).await;
    // What the resource server fetches from /.well-known/jwks.json.
    let published = serde_json::to_string(&auth.jwks()).unwrap();
    assert!(!published.contains("\"d\""), "a private part was published");
    let jwks: JwkSet = serde_json::from_str(&published).unwrap();
    let resource = KeySet::from_jwks(&jwks, ISSUER, AUDIENCE, 30).unwrap();
    let now = auth_core::time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = resource.verify(&access, now).unwrap();
    assert_eq!(claims.custom["tenant"], "acme");
    // It cannot sign, and tokens of another issuer's key fail.
    assert!(matches!(
        resource.sign(&claims),
        Err(KeyError::NoSigningKey)
    ));
    let stranger = token(&issuer_service()).await;
    assert!(resource.verify(&stranger, now).is_err());
    // The wrong audience fails too.
    let other_api = KeySet::from_jwks(&jwks, ISSUER, "billing-api", 30).unwrap();
    assert!(other_api.verify(&access, now).is_err());
}

#[tokio::test]
async fn a_verification_only_service_refuses_to_issue() {
    let auth = issuer_service();
    let public = auth.keys().signing_key().unwrap().clone().verify_only();
    let keys = KeySet::verification_only([public], ISSUER, AUDIENCE, 0).unwrap();
    assert!(keys.signing_key().is_none());
    assert!(matches!(
        KeySet::from_jwks(&JwkSet { keys: vec![] }, ISSUER, AUDIENCE, 0),
        Err(KeyError::NoKey)
    ));
}
