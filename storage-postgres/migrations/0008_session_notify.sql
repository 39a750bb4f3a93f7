-- Instances that cache session statuses (src/cache.rs) drop a user's entries when
-- told: every change to what `session_status` reads notifies, in the same
-- transaction, the channel `storage_postgres_session_status` (src/listener.rs) with
-- the user's id. A notice is delivered at commit and never for a rollback; Postgres
-- folds identical notices of one transaction into one.
-- Rotations (counter, last_refreshed_at) do not notify: they are the refresh hot path,
-- and a cached `last_refreshed_at` is only ever older than the row's.
-- The trigger's argument names the column that holds the user's id.
CREATE FUNCTION session_status_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('storage_postgres_session_status',
        to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END) ->> TG_ARGV[0]);
    RETURN NULL;
END
$$;

-- Block, unblock, password, profile, verification; deletion (sessions cascade).
CREATE TRIGGER users_session_status_changed AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW)
    EXECUTE FUNCTION session_status_notify('id');
CREATE TRIGGER users_session_status_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION session_status_notify('id');
-- Roles granted and removed, also by deleting a role (cascade).
CREATE TRIGGER user_roles_session_status AFTER INSERT OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION session_status_notify('user_id');
-- Revocations: logout, reuse detection, the session cap, blocks, resets.
CREATE TRIGGER sessions_session_status_revoked AFTER UPDATE OF revoked ON sessions
    FOR EACH ROW WHEN (NEW.revoked AND NOT OLD.revoked)
    EXECUTE FUNCTION session_status_notify('user_id');
