-- Formal letters of a case (issue 10): each a PDF kept in the evidence store by its hashes,
-- immutable once made (a correction is a new letter).
CREATE TABLE case_letter (
    id          INTEGER PRIMARY KEY,
    case_id     BIGINT  NOT NULL REFERENCES application_case(id),
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    pdf_sha256  TEXT    NOT NULL,
    pdf_sm3     TEXT    NOT NULL,
    signed_by   TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL
);
CREATE INDEX case_letter_by_case ON case_letter(case_id, id);
