-- allowPartialManifests: the page of the manifest a done file was put in, once and for ever
-- (null: not yet in a page). A page is never changed after it is cut.
alter table export_file add column page integer;
create index export_file_page on export_file (job_id, page);
