SELECT
  u AS "unit",
  CAST(p AS DOUBLE) AS "period",
  CAST(SUM(n) AS DOUBLE) AS "numerator_sum",
  CAST(SUM(dn) AS DOUBLE) AS "denominator_sum",
  CAST(COUNT(*) AS DOUBLE) AS "events",
  CAST(SUM(r_missing) AS DOUBLE) AS "rows_missing",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid",
  CAST(MIN(c) AS DOUBLE) AS "cohort_min",
  CAST(MAX(c) AS DOUBLE) AS "cohort_max",
  CAST(SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS DOUBLE) AS "cohort_missing",
  CAST(MAX(t) AS DOUBLE) AS "treated_max",
  CAST(SUM(t_invalid) AS DOUBLE) AS "treated_invalid",
  CAST(MIN(o) AS DOUBLE) AS "origin_day"
FROM (
  SELECT
    CAST("site" AS VARCHAR) AS u,
    FLOOR(CAST(date_diff('day', DATE '1970-01-01', CAST("day" AS DATE)) - (SELECT MIN(date_diff('day', DATE '1970-01-01', CAST("day" AS DATE))) FROM "analytics"."contacts") AS DOUBLE) / CAST(7.0 AS DOUBLE)) AS p,
    CASE WHEN "handle_seconds" IS NOT NULL THEN CAST("handle_seconds" AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS n,
    CASE WHEN "handle_seconds" IS NOT NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS dn,
    CASE WHEN "handle_seconds" IS NOT NULL THEN CAST(0.0 AS DOUBLE) ELSE CAST(1.0 AS DOUBLE) END AS r_missing,
    CAST(0.0 AS DOUBLE) AS r_invalid,
    CASE WHEN CAST("go_live" AS VARCHAR) IN ('', '0') THEN CAST(NULL AS DOUBLE) ELSE CAST(date_diff('day', DATE '1970-01-01', CAST("go_live" AS DATE)) AS DOUBLE) END AS c,
    CAST(NULL AS DOUBLE) AS t,
    CAST(0.0 AS DOUBLE) AS t_invalid,
    CAST((SELECT MIN(date_diff('day', DATE '1970-01-01', CAST("day" AS DATE))) FROM "analytics"."contacts") AS DOUBLE) AS o
  FROM "analytics"."contacts"
) AS s
GROUP BY u, p
