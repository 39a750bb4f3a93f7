//! Argon2id password hashing, off the async executor and bounded in parallelism.

use std::sync::Arc;

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{OnceCell, Semaphore};

use crate::domain::Password;
use crate::error::AuthError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
}

impl Default for Argon2Params {
    /// OWASP's recommendation: m = 19456 KiB, t = 2, p = 1.
    fn default() -> Self {
        Self {
            m_cost: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// Whether the password matches.
    pub valid: bool,
    /// Whether the stored hash was made with other parameters and should be replaced.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords with Argon2id.
///
/// Each hash runs on tokio's blocking pool behind a semaphore sized to the number of
/// cores, so a burst of logins queues instead of starving the executor. While hashes
/// follow one another, each permit reuses one Argon2 memory buffer, so memory stays at
/// permits x `m_cost` however many threads the blocking pool uses and no hash pays for
/// faulting in fresh pages; when the last running hash ends, the buffers are freed, so
/// an idle service does not keep them. (On glibc, a freed buffer goes back to the
/// system only while the allocator's mmap threshold stays below its size: set it with
/// `mallopt(M_MMAP_THRESHOLD, 1 << 20)` at start or `MALLOC_MMAP_THRESHOLD_=1048576`.)
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Argon2Params,
    permits: Arc<Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Hashes waiting or running; the buffers are freed when it falls to 0.
    busy: Arc<AtomicUsize>,
    dummy: Arc<OnceCell<String>>,
}

fn internal(e: impl std::fmt::Display) -> AuthError {
    AuthError::Internal(e.to_string().into())
}

impl PasswordHasher {
    /// A hasher with these parameters and one permit per available core.
    pub fn new(params: Argon2Params) -> Result<Self, AuthError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_concurrency(params, cores)
    }

    /// A hasher with these parameters running at most `concurrency` hashes at once.
    pub fn with_concurrency(params: Argon2Params, concurrency: usize) -> Result<Self, AuthError> {
        argon2_params(params)?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            buffers: Arc::default(),
            busy: Arc::default(),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// Hashes a password into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let params = self.params;
        let password = password.clone();
        self.run(move |mem| hash_blocking(params, &password, mem))
            .await
    }

    /// Checks a password against a PHC string. A malformed hash never matches.
    pub async fn verify(&self, password: &Password, phc: &str) -> Result<Verification, AuthError> {
        let params = self.params;
        let password = password.clone();
        let phc = phc.to_owned();
        self.run(move |mem| Ok(verify_blocking(params, &password, &phc, mem)))
            .await
    }

    /// Spends the same time as a real verification and always fails; used for unknown
    /// logins so response time does not reveal which accounts exist.
    pub async fn verify_dummy(&self, password: &Password) -> Result<(), AuthError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let p = Password::unchecked("dummy password for unknown logins");
                self.hash(&p).await
            })
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _busy = Busy::enter(self);
        let _permit = self.permits.acquire().await.map_err(internal)?;
        // At most one buffer per permit exists, since a buffer is only taken under one.
        let mut mem = self
            .buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        // spawn_blocking panics outside a runtime; say what is missing instead.
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            internal("password hashing needs a tokio runtime (it runs on the blocking pool)")
        })?;
        let (mem, result) = runtime
            .spawn_blocking(move || {
                let r = f(&mut mem);
                (mem, r)
            })
            .await
            .map_err(internal)?;
        self.buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mem);
        result
    }
}

/// One hash waiting or running. The last to leave frees the pooled buffers (also when
/// its future is dropped midway).
struct Busy<'a>(&'a PasswordHasher);

impl<'a> Busy<'a> {
    fn enter(hasher: &'a PasswordHasher) -> Self {
        hasher.busy.fetch_add(1, Ordering::AcqRel);
        Self(hasher)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut pool = self.0.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            pool.clear();
            pool.shrink_to_fit();
        }
    }
}

fn argon2_params(params: Argon2Params) -> Result<Params, AuthError> {
    Params::new(params.m_cost, params.t_cost, params.p_cost, None).map_err(internal)
}

/// Runs Argon2 into `out` using `mem` as its working memory, grown as needed.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &Password,
    salt: &[u8],
    out: &mut [u8],
    mem: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    if mem.len() < blocks {
        mem.resize(blocks, Block::default());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.expose().as_bytes(),
        salt,
        out,
        &mut mem[..blocks],
    )
}

