SELECT
  u AS `unit`,
  CAST(p AS Float64) AS `period`,
  CAST(SUM(n) AS Float64) AS `numerator_sum`,
  CAST(SUM(dn) AS Float64) AS `denominator_sum`,
  CAST(COUNT(*) AS Float64) AS `events`,
  CAST(SUM(r_missing) AS Float64) AS `rows_missing`,
  CAST(SUM(r_invalid) AS Float64) AS `rows_invalid`,
  CAST(MIN(c) AS Float64) AS `cohort_min`,
  CAST(MAX(c) AS Float64) AS `cohort_max`,
  CAST(SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS Float64) AS `cohort_missing`,
  CAST(MAX(t) AS Float64) AS `treated_max`,
  CAST(SUM(t_invalid) AS Float64) AS `treated_invalid`,
  CAST(MIN(o) AS Float64) AS `origin_day`
FROM (
  SELECT
    CAST(`site` AS String) AS u,
    FLOOR(CAST(dateDiff('day', toDate('1970-01-01'), CAST(`day` AS Date)) - (SELECT MIN(dateDiff('day', toDate('1970-01-01'), CAST(`day` AS Date))) FROM `analytics`.`contacts`) AS Float64) / CAST(7.0 AS Float64)) AS p,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(`handle_seconds` AS Float64) ELSE CAST(0.0 AS Float64) END AS n,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END AS dn,
    CASE WHEN `handle_seconds` IS NOT NULL THEN CAST(0.0 AS Float64) ELSE CAST(1.0 AS Float64) END AS r_missing,
    CAST(0.0 AS Float64) AS r_invalid,
    CASE WHEN CAST(`go_live` AS String) IN ('', '0') THEN CAST(NULL AS Nullable(Float64)) ELSE CAST(dateDiff('day', toDate('1970-01-01'), CAST(`go_live` AS Date)) AS Float64) END AS c,
    CAST(NULL AS Nullable(Float64)) AS t,
    CAST(0.0 AS Float64) AS t_invalid,
    CAST((SELECT MIN(dateDiff('day', toDate('1970-01-01'), CAST(`day` AS Date))) FROM `analytics`.`contacts`) AS Float64) AS o
  FROM `analytics`.`contacts`
) AS s
GROUP BY u, p
