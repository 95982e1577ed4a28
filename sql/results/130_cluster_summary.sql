-- cluster_summary: per run and cluster its size, share, top genres and the features that set it apart (grain: run x cluster)
-- materialized: view
-- unique: run_id, cluster
-- Distinctive features are those whose member mean, in standard deviations from the mean of
-- all rows the run used, is furthest from 0 (the three largest |z| among the run's features).
-- Only runs that runs holds (every other part is joined to sizes): the rows of a run deleted
-- by hand are not shown.
WITH sizes AS (
    SELECT run_id, cluster, count(*) AS size
    FROM assignments
    WHERE run_id IN (SELECT run_id FROM runs)
    GROUP BY ALL
),

top_genres AS (
    SELECT run_id, cluster, list(genre ORDER BY rank_in_cluster) AS top_genres
    FROM genre_breakdown
    WHERE rank_in_cluster <= 3
    GROUP BY ALL
),

ranked_features AS (
    SELECT
        run_id,
        cluster,
        dimension AS feature,
        value AS z,
        row_number() OVER (PARTITION BY run_id, cluster ORDER BY abs(value) DESC, dimension) AS rank
    FROM centroids
    WHERE space = 'scaled'
),

distinctive AS (
    SELECT
        run_id,
        cluster,
        string_agg(
            feature || ' ' || CASE WHEN z >= 0 THEN '+' ELSE '' END || printf('%.2f', z),
            ', ' ORDER BY rank
        ) AS distinctive_features
    FROM ranked_features
    WHERE rank <= 3
    GROUP BY ALL
),

final AS (
    SELECT
        s.run_id,
        s.cluster,
        s.size,
        s.size / sum(s.size) OVER (PARTITION BY s.run_id) AS share,
        l.label,
        g.top_genres,
        d.distinctive_features
    FROM sizes AS s
    LEFT JOIN top_genres AS g USING (run_id, cluster)
    LEFT JOIN distinctive AS d USING (run_id, cluster)
    LEFT JOIN cluster_labels AS l USING (run_id, cluster)
)

SELECT * FROM final
ORDER BY run_id, cluster
