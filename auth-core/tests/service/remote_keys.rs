//! `RemoteKeys`, a resource server's verifier, against an issuer that rotates its keys:
//! served through a fake fetch that counts requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use super::*;

const ISSUER: &str = "https://issuer.test";

/// The issuer's well-known documents, as its HTTP server would answer them.
#[derive(Debug)]
struct FakeIssuer {
    auth: Arc<AuthService>,
    cache_control: Mutex<String>,
    down: AtomicBool,
    asked: Mutex<Vec<String>>,
}

impl FakeIssuer {
    fn jwks_requests(&self) -> usize {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u.ends_with("jwks.json"))
            .count()
    }
}

#[async_trait::async_trait]
impl JwksFetch for FakeIssuer {
    async fn get(&self, url: &str) -> Result<Fetched, BoxError> {
        self.asked.lock().unwrap().push(url.to_owned());
        if self.down.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        let body = match url {
            "https://issuer.test/.well-known/openid-configuration" => serde_json::json!({
                "issuer": ISSUER, "jwks_uri": "https://issuer.test/.well-known/jwks.json"
            })
            .to_string(),
            "https://issuer.test/.well-known/jwks.json" => {
                serde_json::to_string(&self.auth.jwks()).unwrap()
            }
            _ => {
                return Ok(Fetched {
                    status: 404,
                    cache_control: None,
                    body: vec![],
                });
            }
        };
        Ok(Fetched {
            status: 200,
            cache_control: Some(self.cache_control.lock().unwrap().clone()),
            body: body.into_bytes(),
        })
    }
}

fn issuer() -> (Fixture, Arc<FakeIssuer>) {
    let config = AuthConfig {
        key_rotation: Some(KeyRotation::every(Duration::hours(1))),
        ..AuthConfig::default()
    };
    let f = fixture_with(config, keys());
    let fake = Arc::new(FakeIssuer {
        auth: f.auth.clone(),
        cache_control: Mutex::new("public, max-age=300".into()),
        down: AtomicBool::new(false),
        asked: Mutex::new(vec![]),
    });
    (f, fake)
}

fn verifier(fake: &Arc<FakeIssuer>, tweak: impl FnOnce(&mut RemoteKeysConfig)) -> RemoteKeys {
    let mut config = RemoteKeysConfig::new("api.test");
    config.min_max_age = StdDuration::from_millis(50);
    config.refetch_interval = StdDuration::from_millis(300);
    // The issuer's clock is moved forward by the rotations.
    config.leeway_secs = 60;
    tweak(&mut config);
    RemoteKeys::new(JwksSource::Issuer(ISSUER.into()), config, fake.clone())
}

/// `token` with its header's `kid` replaced.
fn with_kid(token: &str, kid: &str) -> String {
    let mut parts = token.splitn(2, '.');
    let header = parts.next().unwrap();
    let mut header: serde_json::Value =
        serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    header["kid"] = kid.into();
    format!(
        "{}.{}",
        B64.encode(header.to_string()),
        parts.next().unwrap()
    )
}

async fn rotate(f: &Fixture, admin: &Principal) {
    f.clock.advance(Duration::seconds(10));
    f.auth.rotate_signing_key(admin).await.unwrap();
}

