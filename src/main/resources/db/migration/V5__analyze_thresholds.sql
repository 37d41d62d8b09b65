-- Statistics that follow bulk loads (issue #3). By default autovacuum analyzes a table once
-- 50 rows + 10% of it changed since its last ANALYZE: a load that adds less than a tenth to a
-- big table leaves the planner with statistics that do not know the new rows. ANALYZE reads a
-- sample of fixed size (30,000 rows at the default statistics target) whatever the table's
-- size, so analyzing after 2% costs little more. The threshold of 1,000 rows keeps small
-- tables from being analyzed every few dozen writes. Vacuum thresholds stay as they are:
-- vacuuming competes with loads for CPU and I/O. Right after a load the server analyzes
-- itself (dev.sluice.store.PostLoadAnalyzer, same thresholds): autovacuum looks only every
-- autovacuum_naptime (a minute by default).
alter table resource set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table resource_version set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table compartment set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_token set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_string set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_date set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_number set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_quantity set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_reference set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
alter table idx_uri set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
