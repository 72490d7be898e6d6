SELECT
  u AS `unit`,
  CAST(p AS DOUBLE) AS `period`,
  CAST(SUM(n) AS DOUBLE) AS `numerator_sum`,
  CAST(SUM(dn) AS DOUBLE) AS `denominator_sum`,
  CAST(COUNT(*) AS DOUBLE) AS `events`,
  CAST(SUM(r_missing) AS DOUBLE) AS `rows_missing`,
  CAST(SUM(r_invalid) AS DOUBLE) AS `rows_invalid`,
  CAST(MIN(c) AS DOUBLE) AS `cohort_min`,
  CAST(MAX(c) AS DOUBLE) AS `cohort_max`,
  CAST(SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS DOUBLE) AS `cohort_missing`,
  CAST(MAX(t) AS DOUBLE) AS `treated_max`,
  CAST(SUM(t_invalid) AS DOUBLE) AS `treated_invalid`,
  CAST(MIN(o) AS DOUBLE) AS `origin_day`
FROM (
  SELECT
    CAST(`site` AS STRING) AS u,
    FLOOR(CAST(DATEDIFF(CAST(`day` AS DATE), DATE '1970-01-01') - (SELECT MIN(DATEDIFF(CAST(`day` AS DATE), DATE '1970-01-01')) FROM `analytics`.`contacts`) AS DOUBLE) / CAST(7.0 AS DOUBLE)) AS p,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(`handle_seconds` AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS n,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END AS dn,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(0.0 AS DOUBLE) ELSE CAST(1.0 AS DOUBLE) END AS r_missing,
    CAST(0.0 AS DOUBLE) AS r_invalid,
    CASE WHEN CAST(`go_live` AS STRING) IN ('', '0') THEN CAST(NULL AS DOUBLE) ELSE CAST(DATEDIFF(CAST(`go_live` AS DATE), DATE '1970-01-01') AS DOUBLE) END AS c,
    CAST(NULL AS DOUBLE) AS t,
    CAST(0.0 AS DOUBLE) AS t_invalid,
    CAST((SELECT MIN(DATEDIFF(CAST(`day` AS DATE), DATE '1970-01-01')) FROM `analytics`.`contacts`) AS DOUBLE) AS o
  FROM `analytics`.`contacts`
) AS s
GROUP BY u, p
