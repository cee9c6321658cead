-- Signed certificate documents (issue 10, guide 5.5).

-- The PDF of each certificate (in the evidence store, by SHA-256), the SM3 the signed record
-- holds, the record itself and the SM2 signature over it, and the key that made it.
CREATE TABLE certificate_seal (
    certificate_id  BIGINT  PRIMARY KEY REFERENCES certificate(id),
    pdf_sha256      TEXT    NOT NULL,
    pdf_sm3         TEXT    NOT NULL,
    record          TEXT    NOT NULL,
    signature       TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    sealed_us       BIGINT  NOT NULL
);

-- Every signing key's public half: old keys keep verifying after a rotation.
CREATE TABLE signing_key (
    id          TEXT    PRIMARY KEY,
    public_pem  TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL
);
