-- What the centre received (issue 13): the stamped, bound paper copy (5.2) with the day it
-- arrived and the courier's tracking number, and each payment of the evaluation fee (5.3)
-- with its amount, day and voucher number, against the fee the agreement set.
CREATE TABLE paper_copy (
    case_id      INTEGER PRIMARY KEY REFERENCES application_case(id),
    received_on  TEXT    NOT NULL,
    tracking_no  TEXT    NOT NULL,
    recorded_by  INTEGER NOT NULL REFERENCES app_user(id),
    recorded_us  BIGINT  NOT NULL
);
CREATE TABLE payment (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES application_case(id),
    amount_fen   BIGINT  NOT NULL CHECK (amount_fen > 0),
    expected_fen BIGINT,
    paid_on      TEXT    NOT NULL,
    voucher_no   TEXT    NOT NULL,
    recorded_by  INTEGER NOT NULL REFERENCES app_user(id),
    recorded_us  BIGINT  NOT NULL
);
CREATE INDEX payment_case ON payment (case_id, id);
