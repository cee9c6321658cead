-- Complaints (投诉, guide 七, issue 11).
-- Each certified organisation's own complaint register (投诉记录): received (date, source,
-- content), how it was handled, the measures against recurrence, closed. Closed entries are
-- never changed.
CREATE TABLE complaint_record (
    id               INTEGER PRIMARY KEY,
    organization_id  BIGINT  NOT NULL REFERENCES organization(id),
    received_on      TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    content          TEXT    NOT NULL,
    handling         TEXT    NOT NULL DEFAULT '',
    prevention       TEXT    NOT NULL DEFAULT '',
    closed_on        TEXT,
    recorded_by      BIGINT  NOT NULL REFERENCES app_user(id),
    created_us       BIGINT  NOT NULL
);
CREATE INDEX complaint_record_by_organization ON complaint_record(organization_id, id);

-- The supervision department's inspections of an organisation's register ("when necessary"),
-- each with its reason; the organisation sees them.
CREATE TABLE complaint_inspection (
    id               INTEGER PRIMARY KEY,
    organization_id  BIGINT  NOT NULL REFERENCES organization(id),
    inspected_by     BIGINT  NOT NULL REFERENCES app_user(id),
    reason           TEXT    NOT NULL,
    inspected_on     TEXT    NOT NULL,
    created_us       BIGINT  NOT NULL
);
CREATE INDEX complaint_inspection_by_organization ON complaint_inspection(organization_id, id);

-- A third party's complaint about a holder, lodged with the centre through the public form; the
-- supervision department handles it. The client address is kept for the rate limit.
CREATE TABLE public_complaint (
    id               INTEGER PRIMARY KEY,
    certificate_id   BIGINT  NOT NULL REFERENCES certificate(id),
    complainant      TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    phone            TEXT    NOT NULL DEFAULT '',
    content          TEXT    NOT NULL,
    received_on      TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    handled_by       BIGINT  REFERENCES app_user(id),
    finding          TEXT    NOT NULL DEFAULT '',
    founded          BOOLEAN,
    closed_on        TEXT,
    created_us       BIGINT  NOT NULL
);
CREATE INDEX public_complaint_by_state ON public_complaint(state, id);
CREATE INDEX public_complaint_by_certificate ON public_complaint(certificate_id, id);
CREATE INDEX public_complaint_by_address ON public_complaint(address, created_us);
