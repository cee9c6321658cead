-- Single sign-on for centre staff through OpenID Connect (issue 9).

-- How a user signs in: 'password' (with the second factor) or 'oidc' (the centre's identity
-- provider; no local password).
ALTER TABLE app_user ADD COLUMN sign_in TEXT NOT NULL DEFAULT 'password';

-- Which identity at which provider is which user.
CREATE TABLE oidc_identity (
    issuer      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL UNIQUE REFERENCES app_user(id),
    created_us  BIGINT  NOT NULL,
    PRIMARY KEY (issuer, subject)
);
