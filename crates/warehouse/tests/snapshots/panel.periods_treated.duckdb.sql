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
    CAST("agent" AS VARCHAR) AS u,
    CAST("period" AS DOUBLE) AS p,
    CASE WHEN "resolved" IS NOT NULL THEN CAST("resolved" AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS n,
    CASE WHEN "resolved" IS NOT NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS dn,
    CASE WHEN "resolved" IS NOT NULL THEN CAST(0.0 AS DOUBLE) ELSE CAST(1.0 AS DOUBLE) END AS r_missing,
    CASE WHEN "resolved" IS NOT NULL AND (CAST("resolved" AS DOUBLE) <> CAST(0.0 AS DOUBLE) AND CAST("resolved" AS DOUBLE) <> CAST(1.0 AS DOUBLE)) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS r_invalid,
    CAST(NULL AS DOUBLE) AS c,
    CAST("treated" AS DOUBLE) AS t,
    CASE WHEN CAST("treated" AS DOUBLE) = CAST(0.0 AS DOUBLE) OR CAST("treated" AS DOUBLE) = CAST(1.0 AS DOUBLE) THEN CAST(0.0 AS DOUBLE) ELSE CAST(1.0 AS DOUBLE) END AS t_invalid,
    CAST(NULL AS DOUBLE) AS o
  FROM "contacts"
) AS s
GROUP BY u, p