fn hash_blocking(
    params: Argon2Params,
    password: &Password,
    mem: &mut Vec<Block>,
) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| internal("random salt"))?;
    let mut out = [0u8; 32];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        argon2_params(params)?,
        password,
        &salt,
        &mut out,
        mem,
    )
    .map_err(internal)?;
    // PHC string format: unpadded standard base64 for salt and hash.
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost,
        params.t_cost,
        params.p_cost,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn verify_blocking(
    params: Argon2Params,
    password: &Password,
    phc: &str,
    mem: &mut Vec<Block>,
) -> Verification {
    let invalid = Verification {
        valid: false,
        needs_rehash: false,
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return invalid;
    };
    let (Ok(algorithm), Some(expected)) = (Algorithm::try_from(parsed.algorithm), parsed.hash)
    else {
        return invalid;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let Ok(recorded) = Params::try_from(&parsed) else {
        return invalid;
    };
    let mut salt_buf = [0u8; 64];
    let Some(salt) = parsed.salt.and_then(|s| s.decode_b64(&mut salt_buf).ok()) else {
        return invalid;
    };
    // Verification uses the parameters recorded in the hash itself.
    let Ok(recorded) = Params::new(
        recorded.m_cost(),
        recorded.t_cost(),
        recorded.p_cost(),
        Some(expected.len()),
    ) else {
        return invalid;
    };
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return invalid;
    };
    if argon2_into(
        algorithm,
        version,
        recorded.clone(),
        password,
        salt,
        out,
        mem,
    )
    .is_err()
    {
        return invalid;
    }
    // `Output` compares in constant time.
    let valid = Output::new(out).is_ok_and(|o| o == expected);
    let current = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && recorded.m_cost() == params.m_cost
        && recorded.t_cost() == params.t_cost
        && recorded.p_cost() == params.p_cost;
    Verification {
        valid,
        needs_rehash: valid && !current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Params {
        Argon2Params {
            m_cost: 1024,
            t_cost: 1,
            p_cost: 1,
        }
    }

    #[test]
    fn hashing_outside_a_runtime_is_an_error_not_a_panic() {
        let h = PasswordHasher::new(Argon2Params::default()).unwrap();
        let password = Password::unchecked("Passw0rd!");
        let err = futures::executor::block_on(h.hash(&password)).unwrap_err();
        assert!(err.to_string().contains("internal"), "{err}");
        let AuthError::Internal(source) = err else {
            panic!("expected Internal");
        };
        assert!(source.to_string().contains("tokio runtime"), "{source}");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_with_owasp_defaults() {
        let h = PasswordHasher::new(Argon2Params::default()).unwrap();
        let phc = h.hash(&Password::unchecked("Passw0rd!")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    #[tokio::test]
    async fn verify_accepts_the_right_password_only() {
        let h = PasswordHasher::new(cheap()).unwrap();
        let phc = h.hash(&Password::unchecked("Passw0rd!")).await.unwrap();
        let ok = h
            .verify(&Password::unchecked("Passw0rd!"), &phc)
            .await
            .unwrap();
        assert!(ok.valid && !ok.needs_rehash);
        let bad = h
            .verify(&Password::unchecked("passw0rd!"), &phc)
            .await
            .unwrap();
        assert!(!bad.valid);
    }

    #[tokio::test]
    async fn a_hash_with_other_parameters_needs_rehash() {
        let old = PasswordHasher::new(cheap()).unwrap();
        let phc = old.hash(&Password::unchecked("Passw0rd!")).await.unwrap();
        let new = PasswordHasher::new(Argon2Params {
            t_cost: 2,
            ..cheap()
        })
        .unwrap();
        let v = new
            .verify(&Password::unchecked("Passw0rd!"), &phc)
            .await
            .unwrap();
        assert!(v.valid && v.needs_rehash);
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier, SaltString};
        let h = PasswordHasher::new(cheap()).unwrap();
        let ours = h.hash(&Password::unchecked("Passw0rd!")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Passw0rd!", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(&[5u8; 16]).unwrap();
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"Passw0rd!", &salt)
        .unwrap()
        .to_string();
        let v = h
            .verify(&Password::unchecked("Passw0rd!"), &theirs)
            .await
            .unwrap();
        assert!(v.valid && !v.needs_rehash);
        assert!(
            !h.verify(&Password::unchecked("passw0rd!"), &theirs)
                .await
                .unwrap()
                .valid
        );
        // Argon2i hashes verify too, and ask to be replaced by Argon2id.
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"Passw0rd!", &salt)
        .unwrap()
        .to_string();
        let v = h
            .verify(&Password::unchecked("Passw0rd!"), &argon2i)
            .await
            .unwrap();
        assert!(v.valid && v.needs_rehash);
    }

    #[tokio::test]
    async fn buffers_are_bounded_by_the_permits() {
        let h = PasswordHasher::with_concurrency(cheap(), 2).unwrap();
        let p = Password::unchecked("Passw0rd!");
        let burst = futures::future::join_all((0..16).map(|_| h.hash(&p)));
        let watch = async {
            let mut most = 0;
            // The burst is polled first, so its hashes are counted before this runs.
            while h.busy.load(Ordering::Acquire) > 0 {
                most = most.max(h.buffers.lock().unwrap().len());
                tokio::task::yield_now().await;
            }
            most
        };
        let (_, most) = tokio::join!(burst, watch);
        assert!(most <= 2, "{most} buffers");
        // Idle again: no buffer is kept.
        assert!(h.buffers.lock().unwrap().is_empty());
        h.hash(&p).await.unwrap();
        assert!(h.buffers.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn malformed_hashes_never_match() {
        let h = PasswordHasher::new(cheap()).unwrap();
        for phc in ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$$"] {
            let v = h.verify(&Password::unchecked("x"), phc).await.unwrap();
            assert!(!v.valid);
        }
    }
}
