SELECT
  'csat' AS "metric",
  g0 AS "arm",
  g1 AS "channel",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) + COUNT(*) * CAST(3.5 AS DOUBLE) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) + CAST(7.0 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(12.25 AS DOUBLE) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v2) + COUNT(*) * CAST(3.25 AS DOUBLE) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) + CAST(6.5 AS DOUBLE) * SUM(v2) + COUNT(*) * CAST(10.5625 AS DOUBLE) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) + CAST(3.5 AS DOUBLE) * SUM(v2) + CAST(3.25 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(11.375 AS DOUBLE) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("channel" AS VARCHAR) AS g1,
    CAST("csat" AS DOUBLE) - CAST(3.5 AS DOUBLE) AS v0,
    CAST("pre_csat" AS DOUBLE) - CAST(3.25 AS DOUBLE) AS v2,
    CAST(0.0 AS DOUBLE) AS r_invalid
    FROM "contacts"
    WHERE "arm" IS NOT NULL AND "channel" IS NOT NULL AND "csat" IS NOT NULL AND "pre_csat" IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'fcr' AS "metric",
  g0 AS "arm",
  g1 AS "channel",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v2) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("channel" AS VARCHAR) AS g1,
    CAST("fcr" AS DOUBLE) AS v0,
    CAST("pre_csat" AS DOUBLE) AS v2,
    CASE WHEN CAST("fcr" AS DOUBLE) <> CAST(0.0 AS DOUBLE) AND CAST("fcr" AS DOUBLE) <> CAST(1.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS r_invalid
    FROM "contacts"
    WHERE "arm" IS NOT NULL AND "channel" IS NOT NULL AND "fcr" IS NOT NULL AND "pre_csat" IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'nps' AS "metric",
  g0 AS "arm",
  g1 AS "channel",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v2) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("channel" AS VARCHAR) AS g1,
    CASE WHEN CAST("score" AS DOUBLE) >= CAST(9.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) WHEN CAST("score" AS DOUBLE) <= CAST(6.0 AS DOUBLE) THEN CAST(-1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS v0,
    CAST("pre_csat" AS DOUBLE) AS v2,
    CASE WHEN CAST("score" AS DOUBLE) < CAST(0.0 AS DOUBLE) OR CAST("score" AS DOUBLE) > CAST(10.0 AS DOUBLE) OR CAST("score" AS DOUBLE) <> FLOOR(CAST("score" AS DOUBLE)) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS r_invalid
    FROM "contacts"
    WHERE "arm" IS NOT NULL AND "channel" IS NOT NULL AND "score" IS NOT NULL AND "pre_csat" IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'top2' AS "metric",
  g0 AS "arm",
  g1 AS "channel",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v2) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("channel" AS VARCHAR) AS g1,
    CASE WHEN CAST("csat" AS DOUBLE) >= CAST(4.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS v0,
    CAST("pre_csat" AS DOUBLE) AS v2,
    CAST(0.0 AS DOUBLE) AS r_invalid
    FROM "contacts"
    WHERE "arm" IS NOT NULL AND "channel" IS NOT NULL AND "csat" IS NOT NULL AND "pre_csat" IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'value' AS "metric",
  g0 AS "arm",
  g1 AS "channel",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v2) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("channel" AS VARCHAR) AS g1,
    CAST(0.1 AS DOUBLE) * CAST("click" AS DOUBLE) + CAST(-0.5 AS DOUBLE) * CAST("purchase" AS DOUBLE) AS v0,
    CAST("pre_csat" AS DOUBLE) AS v2,
    CAST(0.0 AS DOUBLE) AS r_invalid
    FROM "contacts"
    WHERE "arm" IS NOT NULL AND "channel" IS NOT NULL AND "click" IS NOT NULL AND "purchase" IS NOT NULL AND "pre_csat" IS NOT NULL
) AS u
GROUP BY g0, g1
