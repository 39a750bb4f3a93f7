-- Which logins may be registered is auth-core's LoginPolicy, configurable; the
-- database no longer repeats the default rule (it refused `john.doe`). Uniqueness
-- ignoring case stays (users_login_key).
ALTER TABLE users DROP CONSTRAINT users_login_check;
ALTER TABLE users ADD CONSTRAINT users_login_not_empty CHECK (login <> '');
