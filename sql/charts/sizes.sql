-- Each cluster of run $run_id: its tracks, share and distinctive features, as
-- cluster_summary has them (the three features whose scaled centroid, in standard
-- deviations from the mean of all the run's rows, is furthest from 0), without reading its
-- genres: the sizes chart takes the top genres from the genres query (charts/data.py).
WITH sizes AS (
    SELECT cluster, count(*) AS tracks FROM assignments WHERE run_id = $run_id GROUP BY cluster
),
ranked_features AS (
    SELECT
        cluster,
        dimension AS feature,
        value AS z,
        row_number() OVER (PARTITION BY cluster ORDER BY abs(value) DESC, dimension) AS rank
    FROM centroids
    WHERE run_id = $run_id AND space = 'scaled'
),
distinctive AS (
    SELECT
        cluster,
        string_agg(
            feature || ' ' || CASE WHEN z >= 0 THEN '+' ELSE '' END || printf('%.2f', z),
            ', ' ORDER BY rank
        ) AS distinctive_features
    FROM ranked_features
    WHERE rank <= 3
    GROUP BY cluster
)
SELECT s.cluster, s.tracks, s.tracks / sum(s.tracks) OVER () AS share, d.distinctive_features
FROM sizes AS s LEFT JOIN distinctive AS d USING (cluster)
ORDER BY s.cluster
