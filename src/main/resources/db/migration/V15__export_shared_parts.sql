-- A resources part may cover several small types (a Group's few rows of each), so that the
-- fixed cost of a part (claim, session, files, lease, finish) is paid once for all of them:
-- res_types lists them, in the order they are written, and res_type is then null.
alter table export_part add column res_types text[];
