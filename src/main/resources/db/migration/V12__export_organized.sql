-- organizeOutputBy=Patient (Bulk Data STU3): a part of kind 'patient-blocks' writes the blocks
-- of the patients whose ids are in (patient_after, patient_to] (null: unbounded), in the
-- database's order of patient_id.
alter table export_part add column patient_after text, add column patient_to text;

-- A file whose last block goes on in the next file of its part: that file's seq (the
-- manifest's continuesInFile).
alter table export_file add column continues_seq integer;

-- The patients whose compartments held a version replaced after transactionTime, judged from
-- its content by a patient-blocks part. Written and read inside the part's repeatable-read
-- transaction, which is always rolled back: no row of it is ever committed.
create table export_block_owner (
  job_id     uuid    not null,
  part_no    integer not null,
  res_pk     bigint  not null,
  version    integer not null,
  res_type   text    not null,
  patient_id text    not null
);
create index export_block_owner_part on export_block_owner (job_id, part_no);
