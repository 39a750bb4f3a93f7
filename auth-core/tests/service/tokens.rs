use super::*;

fn parts(token: &str) -> (serde_json::Value, serde_json::Value, String) {
    let mut it = token.split('.');
    let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    let c = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    (h, c, it.next().unwrap().to_owned())
}

fn hs256(header: &serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
    let msg = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let sig = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
    format!("{msg}.{}", B64.encode(sig.as_ref()))
}

async fn issued(f: &Fixture) -> TokenPair {
    f.user_and_login("alice").await.1
}

fn rejected(f: &Fixture, token: &str) {
    assert!(
        matches!(f.auth.verify(token), Err(AuthError::InvalidToken)),
        "accepted {token}"
    );
}

#[tokio::test]
async fn the_header_is_at_jwt_with_kid_and_eddsa() {
    let f = fixture();
    let p = issued(&f).await;
    let (h, c, _) = parts(&p.access_token);
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "EdDSA");
    assert_eq!(h["kid"], f.keys.signing_key().unwrap().kid());
    for claim in ["iss", "aud", "sub", "sid", "iat", "exp", "jti", "roles"] {
        assert!(c.get(claim).is_some(), "{claim}");
    }
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let f = fixture();
    let (mut h, c, _) = parts(&issued(&f).await.access_token);
    h["alg"] = "none".into();
    let t = format!(
        "{}.{}.",
        B64.encode(h.to_string()),
        B64.encode(c.to_string())
    );
    rejected(&f, &t);
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let f = fixture();
    let (mut h, c, _) = parts(&issued(&f).await.access_token);
    let x = &f.auth.jwks().keys[0].x;
    h["alg"] = "HS256".into();
    for key in [B64.decode(x).unwrap(), x.as_bytes().to_vec()] {
        rejected(&f, &hs256(&h, &c, &key));
    }
}

#[tokio::test]
async fn wrong_typ_iss_aud_and_unknown_kid_are_rejected() {
    let secret = [5u8; 32];
    let hs = KeySet::new(
        Key::hs256("k1", &secret).unwrap(),
        [],
        "https://issuer.test",
        "api.test",
        0,
    )
    .unwrap();
    let f = fixture_with(AuthConfig::default(), hs);
    let p = issued(&f).await;
    let (h, c, _) = parts(&p.access_token);
    // The forging helper itself is sound: an untouched re-signature verifies.
    f.auth.verify(&hs256(&h, &c, &secret)).unwrap();
    let mut cases = Vec::new();
    for typ in [serde_json::Value::from("JWT"), serde_json::Value::Null] {
        let mut h2 = h.clone();
        h2["typ"] = typ;
        cases.push(hs256(&h2, &c, &secret));
    }
    for (claim, value) in [("iss", "https://evil.test"), ("aud", "other-api")] {
        let mut c2 = c.clone();
        c2[claim] = value.into();
        cases.push(hs256(&h, &c2, &secret));
    }
    for missing in ["exp", "iat", "sub", "sid"] {
        let mut c2 = c.clone();
        c2.as_object_mut().unwrap().remove(missing);
        cases.push(hs256(&h, &c2, &secret));
    }
    let mut h2 = h.clone();
    h2["kid"] = "k2".into();
    cases.push(hs256(&h2, &c, &secret));
    let mut h3 = h.clone();
    h3.as_object_mut().unwrap().remove("kid");
    cases.push(hs256(&h3, &c, &secret));
    for t in cases {
        rejected(&f, &t);
    }
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let f = fixture();
    let p = issued(&f).await;
    f.clock.advance(Duration::minutes(15));
    rejected(&f, &p.access_token);
    assert!(f.auth.authenticate(&p.access_token).await.is_err());
}

#[tokio::test]
async fn a_token_remembered_as_verified_still_expires_on_time() {
    let f = fixture();
    let p = issued(&f).await;
    // The first call checks the signature and remembers the token.
    f.auth.authenticate(&p.access_token).await.unwrap();
    f.clock
        .advance(Duration::minutes(15) - Duration::seconds(1));
    f.auth.authenticate(&p.access_token).await.unwrap();
    f.clock.advance(Duration::seconds(1));
    assert!(matches!(
        f.auth.authenticate(&p.access_token).await,
        Err(AuthError::InvalidToken)
    ));
}

#[tokio::test]
async fn the_verified_token_cache_can_be_turned_off() {
    let f = fixture_with(
        AuthConfig {
            verified_token_cache: 0,
            ..Default::default()
        },
        keys(),
    );
    let p = issued(&f).await;
    f.auth.authenticate(&p.access_token).await.unwrap();
    f.clock.advance(Duration::minutes(15));
    assert!(f.auth.authenticate(&p.access_token).await.is_err());
}

#[tokio::test]
async fn tampered_payloads_and_signatures_are_rejected() {
    let f = fixture();
    let p = issued(&f).await;
    let (h, mut c, sig) = parts(&p.access_token);
    c["roles"] = serde_json::json!(["admin"]);
    let forged = format!(
        "{}.{}.{sig}",
        B64.encode(h.to_string()),
        B64.encode(c.to_string())
    );
    rejected(&f, &forged);
    let mut bytes = p.access_token.clone().into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    rejected(&f, &String::from_utf8(bytes).unwrap());
    for junk in ["", "a.b.c", "....", "not a token", &"x".repeat(10_000)] {
        rejected(&f, junk);
    }
}

