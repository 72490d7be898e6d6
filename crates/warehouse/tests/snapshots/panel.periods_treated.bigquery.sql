SELECT
  u AS `unit`,
  CAST(p AS FLOAT64) AS `period`,
  CAST(SUM(n) AS FLOAT64) AS `numerator_sum`,
  CAST(SUM(dn) AS FLOAT64) AS `denominator_sum`,
  CAST(COUNT(*) AS FLOAT64) AS `events`,
  CAST(SUM(r_missing) AS FLOAT64) AS `rows_missing`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`,
  CAST(MIN(c) AS FLOAT64) AS `cohort_min`,
  CAST(MAX(c) AS FLOAT64) AS `cohort_max`,
  CAST(SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS FLOAT64) AS `cohort_missing`,
  CAST(MAX(t) AS FLOAT64) AS `treated_max`,
  CAST(SUM(t_invalid) AS FLOAT64) AS `treated_invalid`,
  CAST(MIN(o) AS FLOAT64) AS `origin_day`
FROM (
  SELECT
    CAST(`agent` AS STRING) AS u,
    CAST(`period` AS FLOAT64) AS p,
    CASE WHEN `resolved` IS NOT NULL THEN CAST(`resolved` AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS n,
    CASE WHEN `resolved` IS NOT NULL THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS dn,
    CASE WHEN `resolved` IS NOT NULL THEN CAST(0.0 AS FLOAT64) ELSE CAST(1.0 AS FLOAT64) END AS r_missing,
    CASE WHEN `resolved` IS NOT NULL AND (CAST(`resolved` AS FLOAT64) <> CAST(0.0 AS FLOAT64) AND CAST(`resolved` AS FLOAT64) <> CAST(1.0 AS FLOAT64)) THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS r_invalid,
    CAST(NULL AS FLOAT64) AS c,
    CAST(`treated` AS FLOAT64) AS t,
    CASE WHEN CAST(`treated` AS FLOAT64) = CAST(0.0 AS FLOAT64) OR CAST(`treated` AS FLOAT64) = CAST(1.0 AS FLOAT64) THEN CAST(0.0 AS FLOAT64) ELSE CAST(1.0 AS FLOAT64) END AS t_invalid,
    CAST(NULL AS FLOAT64) AS o
  FROM `contacts`
) AS s
GROUP BY u, p
