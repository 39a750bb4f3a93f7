//! Passkeys (WebAuthn credentials) and the single-use state of their ceremonies.
//!
//! The store keeps a credential as opaque bytes: the service writes it in a versioned
//! form (`PASSKEY_FORMAT`, feature `passkeys`), so a store needs no WebAuthn
//! library and the rows outlive library upgrades.

use time::OffsetDateTime;
use uuid::Uuid;

use super::AuditEvent;
use crate::error::StoreError;

/// A registered passkey.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StoredPasskey {
    /// Our id of the passkey (the one routes name).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The authenticator's credential id; unique across all users.
    pub credential_id: Vec<u8>,
    /// A name the user chose ("laptop", "phone").
    pub name: String,
    /// The credential as the service wrote it (public key and settings, versioned).
    pub credential: Vec<u8>,
    /// The authenticator's signature counter as last accepted (0: it keeps none).
    pub counter: u32,
    /// Whether the credential may be synced to other devices.
    pub backup_eligible: bool,
    /// Whether it was backed up (synced) at its last use.
    pub backup_state: bool,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// The last sign-in with it, if any.
    pub last_used_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("counter", &self.counter)
            .field("backup_eligible", &self.backup_eligible)
            .field("backup_state", &self.backup_state)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// A sign-in with a passkey, as the service checked it, for
/// [`PasskeyStore::use_passkey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    /// The credential used.
    pub credential_id: Vec<u8>,
    /// Its owner, as the assertion named it.
    pub user_id: Uuid,
    /// The counter the assertion carried.
    pub counter: u32,
    /// The backup state the assertion carried.
    pub backup_state: bool,
    /// The credential to keep from now on, when the use changed it.
    pub credential: Option<Vec<u8>>,
    /// When.
    pub at: OffsetDateTime,
}

/// What a ceremony's state is for; a state is only taken back by its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum CeremonyKind {
    /// Registering a passkey for a signed-in user.
    Registration,
    /// Signing in with a discoverable passkey, no login typed.
    Passwordless,
    /// A passkey as the second factor of a login whose password was right.
    SecondFactor,
}

impl CeremonyKind {
    /// The name stores keep.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::Passwordless => "passwordless",
            CeremonyKind::SecondFactor => "second_factor",
        }
    }
}

/// The server-side state of a started ceremony.
#[derive(Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// Its id, handed to the client with the options.
    pub id: Uuid,
    /// What it is for.
    pub kind: CeremonyKind,
    /// The user it is for (none for a passwordless sign-in).
    pub user_id: Option<Uuid>,
    /// The WebAuthn library's state (the challenge), as the service wrote it.
    pub state: Vec<u8>,
    /// After this, it is gone.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for Ceremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceremony")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

capability! {
    /// Storage of passkeys and of their ceremonies. Every method is atomic. A deleted
    /// user's passkeys and ceremonies go with the user.
    pub trait PasskeyStore {
        /// Stores a new passkey and, like every new factor, revokes every live session
        /// of its user but `keep_session`: `false` (nothing changed) if its credential
        /// id is already registered, to anyone. Errors: [`StoreError::NotFound`] if the
        /// user does not exist.
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn add_passkey(&self, passkey: StoredPasskey, keep_session: Option<Uuid>, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// The user's passkeys, oldest first.
        async fn passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>, StoreError>;

        /// The passkey with this credential id, whoever owns it.
        async fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<StoredPasskey>, StoreError>;

        /// Records a sign-in (compare-and-set on the counter): if the credential
        /// belongs to `use_.user_id` and the counter went up (or both the stored and the
        /// new counter are 0, for authenticators that keep none), the counter, backup
        /// state, last use and (when given) credential are updated and the answer is
        /// `true`. Otherwise nothing changes: `false`. Of concurrent uses with one
        /// counter value above 0, exactly one gets `true`.
        async fn use_passkey(&self, use_: PasskeyUse) -> Result<bool, StoreError>;

        /// Renames one of the user's passkeys; `false` if the user has no passkey `id`.
        async fn rename_passkey(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<bool, StoreError>;

        /// Deletes one of the user's passkeys and revokes every live session of the
        /// user but `keep_session` (one opened with a lost device among them); `false`
        /// (nothing changed) if the user has no passkey `id`.
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn delete_passkey(&self, user_id: Uuid, id: Uuid, keep_session: Option<Uuid>, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// Keeps a ceremony's state until it is taken or expires; expired ceremonies of
        /// anyone may be dropped on the way. Errors: [`StoreError::NotFound`] if its
        /// user does not exist.
        async fn put_ceremony(&self, ceremony: Ceremony, now: OffsetDateTime) -> Result<(), StoreError>;

        /// Takes the ceremony `id` of `kind` if it is unexpired at `now`: it is gone
        /// afterwards, whatever the caller does with it. Of concurrent takes of one
        /// ceremony, exactly one gets it.
        async fn take_ceremony(&self, id: Uuid, kind: CeremonyKind, now: OffsetDateTime) -> Result<Option<Ceremony>, StoreError>;
    }
    mock passkeys: MockPasskeyStore;
}
