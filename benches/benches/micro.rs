//! Micro benches: each group measures a baseline (the raw library call our code wraps)
//! and our path in the same run, so `benches/report.py` can print ratios.

use std::str::FromStr;
use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{
    AccessClaims, Argon2Params, AuthConfig, AuthService, Key, KeySet, Password, PasswordHasher,
    RefreshSecret,
};
use aws_lc_rs::signature::Ed25519KeyPair;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use exchange_core::{Amount, CurrencyCode, ExchangeService};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

const ISS: &str = "https://issuer.bench";
const AUD: &str = "bench-api";

fn claims() -> AccessClaims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    AccessClaims {
        iss: ISS.into(),
        aud: AUD.into(),
        sub: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        iat: now,
        exp: now + 900,
        jti: Uuid::new_v4(),
        nbf: None,
        roles: vec!["admin".into()],
        amr: vec![],
        custom: Default::default(),
    }
}

struct Raw {
    header: Header,
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

/// Our key set and the raw jsonwebtoken equivalents with the same key and checks.
fn eddsa() -> (KeySet, Raw) {
    let der = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let key = Key::ed25519_from_pkcs8_der(der.as_ref()).unwrap();
    let public = Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap();
    let raw = aws_lc_rs::signature::KeyPair::public_key(&public)
        .as_ref()
        .to_vec();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid().to_owned());
    let r = Raw {
        header,
        enc: EncodingKey::from_ed_der(der.as_ref()),
        dec: DecodingKey::from_ed_der(&raw),
        validation: validation(Algorithm::EdDSA),
    };
    (KeySet::new(key, [], ISS, AUD, 0).unwrap(), r)
}

fn hs256() -> (KeySet, Raw) {
    let secret = [7u8; 32];
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("hs".into());
    let r = Raw {
        header,
        enc: EncodingKey::from_secret(&secret),
        dec: DecodingKey::from_secret(&secret),
        validation: validation(Algorithm::HS256),
    };
    (
        KeySet::new(Key::hs256("hs", &secret).unwrap(), [], ISS, AUD, 0).unwrap(),
        r,
    )
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
    v
}

fn tokens(c: &mut Criterion) {
    for (name, (keys, raw)) in [("eddsa", eddsa()), ("hs256", hs256())] {
        let cl = claims();
        let mut g = c.benchmark_group(format!("token_issue_{name}"));
        g.bench_function("baseline", |b| {
            b.iter(|| jsonwebtoken::encode(&raw.header, &cl, &raw.enc).unwrap())
        });
        g.bench_function("ours", |b| b.iter(|| keys.sign(&cl).unwrap()));
        g.finish();

        let token = keys.sign(&cl).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut g = c.benchmark_group(format!("token_verify_{name}"));
        g.bench_function("baseline", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<AccessClaims>(&token, &raw.dec, &raw.validation).unwrap()
            })
        });
        g.bench_function("ours", |b| b.iter(|| keys.verify(&token, now).unwrap()));
        g.finish();
    }
}

/// Serves one JWK Set, as an issuer's endpoint would.
#[derive(Debug)]
struct StaticJwks(Vec<u8>);

#[auth_core::async_trait::async_trait]
impl auth_core::JwksFetch for StaticJwks {
    async fn get(&self, _url: &str) -> Result<auth_core::Fetched, auth_core::BoxError> {
        Ok(auth_core::Fetched {
            status: 200,
            cache_control: Some("max-age=3600".into()),
            body: self.0.clone(),
        })
    }
}