#[tokio::test]
async fn a_token_from_another_key_is_rejected_until_that_key_is_trusted() {
    let old = Key::generate_ed25519().unwrap();
    let new = Key::generate_ed25519().unwrap();
    let before = fixture_with(
        AuthConfig::default(),
        KeySet::new(old.clone(), [], "https://issuer.test", "api.test", 0).unwrap(),
    );
    let p = issued(&before).await;
    // Rotation: the new key signs, the old one still verifies.
    let rotated = KeySet::new(
        new.clone(),
        [old.clone().verify_only()],
        "https://issuer.test",
        "api.test",
        0,
    )
    .unwrap();
    assert!(
        rotated
            .verify(
                &p.access_token,
                time::OffsetDateTime::now_utc().unix_timestamp()
            )
            .is_ok()
    );
    assert_eq!(rotated.jwks().keys.len(), 2);
    let without_old = KeySet::new(new, [], "https://issuer.test", "api.test", 0).unwrap();
    assert_eq!(
        without_old.verify(
            &p.access_token,
            time::OffsetDateTime::now_utc().unix_timestamp()
        ),
        Err(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn access_and_refresh_tokens_are_not_interchangeable() {
    let f = fixture();
    let p = issued(&f).await;
    assert!(matches!(
        f.auth
            .refresh(&p.access_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));
    rejected(&f, &p.refresh_token);
    assert!(f.auth.authenticate(&p.refresh_token).await.is_err());
}

#[tokio::test]
async fn a_refresh_token_with_a_flipped_bit_is_rejected() {
    let f = fixture();
    let p = issued(&f).await;
    let raw = B64.decode(&p.refresh_token).unwrap();
    for i in [0, 5, 20, 30, raw.len() - 1] {
        let mut bad = raw.clone();
        bad[i] ^= 0x01;
        assert!(matches!(
            f.auth
                .refresh(&B64.encode(&bad), &ClientInfo::default())
                .await,
            Err(AuthError::InvalidRefreshToken)
        ));
    }
    f.auth
        .refresh(&p.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn jwks_has_public_keys_only() {
    let f = fixture();
    let jwks = serde_json::to_value(f.auth.jwks()).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none());
    let hs = KeySet::new(Key::hs256("k", &[1u8; 32]).unwrap(), [], "i", "a", 0).unwrap();
    assert!(hs.jwks().keys.is_empty());
}

#[tokio::test]
async fn keys_load_from_pem_and_round_trip() {
    let k = Key::generate_ed25519().unwrap();
    let pem = k.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let loaded = Key::ed25519_from_pem(&pem).unwrap();
    assert_eq!(loaded.kid(), k.kid());
    // An OpenSSL-made PKCS#8 v1 key (RFC 8410 test vector).
    let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    let v1 = Key::ed25519_from_pem(openssl).unwrap();
    let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
    assert_eq!(
        Key::ed25519_public_from_pem(public).unwrap().kid(),
        v1.kid()
    );
    assert!(Key::ed25519_from_pem("garbage").is_err());
    assert!(Key::hs256("k", &[0u8; 31]).is_err());
    assert!(!format!("{k:?}").contains(&pem[30..60]));
}

#[cfg(feature = "serde")]
#[tokio::test]
async fn token_pairs_and_users_round_trip_through_serde() {
    let f = fixture();
    let (user, pair) = f.user_and_login("alice").await;
    let back: TokenPair = serde_json::from_str(&serde_json::to_string(&pair).unwrap()).unwrap();
    assert_eq!(back.access_token, pair.access_token);
    assert_eq!(back.token_type, "Bearer");
    let json = serde_json::to_value(&user).unwrap();
    assert_eq!(json["status"], "active");
    let again: User = serde_json::from_value(json).unwrap();
    assert_eq!(again, user);
}

#[tokio::test]
async fn custom_claims_are_signed_and_returned_by_verify_authenticate_and_refresh() {
    let store = Arc::new(MemoryStore::new());
    let auth = AuthService::new(
        store,
        keys(),
        &RefreshSecret::from_bytes(&[42u8; 32]).unwrap(),
        AuthConfig::default(),
    )
    .unwrap()
    .with_custom_claims(|user, roles| {
        let mut c = CustomClaims::new();
        c.insert("tenant".into(), "acme".into());
        c.insert("weight".into(), serde_json::json!(0.25));
        c.insert("user_copy".into(), user.to_string().into());
        c.insert("role_count".into(), roles.len().into());
        // Reserved names never override the crate's own claims.
        c.insert("sub".into(), "someone-else".into());
        c.insert("exp".into(), i64::MAX.into());
        c
    });
    let user = auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    let pair = auth
        .login("alice", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    let (_, payload, _) = parts(&pair.access_token);
    assert_eq!(payload["tenant"], "acme");
    assert_eq!(payload["sub"], user.id.to_string());
    let claims = auth.verify(&pair.access_token).unwrap();
    assert_eq!(claims.sub, user.id);
    assert!(claims.exp < i64::MAX);
    assert_eq!(claims.custom["tenant"], "acme");
    assert_eq!(claims.custom["weight"], 0.25);
    assert_eq!(claims.custom["user_copy"], user.id.to_string());
    assert_eq!(claims.custom["role_count"], 0);
    assert!(!claims.custom.contains_key("sub") && !claims.custom.contains_key("exp"));
    for _ in 0..2 {
        // Once verified and once from the verified-token cache.
        let who = auth.authenticate(&pair.access_token).await.unwrap();
        assert_eq!(who.custom.as_ref(), &claims.custom);
    }
    let refreshed = auth
        .refresh(&pair.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        auth.verify(&refreshed.access_token).unwrap().custom,
        claims.custom
    );
    // A service without the hook adds nothing.
    let f = fixture();
    let plain = f.auth.verify(&issued(&f).await.access_token).unwrap();
    assert!(plain.custom.is_empty());
}
