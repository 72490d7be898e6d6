SELECT
  'aht' AS `metric`,
  g0 AS `arm`,
  g1 AS `tier`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) + COUNT(*) * CAST(3000.0 AS FLOAT64) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) + CAST(6000.0 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(9000000.0 AS FLOAT64) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v1) + COUNT(*) * CAST(10.0 AS FLOAT64) AS FLOAT64) AS `denominator_sum`,
  CAST(SUM(v1 * v1) + CAST(20.0 AS FLOAT64) * SUM(v1) + COUNT(*) * CAST(100.0 AS FLOAT64) AS FLOAT64) AS `denominator_sum_squares`,
  CAST(SUM(v1 * v0) + CAST(3000.0 AS FLOAT64) * SUM(v1) + CAST(10.0 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(30000.0 AS FLOAT64) AS FLOAT64) AS `main_denominator_sum_product`,
  CAST(SUM(v2) + COUNT(*) * CAST(250.5 AS FLOAT64) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) + CAST(501.0 AS FLOAT64) * SUM(v2) + COUNT(*) * CAST(62750.25 AS FLOAT64) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) + CAST(3000.0 AS FLOAT64) * SUM(v2) + CAST(250.5 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(751500.0 AS FLOAT64) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(v2 * v1) + CAST(10.0 AS FLOAT64) * SUM(v2) + CAST(250.5 AS FLOAT64) * SUM(v1) + COUNT(*) * CAST(2505.0 AS FLOAT64) AS FLOAT64) AS `main_pre_denominator_post_sum_product`,
  CAST(SUM(v3) + COUNT(*) * CAST(2.0 AS FLOAT64) AS FLOAT64) AS `denominator_pre_sum`,
  CAST(SUM(v3 * v3) + CAST(4.0 AS FLOAT64) * SUM(v3) + COUNT(*) * CAST(4.0 AS FLOAT64) AS FLOAT64) AS `denominator_pre_sum_squares`,
  CAST(SUM(v3 * v0) + CAST(3000.0 AS FLOAT64) * SUM(v3) + CAST(2.0 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(6000.0 AS FLOAT64) AS FLOAT64) AS `main_post_denominator_pre_sum_product`,
  CAST(SUM(v3 * v1) + CAST(10.0 AS FLOAT64) * SUM(v3) + CAST(2.0 AS FLOAT64) * SUM(v1) + COUNT(*) * CAST(20.0 AS FLOAT64) AS FLOAT64) AS `denominator_post_denominator_pre_sum_product`,
  CAST(SUM(v3 * v2) + CAST(250.5 AS FLOAT64) * SUM(v3) + CAST(2.0 AS FLOAT64) * SUM(v2) + COUNT(*) * CAST(501.0 AS FLOAT64) AS FLOAT64) AS `main_pre_denominator_pre_sum_product`,
  CAST(SUM(r_missing) AS FLOAT64) AS `rows_missing`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`tier` AS STRING) AS g1,
    SUM(CAST(`handle_seconds` AS FLOAT64)) - CAST(3000.0 AS FLOAT64) AS v0,
    SUM(CAST(1.0 AS FLOAT64)) - CAST(10.0 AS FLOAT64) AS v1,
    AVG(CAST(`pre_revenue` AS FLOAT64)) - CAST(250.5 AS FLOAT64) AS v2,
    AVG(CAST(`pre_orders` AS FLOAT64)) - CAST(2.0 AS FLOAT64) AS v3,
    SUM(CASE WHEN `arm` IS NULL OR `tier` IS NULL OR `agent` IS NULL OR `handle_seconds` IS NULL OR `pre_revenue` IS NULL OR `pre_orders` IS NULL THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END) AS r_missing,
    CAST(0.0 AS FLOAT64) AS r_invalid
    FROM `analytics`.`contacts`
    GROUP BY CAST(`arm` AS STRING), CAST(`tier` AS STRING), `agent`
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'aov' AS `metric`,
  g0 AS `arm`,
  g1 AS `tier`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v1) AS FLOAT64) AS `denominator_sum`,
  CAST(SUM(v1 * v1) AS FLOAT64) AS `denominator_sum_squares`,
  CAST(SUM(v1 * v0) AS FLOAT64) AS `main_denominator_sum_product`,
  CAST(SUM(v2) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(v2 * v1) AS FLOAT64) AS `main_pre_denominator_post_sum_product`,
  CAST(SUM(v3) AS FLOAT64) AS `denominator_pre_sum`,
  CAST(SUM(v3 * v3) AS FLOAT64) AS `denominator_pre_sum_squares`,
  CAST(SUM(v3 * v0) AS FLOAT64) AS `main_post_denominator_pre_sum_product`,
  CAST(SUM(v3 * v1) AS FLOAT64) AS `denominator_post_denominator_pre_sum_product`,
  CAST(SUM(v3 * v2) AS FLOAT64) AS `main_pre_denominator_pre_sum_product`,
  CAST(SUM(r_missing) AS FLOAT64) AS `rows_missing`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`tier` AS STRING) AS g1,
    SUM(CAST(`revenue` AS FLOAT64)) AS v0,
    SUM(CAST(`orders` AS FLOAT64)) AS v1,
    AVG(CAST(`pre_revenue` AS FLOAT64)) AS v2,
    AVG(CAST(`pre_orders` AS FLOAT64)) AS v3,
    SUM(CASE WHEN `arm` IS NULL OR `tier` IS NULL OR `agent` IS NULL OR `revenue` IS NULL OR `orders` IS NULL OR `pre_revenue` IS NULL OR `pre_orders` IS NULL THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END) AS r_missing,
    SUM(CASE WHEN CAST(`orders` AS FLOAT64) < CAST(0.0 AS FLOAT64) THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END) AS r_invalid
    FROM `analytics`.`contacts`
    GROUP BY CAST(`arm` AS STRING), CAST(`tier` AS STRING), `agent`
) AS u
GROUP BY g0, g1