/// A resource server's verification: `RemoteKeys` with its JWK Set cached, against
/// the same key set's `verify` (the rules it applies).
fn remote_keys(c: &mut Criterion) {
    let rt = runtime();
    let (keys, _) = eddsa();
    let token = keys.sign(&claims()).unwrap();
    let jwks = serde_json::to_vec(&keys.jwks()).unwrap();
    let public = KeySet::from_jwks(&keys.jwks(), keys.issuer(), keys.audience(), 0).unwrap();
    let remote = auth_core::RemoteKeys::new(
        auth_core::JwksSource::Jwks {
            url: "https://issuer.test/jwks.json".into(),
            issuer: keys.issuer().into(),
        },
        auth_core::RemoteKeysConfig::new(keys.audience()),
        Arc::new(StaticJwks(jwks)),
    );
    rt.block_on(remote.verify(&token)).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut g = c.benchmark_group("remote_keys_verify");
    g.bench_function("baseline", |b| {
        b.iter(|| public.verify(&token, now).unwrap())
    });
    g.bench_function("ours", |b| {
        b.to_async(&rt)
            .iter(|| async { remote.verify(&token).await.unwrap() })
    });
    g.finish();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn authenticate(c: &mut Criterion) {
    let rt = runtime();
    let service = |cache: usize| {
        let (keys, _) = eddsa();
        let auth = AuthService::new(
            Arc::new(MemoryStore::new()),
            keys,
            &RefreshSecret::generate(),
            AuthConfig {
                verified_token_cache: cache,
                ..AuthConfig::default()
            },
        )
        .unwrap();
        let (pair, key) = rt.block_on(async {
            benches::register_user(&auth).await;
            (
                benches::login(&auth).await,
                benches::api_key(&auth, "bench").await,
            )
        });
        (auth, pair.access_token, key)
    };
    let (cached, t1, key) = service(10_000);
    let (uncached, t2, _) = service(0);
    let mut g = c.benchmark_group("authenticate_memory");
    g.bench_function("baseline", |b| b.iter(|| uncached.verify(&t2).unwrap()));
    g.bench_function("ours", |b| {
        b.to_async(&rt)
            .iter(|| async { cached.authenticate(&t1).await.unwrap() })
    });
    g.bench_function("ours_cache_off", |b| {
        b.to_async(&rt)
            .iter(|| async { uncached.authenticate(&t2).await.unwrap() })
    });
    // The same call with an API key: digest of the secret, one read of the key and
    // its owner (target: within 1.5x of "ours").
    g.bench_function("ours_api_key", |b| {
        b.to_async(&rt)
            .iter(|| async { cached.authenticate(&key).await.unwrap() })
    });
    g.finish();
}

fn refresh_token(c: &mut Criterion) {
    let secret = RefreshSecret::from_bytes(&[9u8; 32]).unwrap();
    let codec = auth_core::testkit::TokenMac::new(&secret);
    let token = codec.encode(Uuid::new_v4(), 42);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.expose());
    let body = [1u8; 25];
    let mut g = c.benchmark_group("refresh_token_decode");
    g.bench_function("baseline", |b| {
        b.iter(|| aws_lc_rs::hmac::sign(&key, &body))
    });
    g.bench_function("ours", |b| b.iter(|| codec.decode(&token).unwrap()));
    g.finish();
}

