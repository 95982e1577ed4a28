-- Each assigned row's cluster and every audio feature as DOUBLE, for the profiles of one run.
-- {casts} is built from features.AUDIO_FEATURES, {source} from features.ROW_RULES.
CREATE OR REPLACE TEMP TABLE profile_rows AS
SELECT a.cluster, {casts}
FROM assignments AS a JOIN {source} AS s USING (row_number)
WHERE a.run_id = $run_id
