-- Evidence: one row per upload; the bytes live once per content hash in the evidence store.
CREATE TABLE evidence (
    id               INTEGER PRIMARY KEY,
    organization_id  BIGINT  NOT NULL REFERENCES organization(id),
    sha256           TEXT    NOT NULL,
    sm3              TEXT    NOT NULL,
    size             BIGINT  NOT NULL,
    media_type       TEXT    NOT NULL,
    original_name    TEXT    NOT NULL,
    uploaded_by      BIGINT  NOT NULL REFERENCES app_user(id),
    uploaded_us      BIGINT  NOT NULL
);
CREATE INDEX evidence_by_organization ON evidence(organization_id);
CREATE INDEX evidence_by_sha256 ON evidence(sha256);
