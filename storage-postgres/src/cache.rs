//! The session-status cache: what `session_status` and `api_key_status` read
//! recently, dropped on notice. A key's entry is kept under the key's id, its owner's
//! notices drop it like a session's.
//!
//! Rules (the design's "Session-status cache"):
//! - every change to a user, its roles or the revocation of one of its sessions sends
//!   a notice naming the user, in the same transaction (triggers of migration 0008);
//!   the instance that made the change also drops the user's entries itself, at once;
//! - **epoch**: every invalidation advances the epoch, and a read stores its result
//!   only if the epoch did not move since the read began, so a result that may predate
//!   an invalidation is never kept;
//! - **bypass**: while the listener is not connected nothing is served or stored, and
//!   the cache is cleared when it connects again (notices sent meanwhile are lost);
//! - a short TTL bounds the rest (a connection lost without the listener noticing);
//! - at most `capacity` entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::store::{ApiKeyStatus, SessionStatus};
use uuid::Uuid;

/// How the [`PgStore`](crate::PgStore) caches session statuses (see
/// [`PoolSettings::session_cache`](crate::PoolSettings::session_cache)).
///
/// The default keeps up to 10,000 sessions for at most 5 seconds each, listening on
/// the store's own connection options.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCacheSettings {
    /// Longest time an entry is served: the backstop for notices that never arrive
    /// (a network partition the listener has not noticed yet).
    pub ttl: Duration,
    /// Most sessions kept; when full, expired entries go, then everything.
    pub capacity: usize,
    /// Where the listener connects, when the store's own URL is a pooler in
    /// transaction mode (`LISTEN` needs a session of its own): a direct URL to the same
    /// database. `None`: the store's own connect options.
    pub listen_url: Option<String>,
}

impl Default for SessionCacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(5),
            capacity: 10_000,
            listen_url: None,
        }
    }
}

impl std::fmt::Debug for SessionCacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("SessionCacheSettings")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("listen_url", &self.listen_url.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// What the session-status cache is doing, for metrics and health checks
/// ([`PgStore::session_cache_stats`](crate::PgStore::session_cache_stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCacheStats {
    /// Whether the listener is connected; while it is not, every read goes to the
    /// database.
    pub listening: bool,
    /// Sessions held now.
    pub entries: usize,
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the database.
    pub misses: u64,
    /// Invalidations received or made (notices, local changes, reconnects).
    pub invalidations: u64,
    /// Times the listener started listening (the first time and every reconnection).
    pub connects: u64,
}

/// What the cache keeps under an id: a session's status or an API key's.
#[derive(Debug, Clone)]
pub(crate) enum Cached {
    Session(SessionStatus),
    ApiKey(ApiKeyStatus),
}

impl Cached {
    /// The user whose notices drop the entry.
    fn owner(&self) -> Uuid {
        match self {
            Cached::Session(s) => s.user.id,
            Cached::ApiKey(k) => k.user.id,
        }
    }
}

/// A kind of status the cache keeps.
pub(crate) trait Cacheable: Sized {
    fn wrap(self) -> Cached;
    fn unwrap(cached: &Cached) -> Option<Self>;
}

impl Cacheable for SessionStatus {
    fn wrap(self) -> Cached {
        Cached::Session(self)
    }
    fn unwrap(cached: &Cached) -> Option<Self> {
        match cached {
            Cached::Session(s) => Some(s.clone()),
            Cached::ApiKey(_) => None,
        }
    }
}

impl Cacheable for ApiKeyStatus {
    fn wrap(self) -> Cached {
        Cached::ApiKey(self)
    }
    fn unwrap(cached: &Cached) -> Option<Self> {
        match cached {
            Cached::ApiKey(k) => Some(k.clone()),
            Cached::Session(_) => None,
        }
    }
}

#[derive(Debug)]
struct Entry {
    status: Cached,
    stored: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    epoch: u64,
    listening: bool,
    entries: HashMap<Uuid, Entry>,
    /// Ids (sessions, keys) cached per user, so a notice naming a user drops exactly
    /// those.
    by_user: HashMap<Uuid, Vec<Uuid>>,
}

