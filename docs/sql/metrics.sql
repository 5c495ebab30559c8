-- rapport's monthly metrics (docs/counting.md, *Monthly metrics*) as one query over the activity
-- table that `rapport export --parquet DIR` writes (one row per classified activity, partitioned
-- platform=<p>/month=<YYYY-MM|undated>, the months in the export's --tz). It gives the rows and
-- columns of metrics.csv from `month` to `received`, in metrics.csv's order — every count
-- column, participation_ratio (4 decimals, ties away from zero, from the exact fraction),
-- people_engaged, people_reciprocated, received — for every platform, then `all`. Left out:
-- median_response_minutes (ordering messages with equal times takes each platform's own tie
-- rule) and the insight columns.
--
-- Runs unchanged on DuckDB and Spark SQL, over a table or view named `activities`:
--   DuckDB: CREATE VIEW activities AS
--             SELECT * FROM read_parquet('DIR/**/*.parquet', hive_partitioning = true);
--   Spark:  spark.read.parquet("DIR").createOrReplaceTempView("activities")
-- It uses only what both have: CASE, SUM, aggregate FILTER, array_agg, flatten,
-- array_distinct, array_intersect, cardinality, VALUES tables, UNION ALL, plain joins.

WITH
-- Counted activities: excluded acts (drafts, system senders, guide files) count nowhere.
counted AS (
  SELECT
    CAST(platform AS STRING) AS platform,
    CAST(month AS STRING) AS month,
    direction, kind, mode, participants, counterparts
  FROM activities
  WHERE excluded IS NULL AND (mode IS NULL OR mode <> 'excluded')
),
-- One row per platform and month that has activity.
per_month AS (
  SELECT
    platform,
    month,
    SUM(CASE WHEN direction = 'out' AND mode = 'broadcast' THEN 1 ELSE 0 END) AS broadcast,
    SUM(CASE WHEN direction = 'out' AND mode = 'self_thread' THEN 1 ELSE 0 END) AS self_thread,
    SUM(CASE WHEN direction = 'out' AND mode = 'amplification' THEN 1 ELSE 0 END) AS amplification,
    SUM(CASE WHEN direction = 'out' AND mode = 'conversation' THEN 1 ELSE 0 END) AS conversation,
    SUM(CASE WHEN direction = 'out' AND mode = 'conversation' AND kind = 'message'
              AND (participants IS NULL OR participants >= 2) THEN 1 ELSE 0 END) AS conversation_private,
    SUM(CASE WHEN direction = 'out' AND mode = 'passive' THEN 1 ELSE 0 END) AS passive,
    SUM(CASE WHEN direction = 'in' THEN 1 ELSE 0 END) AS received,
    -- Distinct counterparts of the owner's conversation acts, and of the senders of counted
    -- `in` acts (ids are per platform: the grouping keeps them apart).
    array_distinct(flatten(
      array_agg(counterparts) FILTER (WHERE direction = 'out' AND mode = 'conversation')
    )) AS engaged,
    array_distinct(flatten(
      array_agg(counterparts) FILTER (WHERE direction = 'in')
    )) AS senders
  FROM counted
  GROUP BY platform, month
),
-- cardinality() is a list's length in both dialects (a missing list counts 0).
people AS (
  SELECT
    platform, month, broadcast, self_thread, amplification, conversation,
    conversation_private, passive, received,
    CASE WHEN engaged IS NULL THEN 0 ELSE cardinality(engaged) END AS people_engaged,
    CASE WHEN engaged IS NULL OR senders IS NULL THEN 0
         ELSE cardinality(array_intersect(engaged, senders)) END AS people_reciprocated
  FROM per_month
),
-- Months as numbers (year * 12 + month - 1) to fill the gaps between a platform's first and
-- last dated month with zero rows.
dated AS (
  SELECT
    platform,
    CAST(substr(month, 1, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) - 1 AS m
  FROM people
  WHERE month <> 'undated'
),
spans AS (
  SELECT platform, MIN(m) AS first_m, MAX(m) AS last_m FROM dated GROUP BY platform
),
digits AS (
  SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t(d)
),
steps AS (
  SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS k
  FROM digits a CROSS JOIN digits b CROSS JOIN digits c CROSS JOIN digits e
),
spine AS (
  SELECT s.platform, s.first_m + st.k AS m
  FROM spans s JOIN steps st ON s.first_m + st.k <= s.last_m
),
labelled AS (
  SELECT
    platform,
    m,
    concat(
      lpad(CAST(CAST(floor(m / 12) AS INT) AS STRING), 4, '0'), '-',
      lpad(CAST(m - CAST(floor(m / 12) AS INT) * 12 + 1 AS STRING), 2, '0')
    ) AS month
  FROM spine
),
-- Every row of every platform: the dated months (zeros where nothing happened), then undated.
platform_rows AS (
  SELECT
    l.platform, l.month, l.m,
    COALESCE(p.broadcast, 0) AS broadcast,
    COALESCE(p.self_thread, 0) AS self_thread,
    COALESCE(p.amplification, 0) AS amplification,
    COALESCE(p.conversation, 0) AS conversation,
    COALESCE(p.conversation_private, 0) AS conversation_private,
    COALESCE(p.passive, 0) AS passive,
    COALESCE(p.people_engaged, 0) AS people_engaged,
    COALESCE(p.people_reciprocated, 0) AS people_reciprocated,
    COALESCE(p.received, 0) AS received
  FROM labelled l
  LEFT JOIN people p ON p.platform = l.platform AND p.month = l.month
  UNION ALL
  SELECT
    platform, month, 999999 AS m,
    broadcast, self_thread, amplification, conversation, conversation_private, passive,
    people_engaged, people_reciprocated, received
  FROM people
  WHERE month = 'undated'
),
-- `all`: the sum over the platforms (people are distinct per platform, so they add up), every
-- month from the first to the last dated month of any platform.
all_span AS (
  SELECT MIN(first_m) AS first_m, MAX(last_m) AS last_m FROM spans
),
all_months AS (
  SELECT a.first_m + st.k AS m
  FROM all_span a JOIN steps st ON a.first_m + st.k <= a.last_m
),
all_rows AS (
  SELECT
    'all' AS platform,
    concat(
      lpad(CAST(CAST(floor(am.m / 12) AS INT) AS STRING), 4, '0'), '-',
      lpad(CAST(am.m - CAST(floor(am.m / 12) AS INT) * 12 + 1 AS STRING), 2, '0')
    ) AS month,
    am.m,
    COALESCE(SUM(r.broadcast), 0) AS broadcast,
    COALESCE(SUM(r.self_thread), 0) AS self_thread,
    COALESCE(SUM(r.amplification), 0) AS amplification,
    COALESCE(SUM(r.conversation), 0) AS conversation,
    COALESCE(SUM(r.conversation_private), 0) AS conversation_private,
    COALESCE(SUM(r.passive), 0) AS passive,
    COALESCE(SUM(r.people_engaged), 0) AS people_engaged,
    COALESCE(SUM(r.people_reciprocated), 0) AS people_reciprocated,
    COALESCE(SUM(r.received), 0) AS received
  FROM all_months am
  LEFT JOIN platform_rows r ON r.m = am.m
  GROUP BY am.m
  UNION ALL
  SELECT
    'all' AS platform, 'undated' AS month, 999999 AS m,
    SUM(broadcast), SUM(self_thread), SUM(amplification), SUM(conversation),
    SUM(conversation_private), SUM(passive), SUM(people_engaged), SUM(people_reciprocated),
    SUM(received)
  FROM platform_rows
  WHERE month = 'undated'
  HAVING COUNT(*) > 0
),
rows AS (
  SELECT * FROM platform_rows
  UNION ALL
  SELECT * FROM all_rows
)
SELECT
  month,
  platform,
  broadcast,
  self_thread,
  amplification,
  conversation,
  conversation_private,
  passive,
  -- conversation / (conversation + broadcast + amplification), rounded half away from zero
  -- from the exact fraction: floor((20000 c + d) / 2d) / 10000.
  CASE WHEN conversation + broadcast + amplification = 0 THEN NULL
       ELSE floor((20000.0 * conversation + (conversation + broadcast + amplification))
                  / (2.0 * (conversation + broadcast + amplification))) / 10000.0
  END AS participation_ratio,
  people_engaged,
  people_reciprocated,
  received
FROM rows
ORDER BY
  CASE platform
    WHEN 'linkedin' THEN 1 WHEN 'x' THEN 2 WHEN 'mastodon' THEN 3 WHEN 'bluesky' THEN 4
    WHEN 'facebook' THEN 5 WHEN 'instagram' THEN 6 WHEN 'threads' THEN 7 WHEN 'reddit' THEN 8
    WHEN 'all' THEN 10 ELSE 9
  END,
  platform,
  m
