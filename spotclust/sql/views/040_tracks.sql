-- tracks: one clean row per track_id, its first valid listing in file order (grain: one row per track)
-- A track listed under several genres has identical audio features in every listing (only
-- popularity can differ); we keep the first listing's values and count its genres.
CREATE OR REPLACE VIEW tracks AS
WITH listings AS (
    SELECT * FROM valid_rows
),

ranked AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY track_id) AS genre_count
    FROM listings
    QUALIFY row_number() OVER (PARTITION BY track_id ORDER BY row_number) = 1
),

final AS (
    SELECT * FROM ranked
)

SELECT * FROM final
