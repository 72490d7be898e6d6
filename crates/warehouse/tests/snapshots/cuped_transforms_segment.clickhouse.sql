SELECT
  CASE mk WHEN 0 THEN 'csat' WHEN 1 THEN 'fcr' WHEN 2 THEN 'nps' WHEN 3 THEN 'top2' WHEN 4 THEN 'value' END AS `metric`,
  g0 AS `arm`,
  g1 AS `channel`,
  CAST(CASE mk WHEN 0 THEN m0_n WHEN 1 THEN m1_n WHEN 2 THEN m2_n WHEN 3 THEN m3_n WHEN 4 THEN m4_n END AS Float64) AS `count`,
  CAST(CASE mk WHEN 0 THEN m0_n WHEN 1 THEN m1_n WHEN 2 THEN m2_n WHEN 3 THEN m3_n WHEN 4 THEN m4_n END AS Float64) AS `users`,
  CASE mk WHEN 0 THEN CAST(m0_s0 + m0_n * CAST(3.5 AS Float64) AS Float64) WHEN 1 THEN CAST(m1_s0 AS Float64) WHEN 2 THEN CAST(m2_s0 AS Float64) WHEN 3 THEN CAST(m3_s0 AS Float64) WHEN 4 THEN CAST(m4_s0 AS Float64) END AS `main_sum`,
  CASE mk WHEN 0 THEN CAST(m0_p0_0 + CAST(7.0 AS Float64) * m0_s0 + m0_n * CAST(12.25 AS Float64) AS Float64) WHEN 1 THEN CAST(m1_p0_0 AS Float64) WHEN 2 THEN CAST(m2_p0_0 AS Float64) WHEN 3 THEN CAST(m3_p0_0 AS Float64) WHEN 4 THEN CAST(m4_p0_0 AS Float64) END AS `main_sum_squares`,
  CASE mk WHEN 0 THEN CAST(m0_s2 + m0_n * CAST(3.25 AS Float64) AS Float64) WHEN 1 THEN CAST(m1_s2 AS Float64) WHEN 2 THEN CAST(m2_s2 AS Float64) WHEN 3 THEN CAST(m3_s2 AS Float64) WHEN 4 THEN CAST(m4_s2 AS Float64) END AS `covariate_sum`,
  CASE mk WHEN 0 THEN CAST(m0_p2_2 + CAST(6.5 AS Float64) * m0_s2 + m0_n * CAST(10.5625 AS Float64) AS Float64) WHEN 1 THEN CAST(m1_p2_2 AS Float64) WHEN 2 THEN CAST(m2_p2_2 AS Float64) WHEN 3 THEN CAST(m3_p2_2 AS Float64) WHEN 4 THEN CAST(m4_p2_2 AS Float64) END AS `covariate_sum_squares`,
  CASE mk WHEN 0 THEN CAST(m0_p2_0 + CAST(3.5 AS Float64) * m0_s2 + CAST(3.25 AS Float64) * m0_s0 + m0_n * CAST(11.375 AS Float64) AS Float64) WHEN 1 THEN CAST(m1_p2_0 AS Float64) WHEN 2 THEN CAST(m2_p2_0 AS Float64) WHEN 3 THEN CAST(m3_p2_0 AS Float64) WHEN 4 THEN CAST(m4_p2_0 AS Float64) END AS `main_covariate_sum_product`,
  CASE mk WHEN 0 THEN CAST(0.0 AS Float64) WHEN 1 THEN CAST(m1_inv AS Float64) WHEN 2 THEN CAST(m2_inv AS Float64) WHEN 3 THEN CAST(0.0 AS Float64) WHEN 4 THEN CAST(0.0 AS Float64) END AS `rows_invalid`
