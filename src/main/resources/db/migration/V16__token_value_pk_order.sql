-- idx_token_value with res_pk as its last key column, not an included column: the rows of
-- one key, code and system are then in res_pk order, so that the first or next page of a
-- search by code (keyset paging in pk order) merges the code's first 51 entries with the
-- resources of the type and stops. With res_pk only included, PostgreSQL either read and
-- sorted every entry of the code (3 ms for the 9,700 Observations of medium x10's most
-- frequent code), or merged in pk order over idx_token_res (res_pk, key) filtered by key,
-- which walks every token row below the first match: 14 ms when the Observations come after
-- 146,000 other resources, as the loader writes them. The two plans were a few per cent
-- apart in estimated cost, so the second page took 3 or 15-21 ms from one load to the next;
-- both pages now take 0.4 ms. Same size, same writes.
drop index idx_token_value;
create index idx_token_value on idx_token (key, code, system, res_pk);
