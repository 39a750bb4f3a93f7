//! Argon2id password hashing, off the async executor and bounded in parallelism.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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
/// cores, so a burst of logins queues instead of starving the executor.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Argon2Params,
    permits: Arc<Semaphore>,
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
        argon2(params)?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// Hashes a password into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let params = self.params;
        let password = password.clone();
        self.run(move || hash_blocking(params, &password)).await
    }

    /// Checks a password against a PHC string. A malformed hash never matches.
    pub async fn verify(&self, password: &Password, phc: &str) -> Result<Verification, AuthError> {
        let params = self.params;
        let password = password.clone();
        let phc = phc.to_owned();
        self.run(move || Ok(verify_blocking(params, &password, &phc)))
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
        f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self.permits.acquire().await.map_err(internal)?;
        tokio::task::spawn_blocking(f).await.map_err(internal)?
    }
}

fn argon2(params: Argon2Params) -> Result<Argon2<'static>, AuthError> {
    let p = Params::new(params.m_cost, params.t_cost, params.p_cost, None).map_err(internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

fn hash_blocking(params: Argon2Params, password: &Password) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| internal("random salt"))?;
    let salt = SaltString::encode_b64(&salt).map_err(internal)?;
    Ok(argon2(params)?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(internal)?
        .to_string())
}

fn verify_blocking(params: Argon2Params, password: &Password, phc: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verification {
            valid: false,
            needs_rehash: false,
        };
    };
    // Verification uses the parameters recorded in the hash itself.
    let valid = Argon2::default()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    let current = Params::try_from(&parsed).ok().is_some_and(|p| {
        parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.version == Some(Version::V0x13.into())
            && p.m_cost() == params.m_cost
            && p.t_cost() == params.t_cost
            && p.p_cost() == params.p_cost
    });
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
    async fn malformed_hashes_never_match() {
        let h = PasswordHasher::new(cheap()).unwrap();
        for phc in ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$$"] {
            let v = h.verify(&Password::unchecked("x"), phc).await.unwrap();
            assert!(!v.valid);
        }
    }
}
