//! Login history: one row per login attempt on a known account.

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;

/// One login attempt of a known account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LoginEvent {
    /// The account.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub user_id: Uuid,
    /// When.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub at: OffsetDateTime,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Whether the password was right and the login went through.
    pub success: bool,
}

capability! {
    /// Storage of login attempts.
    pub trait LoginHistoryStore {
        /// Appends a login attempt to the user's history. Unknown users are ignored.
        async fn record_login(&self, event: LoginEvent) -> Result<(), StoreError>;

        /// The user's login attempts strictly before `before` (when given), newest first.
        async fn login_history(&self, user_id: Uuid, limit: u32, before: Option<OffsetDateTime>) -> Result<Vec<LoginEvent>, StoreError>;
    }
    mock history: MockLoginHistoryStore;
}
