-- De-identified export: the configuration validated at kick-off, kept with the job so that
-- any process, after any restart, applies exactly those bytes (the store's file may change).
alter table export_job add column anonymization_config bytea;
