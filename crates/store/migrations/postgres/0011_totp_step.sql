-- The last second-factor time step used by each user: a code is accepted once (issue 9).
ALTER TABLE app_user ADD COLUMN totp_last_step BIGINT;
