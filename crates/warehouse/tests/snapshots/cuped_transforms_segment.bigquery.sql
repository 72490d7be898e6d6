SELECT
  'csat' AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) + COUNT(*) * CAST(3.5 AS FLOAT64) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) + CAST(7.0 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(12.25 AS FLOAT64) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v2) + COUNT(*) * CAST(3.25 AS FLOAT64) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) + CAST(6.5 AS FLOAT64) * SUM(v2) + COUNT(*) * CAST(10.5625 AS FLOAT64) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) + CAST(3.5 AS FLOAT64) * SUM(v2) + CAST(3.25 AS FLOAT64) * SUM(v0) + COUNT(*) * CAST(11.375 AS FLOAT64) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`channel` AS STRING) AS g1,
    CAST(`csat` AS FLOAT64) - CAST(3.5 AS FLOAT64) AS v0,
    CAST(`pre_csat` AS FLOAT64) - CAST(3.25 AS FLOAT64) AS v2,
    CAST(0.0 AS FLOAT64) AS r_invalid
    FROM `contacts`
    WHERE `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'fcr' AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v2) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`channel` AS STRING) AS g1,
    CAST(`fcr` AS FLOAT64) AS v0,
    CAST(`pre_csat` AS FLOAT64) AS v2,
    CASE WHEN CAST(`fcr` AS FLOAT64) <> CAST(0.0 AS FLOAT64) AND CAST(`fcr` AS FLOAT64) <> CAST(1.0 AS FLOAT64) THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS r_invalid
    FROM `contacts`
    WHERE `arm` IS NOT NULL AND `channel` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_csat` IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'nps' AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v2) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`channel` AS STRING) AS g1,
    CASE WHEN CAST(`score` AS FLOAT64) >= CAST(9.0 AS FLOAT64) THEN CAST(1.0 AS FLOAT64) WHEN CAST(`score` AS FLOAT64) <= CAST(6.0 AS FLOAT64) THEN CAST(-1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS v0,
    CAST(`pre_csat` AS FLOAT64) AS v2,
    CASE WHEN CAST(`score` AS FLOAT64) < CAST(0.0 AS FLOAT64) OR CAST(`score` AS FLOAT64) > CAST(10.0 AS FLOAT64) OR CAST(`score` AS FLOAT64) <> FLOOR(CAST(`score` AS FLOAT64)) THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS r_invalid
    FROM `contacts`
    WHERE `arm` IS NOT NULL AND `channel` IS NOT NULL AND `score` IS NOT NULL AND `pre_csat` IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'top2' AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v2) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`channel` AS STRING) AS g1,
    CASE WHEN CAST(`csat` AS FLOAT64) >= CAST(4.0 AS FLOAT64) THEN CAST(1.0 AS FLOAT64) ELSE CAST(0.0 AS FLOAT64) END AS v0,
    CAST(`pre_csat` AS FLOAT64) AS v2,
    CAST(0.0 AS FLOAT64) AS r_invalid
    FROM `contacts`
    WHERE `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'value' AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(COUNT(*) AS FLOAT64) AS `count`,
  CAST(COUNT(*) AS FLOAT64) AS `users`,
  CAST(SUM(v0) AS FLOAT64) AS `main_sum`,
  CAST(SUM(v0 * v0) AS FLOAT64) AS `main_sum_squares`,
  CAST(SUM(v2) AS FLOAT64) AS `covariate_sum`,
  CAST(SUM(v2 * v2) AS FLOAT64) AS `covariate_sum_squares`,
  CAST(SUM(v2 * v0) AS FLOAT64) AS `main_covariate_sum_product`,
  CAST(SUM(r_invalid) AS FLOAT64) AS `rows_invalid`
FROM (
  SELECT
    CAST(`arm` AS STRING) AS g0,
    CAST(`channel` AS STRING) AS g1,
    CAST(0.1 AS FLOAT64) * CAST(`click` AS FLOAT64) + CAST(-0.5 AS FLOAT64) * CAST(`purchase` AS FLOAT64) AS v0,
    CAST(`pre_csat` AS FLOAT64) AS v2,
    CAST(0.0 AS FLOAT64) AS r_invalid
    FROM `contacts`
    WHERE `arm` IS NOT NULL AND `channel` IS NOT NULL AND `click` IS NOT NULL AND `purchase` IS NOT NULL AND `pre_csat` IS NOT NULL
) AS u
GROUP BY g0, g1
