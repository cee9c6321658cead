-- 忘记密码 (issue 13): single-use reset links, valid 30 minutes. Only the SM3 hash of the
-- link's token is stored, so a copy of the database cannot reset anyone's password.
CREATE TABLE password_reset (
    token_sm3   TEXT    PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES app_user(id),
    created_us  BIGINT  NOT NULL,
    expires_us  BIGINT  NOT NULL,
    used_us     BIGINT
);
CREATE INDEX password_reset_user ON password_reset (user_id);