fn conversion(c: &mut Criterion) {
    let rt = runtime();
    let svc = ExchangeService::new(Arc::new(exchange_core::memory::MemoryStore::new()));
    rt.block_on(async {
        for code in ["USD", "EUR", "GBP", "JPY", "CNY", "CHF"] {
            svc.add_currency(code, code, "$").await.unwrap();
        }
        for (t, r) in [
            ("EUR", "0.92"),
            ("GBP", "0.79"),
            ("JPY", "151.3"),
            ("CNY", "7.24"),
        ] {
            svc.add_rate("USD", t, r).await.unwrap();
        }
    });
    let amount = Decimal::from_str("10").unwrap();
    let rate = Decimal::from_str("0.92").unwrap();
    let mut g = c.benchmark_group("convert_memory");
    g.bench_function("baseline", |b| {
        b.iter(|| {
            (black_box(amount) * black_box(rate))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        })
    });
    // The server's configuration: rates served from an in-memory snapshot.
    let snap = svc
        .clone()
        .with_rate_snapshot(std::time::Duration::from_secs(3600));
    for (name, from, to) in [
        ("direct", "USD", "EUR"),
        ("inverse", "EUR", "USD"),
        ("cross", "EUR", "GBP"),
    ] {
        g.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { svc.convert(from, to, "10").await.unwrap() })
        });
        g.bench_function(format!("{name}_snapshot"), |b| {
            b.to_async(&rt)
                .iter(|| async { snap.convert(from, to, "10").await.unwrap() })
        });
    }
    // The conversion API for hot loops: a rate table, parsed codes and amounts.
    let table = rt.block_on(snap.rate_table()).unwrap();
    let ten = Amount::parse("10").unwrap();
    for (name, from, to) in [
        ("quote_direct", "USD", "EUR"),
        ("quote_inverse", "EUR", "USD"),
        ("quote_cross", "EUR", "GBP"),
    ] {
        let (from, to) = (
            CurrencyCode::parse(from).unwrap(),
            CurrencyCode::parse(to).unwrap(),
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                table
                    .quote(black_box(from), black_box(to), black_box(ten))
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// As-of quotes from a [`exchange_core::dated::DatedRateTable`] holding 25 years of
/// daily rates of 30 currencies, against today's [`exchange_core::RateTable::quote`]
/// of the same pairs, in one group.
fn dated_conversion(c: &mut Criterion) {
    let rt = runtime();
    let eur = CurrencyCode::parse("EUR").unwrap();
    let svc =
        ExchangeService::new(Arc::new(exchange_core::memory::MemoryStore::new())).with_pivot(eur);
    let history = benches::history::ecb_history(25);
    let observations = history.len();
    // Today's rates: the last day of the history, as current rates.
    let last: Vec<(String, String)> = history[observations - benches::history::CODES.len()..]
        .iter()
        .map(|o| (o.target.to_string(), o.rate.value().to_string()))
        .collect();
    rt.block_on(async {
        svc.add_currency("Euro", "EUR", "€").await.unwrap();
        for code in benches::history::CODES {
            svc.add_currency(code, code, "¤").await.unwrap();
        }
        svc.record_rates(history).await.unwrap();
        for (target, rate) in last {
            svc.add_rate("EUR", &target, &rate).await.unwrap();
        }
    });
    let dated = rt.block_on(svc.dated_rate_table(None)).unwrap();
    let today = rt.block_on(svc.rate_table()).unwrap();
    let ten = Amount::parse("10").unwrap();
    // A Saturday in the middle of the history: Friday's rates.
    let saturday = time::macros::date!(2012 - 06 - 16);
    let mut g = c.benchmark_group(format!("dated_memory_{observations}"));
    for (name, from, to) in [
        ("direct", "EUR", "USD"),
        ("inverse", "USD", "EUR"),
        ("cross", "USD", "JPY"),
    ] {
        let (from, to) = (
            CurrencyCode::parse(from).unwrap(),
            CurrencyCode::parse(to).unwrap(),
        );
        g.bench_function(format!("rate_table_quote_{name}"), |b| {
            b.iter(|| {
                today
                    .quote(black_box(from), black_box(to), black_box(ten))
                    .unwrap()
            })
        });
        g.bench_function(format!("as_of_quote_{name}"), |b| {
            b.iter(|| {
                dated
                    .quote_at(
                        black_box(from),
                        black_box(to),
                        black_box(ten),
                        black_box(saturday),
                        None,
                    )
                    .unwrap()
                    .converted_amount
            })
        });
    }
    // A different day on each call, through the whole history.
    let (usd, jpy) = (
        CurrencyCode::parse("USD").unwrap(),
        CurrencyCode::parse("JPY").unwrap(),
    );
    let first = time::macros::date!(2000 - 01 - 10);
    let mut day = 0i64;
    g.bench_function("as_of_quote_cross_every_day", |b| {
        b.iter(|| {
            day = (day + 1) % 9000;
            let at = first + time::Duration::days(day);
            dated
                .quote_at(usd, jpy, ten, black_box(at), None)
                .unwrap()
                .converted_amount
        })
    });
    // The same through the store (the default `convert_at`: one store read a call).
    g.bench_function("convert_at_store_cross", |b| {
        b.to_async(&rt).iter(|| async {
            svc.convert_at("USD", "JPY", "10", saturday, None)
                .await
                .unwrap()
        })
    });
    g.finish();
}

fn passwords(c: &mut Criterion) {
    let rt = runtime();
    let params = Argon2Params::default();
    let hasher = PasswordHasher::new(params).unwrap();
    let password = Password::unchecked("Passw0rd!");
    let raw = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, None).unwrap(),
    );
    let salt = argon2::password_hash::SaltString::encode_b64(&[3u8; 16]).unwrap();
    let phc = rt.block_on(hasher.hash(&password)).unwrap();
    let parsed = argon2::password_hash::PasswordHash::new(&phc).unwrap();

    let mut g = c.benchmark_group("password_hash");
    g.sample_size(40);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            argon2::password_hash::PasswordHasher::hash_password(&raw, b"Passw0rd!", &salt).unwrap()
        })
    });
    g.bench_function("ours", |b| {
        b.to_async(&rt)
            .iter(|| async { hasher.hash(&password).await.unwrap() })
    });
    g.finish();

    let mut g = c.benchmark_group("password_verify");
    g.sample_size(40);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            argon2::password_hash::PasswordVerifier::verify_password(&raw, b"Passw0rd!", &parsed)
                .unwrap()
        })
    });
    g.bench_function("ours", |b| {
        b.to_async(&rt)
            .iter(|| async { hasher.verify(&password, &phc).await.unwrap() })
    });
    g.finish();
}

criterion_group!(
    benches,
    tokens,
    remote_keys,
    authenticate,
    refresh_token,
    conversion,
    dated_conversion,
    passwords
);
criterion_main!(benches);
