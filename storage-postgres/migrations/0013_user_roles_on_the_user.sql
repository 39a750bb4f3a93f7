-- A copy of each user's role names on the user's row, so the reads of every request
-- (`session_status`, the refresh rotation) take them from the row they already read
-- instead of a subquery of `user_roles` per call. `user_roles` stays the record (its
-- foreign keys drop grants with their role or user); the trigger below keeps the copy
-- in the same transaction as the grant or removal. The copy is unordered: the store
-- sorts on reading.
ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{}';
-- Filling the copy changes no user's roles: no cache needs telling.
ALTER TABLE users DISABLE TRIGGER users_session_status_changed;
UPDATE users u SET roles = ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id)
    WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id);
ALTER TABLE users ENABLE TRIGGER users_session_status_changed;

-- Each change is applied to the row's current copy (remove, then append): concurrent
-- grants and removals for one user queue on the user's row lock, and the one that
-- waited applies its change to the copy the other committed, so none is lost. A grant
-- removed by deleting its user updates nothing (the row is gone). Statements name the
-- schema of the table, whatever the session's search_path.
CREATE FUNCTION user_roles_copy() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('UPDATE %I.users SET roles = array_append(array_remove(roles, $2), $2) '
                       'WHERE id = $1', TG_TABLE_SCHEMA) USING NEW.user_id, NEW.role;
    ELSE
        EXECUTE format('UPDATE %I.users SET roles = array_remove(roles, $2) WHERE id = $1',
                       TG_TABLE_SCHEMA) USING OLD.user_id, OLD.role;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER user_roles_copy AFTER INSERT OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION user_roles_copy();
