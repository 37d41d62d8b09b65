-- Import jobs expire like export jobs: a job that ended is removed with its parts, counts and
-- error files (the cascades of V10) once expires_at has passed: --export-retention after it
-- completed or failed, one lease after it was cancelled. Jobs that ended before this migration
-- get the default retention (one day) from their end.
alter table import_job add column expires_at timestamptz;
update import_job set expires_at = finished_at + interval '1 day' where finished_at is not null;
create index import_job_expiry on import_job (expires_at) where expires_at is not null;
