-- Applicant self-registration (issue 13). An organisation that registers itself waits for an
-- administrator's approval before it can apply: registration is 'pending', 'approved' or
-- 'rejected' (with the administrator's reason in registration_note). Organisations the centre
-- registered itself are approved.
ALTER TABLE organization ADD COLUMN registration TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE organization ADD COLUMN registration_note TEXT NOT NULL DEFAULT '';

-- Whether the account's e-mail address was confirmed through a link sent to it. Accounts the
-- centre opened count as confirmed; a self-registered account signs in only once confirmed.
ALTER TABLE app_user ADD COLUMN email_confirmed INTEGER NOT NULL DEFAULT 1;

-- E-mail confirmation links: single use, only the SM3 hash of the token stored (as for
-- password_reset, kept apart so that one kind of link can never serve as the other).
CREATE TABLE email_confirmation (
    token_sm3   TEXT    PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES app_user(id),
    created_us  BIGINT  NOT NULL,
    expires_us  BIGINT  NOT NULL,
    used_us     BIGINT
);
CREATE INDEX email_confirmation_user ON email_confirmation (user_id);
CREATE INDEX organization_registration ON organization (registration) WHERE registration <> 'approved';
