//! Signing keys and the refresh secret: loaded from files, or generated once into
//! the data directory (mode 0600) so restarts log no one out.

use std::path::Path;

use auth_core::{Key, KeySet, RefreshSecret};

use super::StartupError;
use crate::config::Config;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StartupError + '_ {
    move |source| StartupError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read(path: &Path) -> Result<String, StartupError> {
    std::fs::read_to_string(path).map_err(io_err(path))
}

pub(super) fn load_keys(config: &Config) -> Result<KeySet, StartupError> {
    let mut verifying = Vec::new();
    for path in &config.verification_key_files {
        let pem = read(path)?;
        let key = if pem.contains("PUBLIC KEY") {
            Key::ed25519_public_from_pem(&pem)?
        } else {
            Key::ed25519_from_pem(&pem)?.verify_only()
        };
        verifying.push(key);
    }
    let signing = if let Some(secret) = &config.jwt_hs256_secret {
        Key::hs256("hs256", secret.as_bytes())?
    } else if let Some(path) = &config.signing_key_file {
        Key::ed25519_from_pem(&read(path)?)?
    } else {
        let path = config.data_dir.join("signing-key.pem");
        let (key, generated) = Key::load_or_generate_ed25519(&path)?;
        if generated {
            tracing::info!(path = %path.display(), kid = key.kid(), "generated a new Ed25519 signing key");
        }
        key
    };
    Ok(KeySet::new(
        signing,
        verifying,
        config.jwt_issuer.clone(),
        config.jwt_audience.clone(),
        5,
    )?)
}

pub(super) fn load_refresh_secret(config: &Config) -> Result<RefreshSecret, StartupError> {
    if let Some(s) = &config.refresh_secret {
        return RefreshSecret::from_bytes(s.as_bytes()).ok_or_else(|| {
            StartupError::Config("REFRESH_SECRET must be at least 32 bytes".into())
        });
    }
    let path = config.data_dir.join("refresh-secret");
    let (secret, generated) = RefreshSecret::load_or_generate(&path)?;
    if generated {
        tracing::info!(path = %path.display(), "generated a new refresh-token secret");
    }
    Ok(secret)
}
