-- Scheduled work (issue 11): one lease row per job, so that with several servers on one
-- database each run of a job happens once (the runner that wins the lease runs it).
CREATE TABLE job_lease (
    name      TEXT    PRIMARY KEY,
    holder    TEXT    NOT NULL,
    until_us  BIGINT  NOT NULL
);