impl Inner {
    fn invalidate(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    fn clear(&mut self) {
        self.invalidate();
        self.entries.clear();
        self.by_user.clear();
    }
}

/// Proof that a read began at some epoch; see [`SessionCache::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

#[derive(Debug)]
pub(crate) struct SessionCache {
    inner: Mutex<Inner>,
    ttl: Duration,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    connects: AtomicU64,
    /// Bumped by a signing-keys notice, and on each (re)connection, as notices may
    /// have been missed.
    signing_keys: tokio::sync::watch::Sender<u64>,
}

impl SessionCache {
    /// An empty cache, bypassed until [`SessionCache::connected`].
    pub fn new(settings: &SessionCacheSettings) -> Self {
        Self {
            inner: Mutex::default(),
            ttl: settings.ttl,
            capacity: settings.capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            signing_keys: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Follows the signing-key notices.
    pub fn signing_key_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signing_keys.subscribe()
    }

    /// A notice said the signing keys were written.
    pub fn signing_keys_changed(&self) {
        self.signing_keys.send_modify(|n| *n += 1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached status under `session` (a session's or a key's id), if the listener
    /// is connected and the entry is younger than the TTL; otherwise a [`Ticket`] to
    /// store what the read returns.
    pub fn get<T: Cacheable>(&self, session: Uuid, now: Instant) -> Result<T, Option<Ticket>> {
        let mut inner = self.lock();
        if !inner.listening {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return Err(None);
        }
        match inner.entries.get(&session) {
            Some(e) if now.saturating_duration_since(e.stored) < self.ttl => {
                if let Some(status) = T::unwrap(&e.status) {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(status);
                }
            }
            Some(_) => {
                inner.entries.remove(&session);
            }
            None => {}
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Err(Some(Ticket(inner.epoch)))
    }

    /// Keeps `status`, read after `ticket` was taken, unless an invalidation came in
    /// between or the listener is down.
    pub fn store(&self, ticket: Ticket, session: Uuid, status: impl Cacheable, now: Instant) {
        let status = status.wrap();
        let mut inner = self.lock();
        if !inner.listening || inner.epoch != ticket.0 {
            return;
        }
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&session) {
            let ttl = self.ttl;
            inner
                .entries
                .retain(|_, e| now.saturating_duration_since(e.stored) < ttl);
            if inner.entries.len() >= self.capacity {
                inner.entries.clear();
            }
            let Inner {
                entries, by_user, ..
            } = &mut *inner;
            by_user.clear();
            for (sid, e) in entries.iter() {
                by_user.entry(e.status.owner()).or_default().push(*sid);
            }
        }
        let sessions = inner.by_user.entry(status.owner()).or_default();
        if !sessions.contains(&session) {
            sessions.push(session);
        }
        inner.entries.insert(
            session,
            Entry {
                status,
                stored: now,
            },
        );
    }

    /// Drops every entry of `user` and fails the reads in flight.
    pub fn forget_user(&self, user: Uuid) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        inner.invalidate();
        if let Some(sessions) = inner.by_user.remove(&user) {
            for s in sessions {
                inner.entries.remove(&s);
            }
        }
    }

    /// Drops `session` (this instance rotated it: its `last_refreshed_at` moved) and
    /// fails the reads in flight.
    pub fn forget_session(&self, session: Uuid) {
        let mut inner = self.lock();
        inner.invalidate();
        if let Some(e) = inner.entries.remove(&session)
            && let Some(sessions) = inner.by_user.get_mut(&e.status.owner())
        {
            sessions.retain(|s| *s != session);
        }
    }

    /// Drops everything and fails the reads in flight (a change whose users are not
    /// known, such as deleting a role).
    pub fn forget_all(&self) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        self.lock().clear();
    }

    /// The listener is listening: start from empty, as notices may have been missed.
    pub fn connected(&self) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        self.connects.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        inner.clear();
        inner.listening = true;
        drop(inner);
        self.signing_keys_changed();
    }

    /// The listener lost its connection: serve and store nothing until it is back.
    pub fn disconnected(&self) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        inner.clear();
        inner.listening = false;
    }

