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
    CAST(`site` AS STRING) AS u,
    FLOOR(CAST(UNIX_DATE(CAST(`day` AS DATE)) - (SELECT MIN(UNIX_DATE(CAST(`day` AS DATE))) FROM `analytics`.`contacts`) AS FLOAT64) / CAST(7.0 AS FLOAT64)) AS p,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(`handle_seconds` AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS n,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS dn,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(0.0 AS FLOAT64) ELSE CAST(1.0 AS FLOAT64) END AS r_missing,
    CAST(0.0 AS FLOAT64) AS r_invalid,
    CASE WHEN CAST(`go_live` AS STRING) IN ('', '0') THEN CAST(NULL AS FLOAT64) ELSE CAST(UNIX_DATE(CAST(`go_live` AS DATE)) AS FLOAT64) END AS c,
    CAST(NULL AS FLOAT64) AS t,
    CAST(0.0 AS FLOAT64) AS t_invalid,
    CAST((SELECT MIN(UNIX_DATE(CAST(`day` AS DATE))) FROM `analytics`.`contacts`) AS FLOAT64) AS o
  FROM `analytics`.`contacts`
) AS s
GROUP BY u, p
