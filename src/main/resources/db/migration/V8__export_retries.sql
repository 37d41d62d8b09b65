-- Exports ride out outages of their output store: planning and parts are retried with backoff
-- (docs/export.md, "When the store is unreachable").

-- failed planning attempts of a queued job; lease_until holds it back until its next attempt
alter table export_job add column plan_attempts integer not null default 0;
-- the stable message code (SLUICE-nnnn, fhir.MessageCode) of error_text
alter table export_job add column error_code text;
-- attempts of a part that found the store unreachable; they do not count against the
-- attempts an ordinary error has. A pending part with lease_until in the future waits for it.
alter table export_part add column outages integer not null default 0;
