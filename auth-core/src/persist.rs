//! Keeping generated secrets across restarts: load the signing key or the refresh
//! secret from a file, or generate one and write it there (readable by its owner only
//! on Unix), with one call. Restarts then log no one out.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::refresh::RefreshSecret;
use crate::token::{Key, KeyError};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a new file readable by its owner only; never overwrites one.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    std::io::Write::write_all(&mut file, contents).map_err(io(path))
}

impl Key {
    /// The Ed25519 signing key in the PKCS#8 PEM file at `path`, or a new one written
    /// there if the file does not exist. The flag says whether it was generated.
    ///
    /// Errors: [`KeyError::Io`] reading or writing the file, [`KeyError::Invalid`] for
    /// a file that is not an Ed25519 private key.
    pub fn load_or_generate_ed25519(path: &Path) -> Result<(Key, bool), KeyError> {
        if path.exists() {
            let pem = std::fs::read_to_string(path).map_err(io(path))?;
            return Ok((Key::ed25519_from_pem(&pem)?, false));
        }
        let key = Key::generate_ed25519()?;
        let pem = key.to_pkcs8_pem().ok_or(KeyError::Generation)?;
        write_private(path, pem.as_bytes())?;
        Ok((key, true))
    }
}

impl RefreshSecret {
    /// The secret in the file at `path` (base64 text), or a new one written there if
    /// the file does not exist. The flag says whether it was generated.
    ///
    /// Errors: [`KeyError::Io`] reading or writing the file, [`KeyError::Invalid`] for
    /// a file that is not base64 or holds fewer than 32 bytes.
    pub fn load_or_generate(path: &Path) -> Result<(RefreshSecret, bool), KeyError> {
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            let raw = STANDARD
                .decode(text.trim())
                .map_err(|_| KeyError::Invalid("refresh secret file: not base64"))?;
            let secret = RefreshSecret::from_bytes(&raw).ok_or(KeyError::Invalid(
                "refresh secret file: fewer than 32 bytes",
            ))?;
            return Ok((secret, false));
        }
        let secret = RefreshSecret::generate();
        write_private(path, STANDARD.encode(secret.expose()).as_bytes())?;
        Ok((secret, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_kept_and_loaded_again() {
        let dir = std::env::temp_dir().join(format!("persist-{}", uuid::Uuid::new_v4().simple()));
        let key_path = dir.join("keys/signing-key.pem");
        let (key, generated) = Key::load_or_generate_ed25519(&key_path).unwrap();
        assert!(generated);
        let (again, generated) = Key::load_or_generate_ed25519(&key_path).unwrap();
        assert!(!generated);
        assert_eq!(again.kid(), key.kid());
        let secret_path = dir.join("refresh-secret");
        let (secret, _) = RefreshSecret::load_or_generate(&secret_path).unwrap();
        let (loaded, generated) = RefreshSecret::load_or_generate(&secret_path).unwrap();
        assert!(!generated);
        assert_eq!(loaded.expose(), secret.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join("bad"), "not base64!").unwrap();
        assert!(matches!(
            RefreshSecret::load_or_generate(&dir.join("bad")),
            Err(KeyError::Invalid(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
