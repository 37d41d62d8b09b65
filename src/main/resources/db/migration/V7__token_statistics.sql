-- The planner takes key, code and system of idx_token as independent, but a code says which
-- key and system it goes with: Observation?code=http://loinc.org|8302-2 (9,000 of 146,000
-- Observations in medium x10) was expected to match 151 rows, which made PostgreSQL join every
-- match before taking the first page (150 ms against 10-30 ms). Statistics of the three
-- together give the right count; ANALYZE (autovacuum, PostLoadAnalyzer) keeps them.
create statistics idx_token_value_stats (mcv, dependencies) on key, code, system from idx_token;