FROM (
  SELECT
    g0,
    g1,
    COUNT(m0_v0) AS m0_n,
    SUM(m0_v0) AS m0_s0,
    SUM(m0_v0 * m0_v0) AS m0_p0_0,
    SUM(m0_v2) AS m0_s2,
    SUM(m0_v2 * m0_v0) AS m0_p2_0,
    SUM(m0_v2 * m0_v2) AS m0_p2_2,
    COUNT(m1_v0) AS m1_n,
    SUM(m1_v0) AS m1_s0,
    SUM(m1_v0 * m1_v0) AS m1_p0_0,
    SUM(m1_v2) AS m1_s2,
    SUM(m1_v2 * m1_v0) AS m1_p2_0,
    SUM(m1_v2 * m1_v2) AS m1_p2_2,
    SUM(m1_inv) AS m1_inv,
    COUNT(m2_v0) AS m2_n,
    SUM(m2_v0) AS m2_s0,
    SUM(m2_v0 * m2_v0) AS m2_p0_0,
    SUM(m2_v2) AS m2_s2,
    SUM(m2_v2 * m2_v0) AS m2_p2_0,
    SUM(m2_v2 * m2_v2) AS m2_p2_2,
    SUM(m2_inv) AS m2_inv,
    COUNT(m3_v0) AS m3_n,
    SUM(m3_v0) AS m3_s0,
    SUM(m3_v0 * m3_v0) AS m3_p0_0,
    SUM(m3_v2) AS m3_s2,
    SUM(m3_v2 * m3_v0) AS m3_p2_0,
    SUM(m3_v2 * m3_v2) AS m3_p2_2,
    COUNT(m4_v0) AS m4_n,
    SUM(m4_v0) AS m4_s0,
    SUM(m4_v0 * m4_v0) AS m4_p0_0,
    SUM(m4_v2) AS m4_s2,
    SUM(m4_v2 * m4_v0) AS m4_p2_0,
    SUM(m4_v2 * m4_v2) AS m4_p2_2
  FROM (
    SELECT
      CAST(`arm` AS String) AS g0,
      CAST(`channel` AS String) AS g1,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`csat` AS Float64) END - CAST(3.5 AS Float64) AS m0_v0,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`pre_csat` AS Float64) END - CAST(3.25 AS Float64) AS m0_v2,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`fcr` AS Float64) END AS m1_v0,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`pre_csat` AS Float64) END AS m1_v2,
      CASE WHEN (`arm` IS NOT NULL AND `channel` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_csat` IS NOT NULL) AND (CAST(`fcr` AS Float64) <> CAST(0.0 AS Float64) AND CAST(`fcr` AS Float64) <> CAST(1.0 AS Float64)) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END AS m1_inv,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `score` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CASE WHEN CAST(`score` AS Float64) >= CAST(9.0 AS Float64) THEN CAST(1.0 AS Float64) WHEN CAST(`score` AS Float64) <= CAST(6.0 AS Float64) THEN CAST(-1.0 AS Float64) ELSE CAST(0.0 AS Float64) END END AS m2_v0,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `score` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`pre_csat` AS Float64) END AS m2_v2,
      CASE WHEN (`arm` IS NOT NULL AND `channel` IS NOT NULL AND `score` IS NOT NULL AND `pre_csat` IS NOT NULL) AND (CAST(`score` AS Float64) < CAST(0.0 AS Float64) OR CAST(`score` AS Float64) > CAST(10.0 AS Float64) OR CAST(`score` AS Float64) <> FLOOR(CAST(`score` AS Float64))) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END AS m2_inv,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CASE WHEN CAST(`csat` AS Float64) >= CAST(4.0 AS Float64) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END END AS m3_v0,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `csat` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`pre_csat` AS Float64) END AS m3_v2,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `click` IS NOT NULL AND `purchase` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(0.1 AS Float64) * CAST(`click` AS Float64) + CAST(-0.5 AS Float64) * CAST(`purchase` AS Float64) END AS m4_v0,
      CASE WHEN `arm` IS NOT NULL AND `channel` IS NOT NULL AND `click` IS NOT NULL AND `purchase` IS NOT NULL AND `pre_csat` IS NOT NULL THEN CAST(`pre_csat` AS Float64) END AS m4_v2
      FROM `contacts`
  ) AS u
  GROUP BY g0, g1
) AS s
CROSS JOIN (SELECT arrayJoin([0, 1, 2, 3, 4]) AS mk) AS metric_index
WHERE CASE mk WHEN 0 THEN m0_n WHEN 1 THEN m1_n WHEN 2 THEN m2_n WHEN 3 THEN m3_n WHEN 4 THEN m4_n END > 0
