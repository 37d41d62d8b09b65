-- The input's size in bytes when the store tells it at kick-off (a local file), or null. Parts
-- are claimed largest first: with the largest last, the job ends with one part running alone on
-- one core while the others idle (bench/README.md, "Import").
alter table import_part add column size_bytes bigint;
