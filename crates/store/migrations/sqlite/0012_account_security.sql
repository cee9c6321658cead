-- Accounts that hold against an attacker (issue 9).

-- API tokens get a public id (to list and revoke one by one) and the time they were last used.
CREATE TABLE api_token_new (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES app_user(id),
    label        TEXT    NOT NULL,
    created_us   BIGINT  NOT NULL,
    expires_us   BIGINT  NOT NULL,
    last_used_us BIGINT
);
INSERT INTO api_token_new (token_hash, user_id, label, created_us, expires_us)
    SELECT token_hash, user_id, label, created_us, expires_us FROM api_token ORDER BY created_us;
DROP TABLE api_token;
ALTER TABLE api_token_new RENAME TO api_token;
CREATE INDEX api_token_by_user ON api_token(user_id);

-- Second-factor recovery codes: shown once, stored as SM3 hashes, each used once.
CREATE TABLE recovery_code (
    user_id      BIGINT  NOT NULL REFERENCES app_user(id),
    code_hash    TEXT    NOT NULL,
    created_us   BIGINT  NOT NULL,
    used_us      BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Failed sign-ins per (name typed, client address): a lock applies to that pair only, so that
-- nobody can lock someone else out, and it applies the same to names that do not exist.
CREATE TABLE login_throttle (
    username        TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    failures        INTEGER NOT NULL,
    locked_until_us BIGINT,
    updated_us      BIGINT  NOT NULL,
    PRIMARY KEY (username, address)
);
