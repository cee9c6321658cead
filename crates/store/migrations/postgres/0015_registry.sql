-- The public register (issue 10): found by USCC, newest first, filtered by issue year.
CREATE INDEX certificate_by_uscc ON certificate(uscc);
CREATE INDEX certificate_by_issue ON certificate(issued_on, id);
