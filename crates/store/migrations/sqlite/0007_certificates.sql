-- Certification (发证, 5.5): batches approved by someone other than their maker, certificates,
-- and serial counters for certificate numbers.
CREATE TABLE certificate_batch (
    id           INTEGER PRIMARY KEY,
    status       TEXT   NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES app_user(id),
    approved_by  BIGINT REFERENCES app_user(id),
    created_us   BIGINT NOT NULL
);
ALTER TABLE application_case ADD COLUMN batch_id BIGINT;

CREATE TABLE certificate (
    id               INTEGER PRIMARY KEY,
    number           TEXT    NOT NULL UNIQUE,
    case_id          BIGINT  NOT NULL REFERENCES application_case(id),
    organization_id  BIGINT  NOT NULL REFERENCES organization(id),
    holder           TEXT    NOT NULL,
    uscc             TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    level            INTEGER NOT NULL,
    issued_on        TEXT    NOT NULL,
    valid_until      TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    created_us       BIGINT  NOT NULL
);

CREATE TABLE counter (
    name   TEXT   PRIMARY KEY,
    value  BIGINT NOT NULL
);