    pub fn stats(&self) -> SessionCacheStats {
        let inner = self.lock();
        SessionCacheStats {
            listening: inner.listening,
            entries: inner.entries.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use auth_core::store::{User, UserStatus};
    use time::OffsetDateTime;

    use super::*;

    fn status(user: Uuid, revoked: bool) -> SessionStatus {
        let now = OffsetDateTime::now_utc();
        SessionStatus {
            revoked,
            expires_at: now + time::Duration::hours(1),
            last_refreshed_at: now,
            user: User {
                id: user,
                login: "alice".into(),
                email: None,
                first_name: None,
                last_name: None,
                roles: vec![auth_core::RoleName::parse("user").unwrap()],
                status: UserStatus::Active,
                email_verified: false,
                created_at: now,
            },
        }
    }

    fn get(c: &SessionCache, id: Uuid, now: Instant) -> Result<SessionStatus, Option<Ticket>> {
        c.get(id, now)
    }

    fn cache(capacity: usize) -> SessionCache {
        let c = SessionCache::new(&SessionCacheSettings {
            ttl: Duration::from_secs(60),
            capacity,
            listen_url: None,
        });
        c.connected();
        c
    }

    fn ticket(c: &SessionCache, sid: Uuid, now: Instant) -> Ticket {
        get(c, sid, now).expect_err("a miss").expect("a ticket")
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let (c, now) = (cache(10), Instant::now());
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        // The read begins, reads the live session, and before it stores, the session
        // is revoked and the notice is handled.
        let t = ticket(&c, sid, now);
        let read_before_revocation = status(user, false);
        c.forget_user(user);
        c.store(t, sid, read_before_revocation, now);
        // The next read goes to the store and sees the revocation.
        let t = ticket(&c, sid, now);
        c.store(t, sid, status(user, true), now);
        assert!(get(&c, sid, now).expect("a hit").revoked);
    }

    #[test]
    fn an_invalidation_of_another_user_also_fails_reads_in_flight() {
        let (c, now) = (cache(10), Instant::now());
        let sid = Uuid::new_v4();
        let t = ticket(&c, sid, now);
        c.forget_user(Uuid::new_v4());
        c.store(t, sid, status(Uuid::new_v4(), false), now);
        assert!(get(&c, sid, now).is_err());
    }

    #[test]
    fn a_notice_drops_every_session_of_its_user_and_only_those() {
        let (c, now) = (cache(10), Instant::now());
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let sids: Vec<(Uuid, Uuid)> = [alice, alice, bob]
            .into_iter()
            .map(|u| (u, Uuid::new_v4()))
            .collect();
        for (user, sid) in &sids {
            let t = ticket(&c, *sid, now);
            c.store(t, *sid, status(*user, false), now);
        }
        c.forget_user(alice);
        assert!(get(&c, sids[0].1, now).is_err());
        assert!(get(&c, sids[1].1, now).is_err());
        assert_eq!(get(&c, sids[2].1, now).expect("bob kept").user.id, bob);
        assert_eq!(c.stats().entries, 1);
    }

    #[test]
    fn nothing_is_served_or_kept_while_disconnected_and_a_reconnect_starts_empty() {
        let (c, now) = (cache(10), Instant::now());
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let t = ticket(&c, sid, now);
        c.store(t, sid, status(user, false), now);
        assert!(get(&c, sid, now).is_ok());

        let in_flight = ticket(&c, Uuid::new_v4(), now);
        c.disconnected();
        assert_eq!(get(&c, sid, now).expect_err("bypassed"), None);
        assert!(!c.stats().listening);

        c.connected();
        // A read that began before the cut is not kept after the reconnect either.
        c.store(in_flight, sid, status(user, false), now);
        assert!(get(&c, sid, now).is_err());
        assert_eq!(c.stats().entries, 0);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let (c, now) = (cache(10), Instant::now());
        let sid = Uuid::new_v4();
        let t = ticket(&c, sid, now);
        c.store(t, sid, status(Uuid::new_v4(), false), now);
        assert!(get(&c, sid, now + Duration::from_secs(59)).is_ok());
        assert!(get(&c, sid, now + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let (c, now) = (cache(3), Instant::now());
        let user = Uuid::new_v4();
        let sids: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
        for sid in &sids {
            let t = ticket(&c, *sid, now);
            c.store(t, *sid, status(user, false), now);
            assert!(c.stats().entries <= 3);
        }
        // The index follows the entries: a notice still drops what is left.
        assert!(get(&c, sids[9], now).is_ok());
        c.forget_user(user);
        assert_eq!(c.stats().entries, 0);
    }
}
