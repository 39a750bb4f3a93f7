//! Access tokens whose signature has already been checked.
//!
//! A client sends the same access token with every request for its whole lifetime;
//! checking an Ed25519 signature costs tens of microseconds each time. This cache
//! remembers, by the exact token text, the few claims `authenticate` needs, so the
//! signature is checked once per token. Expiry is still checked on every hit, and
//! the session and user are still read from the store on every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::token::{AccessClaims, CustomClaims};

const SHARDS: usize = 16;

#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub sub: Uuid,
    pub sid: Uuid,
    pub custom: Arc<CustomClaims>,
    /// First second (inclusive) the token is accepted, leeway included.
    valid_from: i64,
    /// First second the token is refused, leeway included.
    valid_until: i64,
}

#[derive(Debug)]
pub(crate) struct VerifiedTokens {
    shards: Vec<Mutex<HashMap<Box<str>, Verified>>>,
    per_shard: usize,
}

impl VerifiedTokens {
    /// A cache of about `capacity` tokens; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        let shards = if per_shard == 0 { 0 } else { SHARDS };
        Self {
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard,
        }
    }

    fn shard(&self, token: &str) -> Option<&Mutex<HashMap<Box<str>, Verified>>> {
        // The last characters are signature bytes: uniform enough to spread tokens.
        let b = token.as_bytes();
        let h = b
            .iter()
            .rev()
            .take(4)
            .fold(0usize, |h, x| h * 31 + *x as usize);
        self.shards.get(h % self.shards.len().max(1))
    }

    /// Forgets every token (a key they were verified with may have been revoked).
    pub fn clear(&self) {
        for shard in &self.shards {
            shard.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// The cached claims if `token` was verified and is valid at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Verified> {
        let shard = self.shard(token)?;
        let map = shard.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .filter(|v| v.valid_from <= now && now < v.valid_until)
            .cloned()
    }

    /// Remembers a token that just passed verification.
    pub fn insert(&self, token: &str, claims: &AccessClaims, leeway: i64, now: i64) -> Verified {
        let verified = Verified {
            sub: claims.sub,
            sid: claims.sid,
            custom: Arc::new(claims.custom.clone()),
            valid_from: claims.iat - leeway,
            valid_until: claims.exp + leeway,
        };
        let Some(shard) = self.shard(token) else {
            return verified;
        };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.per_shard {
            map.retain(|_, v| v.valid_until > now);
            if map.len() >= self.per_shard {
                // Still full of live tokens: start over rather than track recency.
                map.clear();
            }
        }
        map.insert(token.into(), verified.clone());
        verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat,
            exp,
            jti: Uuid::new_v4(),
            nbf: None,
            roles: vec![],
            amr: vec![],
            custom: Default::default(),
        }
    }

    #[test]
    fn hits_only_for_the_exact_token_within_its_lifetime() {
        let cache = VerifiedTokens::new(100);
        let c = claims(100, 200);
        cache.insert("tok.en.abcd", &c, 0, 100);
        let hit = cache.get("tok.en.abcd", 150).unwrap();
        assert_eq!((hit.sub, hit.sid), (c.sub, c.sid));
        assert!(cache.get("tok.en.abce", 150).is_none());
        assert!(cache.get("tok.en.abcd", 200).is_none(), "expired");
        assert!(cache.get("tok.en.abcd", 99).is_none(), "not yet valid");
    }

    #[test]
    fn a_zero_capacity_cache_remembers_nothing() {
        let cache = VerifiedTokens::new(0);
        cache.insert("t", &claims(0, 10), 0, 0);
        assert!(cache.get("t", 5).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = VerifiedTokens::new(32);
        for i in 0..10_000 {
            cache.insert(&format!("token-{i:05}"), &claims(0, 1_000), 0, 0);
        }
        let total: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= 32, "{total}");
    }
}
