//! A software WebAuthn authenticator for tests (features `testkit` and `passkeys`):
//! P-256 keys, "none" attestation, discoverable credentials with their user handle,
//! and a signature counter. It answers the options [`Passkeys`](crate::Passkeys)
//! hands out with the JSON a browser would send back.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// One credential the authenticator holds.
struct Credential {
    id: Vec<u8>,
    rp_id: String,
    key: EcdsaKeyPair,
    user_handle: Vec<u8>,
    counter: u32,
}

/// A software authenticator; see the module documentation.
pub struct SoftAuthenticator {
    /// The origin its client (the "browser") reports in `clientDataJSON`.
    pub origin: String,
    /// When set, the RP id it hashes into its answers instead of the one the options
    /// name (to test a wrong RP id).
    pub rp_id_override: Option<String>,
    /// Whether its credentials are synced passkeys (backup eligible and backed up).
    pub synced: bool,
    /// Whether it keeps a signature counter (else it always reports 0, as synced
    /// platform passkeys do).
    pub counts: bool,
    credentials: Vec<Credential>,
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftAuthenticator")
            .field("origin", &self.origin)
            .field("credentials", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

fn cbor_head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn cbor_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        cbor_head(0, i as u64, out);
    } else {
        cbor_head(1, (-1 - i) as u64, out);
    }
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len() as u64, out);
    out.extend_from_slice(b);
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn b64_field(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("a base64url member"))
        .expect("base64url")
}

impl SoftAuthenticator {
    /// An empty authenticator whose client runs at `origin`; device-bound, counting.
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            rp_id_override: None,
            synced: false,
            counts: true,
            credentials: Vec::new(),
        }
    }

    fn flags(&self, extra: u8) -> u8 {
        UP | UV | extra | if self.synced { BE | BS } else { 0 }
    }

    fn client_data(&self, kind: &str, challenge: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn rp_hash(&self, rp_id: &str) -> Vec<u8> {
        let rp = self.rp_id_override.as_deref().unwrap_or(rp_id);
        digest(&SHA256, rp.as_bytes()).as_ref().to_vec()
    }

    /// Answers `navigator.credentials.create()` options (`{"publicKey": ...}`): a
    /// new discoverable credential for the user they name.
    ///
    /// # Panics
    /// If `options` are not WebAuthn creation options (no `rp.id`, a user id or
    /// challenge that is not base64url): a test helper reports a broken server loudly.
    pub fn register(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_owned();
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let mut id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut id).expect("random");
        let point = key.public_key().as_ref().to_vec();
        let mut cose = Vec::new();
        cbor_head(5, 5, &mut cose);
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(k, &mut cose);
            cbor_int(v, &mut cose);
        }
        cbor_int(-2, &mut cose);
        cbor_bytes(&point[1..33], &mut cose);
        cbor_int(-3, &mut cose);
        cbor_bytes(&point[33..65], &mut cose);
        let mut auth_data = self.rp_hash(&rp_id);
        auth_data.push(self.flags(AT));
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((id.len() as u16).to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose);
        let mut attestation = Vec::new();
        cbor_head(5, 3, &mut attestation);
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        cbor_head(5, 0, &mut attestation);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        let client_data = self.client_data("webauthn.create", &pk["challenge"]);
        self.credentials.push(Credential {
            id: id.clone(),
            rp_id,
            key,
            user_handle: b64_field(&pk["user"]["id"]),
            counter: 0,
        });
        json!({
            "id": B64.encode(&id),
            "rawId": B64.encode(&id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(attestation),
                "clientDataJSON": B64.encode(client_data),
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get()` options with the newest credential for
    /// their RP id (among those they allow, if they list any), as a browser would
    /// after the user picked it; `None` if it holds none.
    ///
    /// # Panics
    /// If `options` are not WebAuthn request options (no `rpId`, a challenge that is
    /// not base64url).
    pub fn sign_in(&mut self, options: &Value) -> Option<Value> {
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().expect("rpId").to_owned();
        let allowed: Vec<Vec<u8>> = pk["allowCredentials"]
            .as_array()
            .map(|a| a.iter().map(|c| b64_field(&c["id"])).collect())
            .unwrap_or_default();
        let client_data = self.client_data("webauthn.get", &pk["challenge"]);
        let rp_hash = self.rp_hash(&rp_id);
        let flags = self.flags(0);
        let counts = self.counts;
        let cred = self
            .credentials
            .iter_mut()
            .rev()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))?;
        if counts {
            cred.counter += 1;
        }
        let mut auth_data = rp_hash;
        auth_data.push(flags);
        auth_data.extend(cred.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let signature = cred
            .key
            .sign(&SystemRandom::new(), &signed)
            .expect("a signature");
        Some(json!({
            "id": B64.encode(&cred.id),
            "rawId": B64.encode(&cred.id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.as_ref()),
                "userHandle": B64.encode(&cred.user_handle),
            },
            "extensions": {},
        }))
    }

    /// Sets the signature counter of every credential (a clone of the authenticator
    /// that fell behind, say).
    pub fn set_counter(&mut self, counter: u32) {
        for c in &mut self.credentials {
            c.counter = counter;
        }
    }

    /// Forgets every credential but keeps the settings.
    pub fn forget(&mut self) {
        self.credentials.clear();
    }
}
