//! Signing keys and the refresh secret: loaded from files, or generated once into
//! the data directory (mode 0600) so restarts log no one out.

use std::path::Path;

use auth_core::{Key, KeySet, RefreshSecret};
use base64::Engine;

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

/// Writes a secret file readable by its owner only.
fn write_secret(path: &Path, contents: &[u8]) -> Result<(), StartupError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io_err(path))?;
    std::io::Write::write_all(&mut f, contents).map_err(io_err(path))
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
        if path.exists() {
            Key::ed25519_from_pem(&read(&path)?)?
        } else {
            let key = Key::generate_ed25519()?;
            let pem = key.to_pkcs8_pem().expect("generated keys are Ed25519");
            write_secret(&path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), kid = key.kid(), "generated a new Ed25519 signing key");
            key
        }
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
    let b64 = base64::engine::general_purpose::STANDARD;
    if path.exists() {
        let raw = b64
            .decode(read(&path)?.trim())
            .map_err(|_| StartupError::Config(format!("{} is not base64", path.display())))?;
        return RefreshSecret::from_bytes(&raw)
            .ok_or_else(|| StartupError::Config(format!("{} is too short", path.display())));
    }
    let secret = RefreshSecret::generate();
    write_secret(&path, b64.encode(secret.expose()).as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new refresh-token secret");
    Ok(secret)
}