#[tokio::test]
async fn tokens_verify_across_rotations_with_a_fetch_only_for_a_key_published_since() {
    let (f, fake) = issuer();
    f.auth.sync_signing_keys().await.unwrap();
    let remote = verifier(&fake, |_| {});
    let admin = f.admin().await;
    let (user, first) = f.user_and_login("alice").await;
    let claims = remote.verify(&first.access_token).await.unwrap();
    assert_eq!((claims.sub, claims.iss.as_str()), (user.id, ISSUER));
    assert_eq!(fake.jwks_requests(), 1);
    // The next key was published with the first: no fetch for its tokens.
    rotate(&f, &admin).await;
    let second = f.login("alice").await.access_token;
    remote.verify(&second).await.unwrap();
    remote.verify(&first.access_token).await.unwrap();
    assert_eq!(fake.jwks_requests(), 1);
    // The one after was published after the fetch: its first token fetches once
    // (the last fetch being longer ago than the refetch interval).
    rotate(&f, &admin).await;
    let third = f.login("alice").await.access_token;
    tokio::time::sleep(StdDuration::from_millis(350)).await;
    remote.verify(&third).await.unwrap();
    remote.verify(&third).await.unwrap();
    assert_eq!(fake.jwks_requests(), 2);
    assert_eq!(
        fake.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u.contains("openid-configuration"))
            .count(),
        1,
        "discovered once"
    );
    assert_eq!(remote.fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_once_per_interval() {
    let (f, fake) = issuer();
    f.auth.sync_signing_keys().await.unwrap();
    let remote = Arc::new(verifier(&fake, |_| {}));
    let (_, pair) = f.user_and_login("alice").await;
    remote.verify(&pair.access_token).await.unwrap();
    let forged: Vec<String> = (0..1000)
        .map(|_| with_kid(&pair.access_token, &uuid::Uuid::new_v4().to_string()))
        .collect();
    let results = futures::future::join_all(forged.iter().cloned().map(|t| {
        let remote = remote.clone();
        tokio::spawn(async move { remote.verify(&t).await })
    }))
    .await;
    for r in results {
        let err = r.unwrap().unwrap_err();
        assert!(
            matches!(err, RemoteKeysError::Token(TokenError::UnknownKey)),
            "{err:?}"
        );
        assert_eq!((err.status(), err.code()), (401, "invalid_token"));
    }
    assert!(
        fake.jwks_requests() <= 2,
        "{} fetches for 1000 forged kids",
        fake.jwks_requests()
    );
    tokio::time::sleep(StdDuration::from_millis(350)).await;
    for t in &forged[..100] {
        assert!(remote.verify(t).await.is_err());
    }
    assert!(
        fake.jwks_requests() <= 3,
        "one more interval, one more fetch at most"
    );
    assert!(
        remote.verify(&pair.access_token).await.is_ok(),
        "real tokens still verify"
    );
}

#[tokio::test]
async fn a_revoked_keys_tokens_are_refused_once_the_cached_jwks_is_stale() {
    let (f, fake) = issuer();
    f.auth.sync_signing_keys().await.unwrap();
    *fake.cache_control.lock().unwrap() = "max-age=0".into();
    let remote = verifier(&fake, |_| {});
    let admin = f.admin().await;
    let (_, pair) = f.user_and_login("alice").await;
    remote.verify(&pair.access_token).await.unwrap();
    let current = f.auth.signing_keys().await.unwrap()[0].kid.clone();
    f.auth.revoke_signing_key(&admin, &current).await.unwrap();
    assert!(
        remote.verify(&pair.access_token).await.is_ok(),
        "cached for the minimum lifetime (50 ms)"
    );
    tokio::time::sleep(StdDuration::from_millis(60)).await;
    let err = remote.verify(&pair.access_token).await.unwrap_err();
    assert!(
        matches!(err, RemoteKeysError::Token(TokenError::UnknownKey)),
        "{err:?}"
    );
    let fresh = f.login("alice").await.access_token;
    remote.verify(&fresh).await.unwrap();
}

#[tokio::test]
async fn without_keys_the_answer_is_unavailable_and_stale_keys_serve_while_the_issuer_is_down() {
    let (f, fake) = issuer();
    f.auth.sync_signing_keys().await.unwrap();
    *fake.cache_control.lock().unwrap() = "max-age=0".into();
    let (_, pair) = f.user_and_login("alice").await;
    fake.down.store(true, Ordering::SeqCst);
    let remote = verifier(&fake, |_| {});
    let err = remote.verify(&pair.access_token).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "service_unavailable"));
    let asked = fake.asked.lock().unwrap().len();
    for _ in 0..20 {
        assert!(remote.verify(&pair.access_token).await.is_err());
    }
    assert_eq!(
        fake.asked.lock().unwrap().len(),
        asked,
        "a failed fetch is not tried again at once"
    );
    fake.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(StdDuration::from_millis(350)).await;
    remote
        .verify(&pair.access_token)
        .await
        .expect("fetched once the refetch interval passed");
    fake.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(StdDuration::from_millis(60)).await;
    for _ in 0..20 {
        remote
            .verify(&pair.access_token)
            .await
            .expect("the stale keys, while the issuer is down");
    }
    let jwks_asked = fake.jwks_requests();
    remote.verify(&pair.access_token).await.unwrap();
    assert_eq!(
        fake.jwks_requests(),
        jwks_asked,
        "one failed attempt per refetch interval"
    );
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let (f, fake) = issuer();
    f.auth.sync_signing_keys().await.unwrap();
    let (_, pair) = f.user_and_login("alice").await;
    let remote = RemoteKeys::new(
        JwksSource::Issuer("https://other.test".into()),
        RemoteKeysConfig::new("api.test"),
        fake.clone(),
    );
    assert!(matches!(
        remote.verify(&pair.access_token).await,
        Err(RemoteKeysError::Unavailable(_))
    ));
    let by_url = RemoteKeys::new(
        JwksSource::Jwks {
            url: "https://issuer.test/.well-known/jwks.json".into(),
            issuer: "https://other.test".into(),
        },
        RemoteKeysConfig::new("api.test"),
        fake.clone(),
    );
    assert!(
        matches!(
            by_url.verify(&pair.access_token).await,
            Err(RemoteKeysError::Token(TokenError::Rejected(_)))
        ),
        "iss is checked"
    );
    let wrong_audience = RemoteKeys::new(
        JwksSource::Discovery(format!("{ISSUER}/.well-known/openid-configuration")),
        RemoteKeysConfig::new("other-api"),
        fake.clone(),
    );
    assert!(matches!(
        wrong_audience.verify(&pair.access_token).await,
        Err(RemoteKeysError::Token(_))
    ));
}
