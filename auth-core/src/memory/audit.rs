//! [`AuditStore`] of the [`MemoryStore`]: the audit log.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{MemoryStore, State};
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn record_audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.lock().audit.push(event);
        Ok(())
    }

    async fn audit_events(&self, query: AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let st = self.lock();
        let cursor = match query.before {
            Some(id) => match st.audit.iter().find(|e| e.id == id) {
                Some(e) => Some((e.at, e.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut out: Vec<AuditEvent> = st
            .audit
            .iter()
            .filter(|e| query.matches(e) && cursor.is_none_or(|c| (e.at, e.id) < c))
            .cloned()
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        out.truncate(query.limit as usize);
        Ok(out)
    }

    async fn purge_audit(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let was = st.audit.len();
        st.audit.retain(|e| e.at >= before);
        Ok((was - st.audit.len()) as u64)
    }
}

impl State {
    /// Records `event`, if given, under the lock of the change it records.
    pub(crate) fn audit(&mut self, event: Option<AuditEvent>) {
        self.audit.extend(event);
    }
}
