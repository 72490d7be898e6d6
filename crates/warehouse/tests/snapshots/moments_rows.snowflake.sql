WITH units AS (
  SELECT
    CASE WHEN CAST("arm" AS VARCHAR) = 'A' THEN 0 ELSE 1 END AS arm_i,
    CASE WHEN "score" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CASE WHEN CAST("score" AS DOUBLE) >= CAST(9.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) WHEN CAST("score" AS DOUBLE) <= CAST(6.0 AS DOUBLE) THEN CAST(-1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END END AS k0_z0,
    CASE WHEN "score" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CAST(1.0 AS DOUBLE) END AS k0_z1,
    CASE WHEN "score" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CAST("pre_csat" AS DOUBLE) END AS k0_z2,
    CASE WHEN "csat" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CASE WHEN CAST("csat" AS DOUBLE) >= CAST(4.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END END AS k1_z0,
    CASE WHEN "csat" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CAST(1.0 AS DOUBLE) END AS k1_z1,
    CASE WHEN "csat" IS NOT NULL AND "pre_csat" IS NOT NULL THEN CAST("pre_csat" AS DOUBLE) END AS k1_z2,
    CASE WHEN "pre_csat" IS NOT NULL THEN CAST("pre_csat" AS DOUBLE) END AS x0
  FROM "contacts"
  WHERE CAST("arm" AS VARCHAR) IN ('A', 'B')
),
arm_sums AS (
  SELECT
    arm_i,
    CAST(COUNT(*) AS DOUBLE) AS units,
    CAST(COUNT(k0_z0) AS DOUBLE) AS k0_n,
    SUM(k0_z0) AS k0_s0,
    SUM(k0_z1) AS k0_s1,
    SUM(k0_z2) AS k0_s2,
    SUM(k0_z1 * k0_z1) AS k0_dd,
    AVG(k0_z0) AS k0_c0,
    AVG(k0_z1) AS k0_c1,
    AVG(k0_z2) AS k0_c2,
    CAST(COUNT(k1_z0) AS DOUBLE) AS k1_n,
    SUM(k1_z0) AS k1_s0,
    SUM(k1_z1) AS k1_s1,
    SUM(k1_z2) AS k1_s2,
    SUM(k1_z1 * k1_z1) AS k1_dd,
    AVG(k1_z0) AS k1_c0,
    AVG(k1_z1) AS k1_c1,
    AVG(k1_z2) AS k1_c2,
    CAST(COUNT(x0) AS DOUBLE) AS x_n,
    SUM(x0) AS x_s0,
    AVG(x0) AS x_c0
  FROM units
  GROUP BY arm_i
),
arm_products AS (
  SELECT
    units.arm_i AS arm_c,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k0_z0 - arm_sums.k0_c0)) AS p0_0_0_0,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k0_z1 - arm_sums.k0_c1)) AS p0_0_0_1,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k0_z2 - arm_sums.k0_c2)) AS p0_0_0_2,
    SUM((units.k0_z1 - arm_sums.k0_c1) * (units.k0_z1 - arm_sums.k0_c1)) AS p0_0_1_1,
    SUM((units.k0_z1 - arm_sums.k0_c1) * (units.k0_z2 - arm_sums.k0_c2)) AS p0_0_1_2,
    SUM((units.k0_z2 - arm_sums.k0_c2) * (units.k0_z2 - arm_sums.k0_c2)) AS p0_0_2_2,
    SUM(CASE WHEN units.k0_z0 IS NOT NULL AND units.k1_z0 IS NOT NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS p0_1_n,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k1_z0 - arm_sums.k1_c0)) AS p0_1_0_0,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k1_z1 - arm_sums.k1_c1)) AS p0_1_0_1,
    SUM((units.k0_z0 - arm_sums.k0_c0) * (units.k1_z2 - arm_sums.k1_c2)) AS p0_1_0_2,
    SUM((units.k0_z1 - arm_sums.k0_c1) * (units.k1_z0 - arm_sums.k1_c0)) AS p0_1_1_0,
    SUM((units.k0_z1 - arm_sums.k0_c1) * (units.k1_z1 - arm_sums.k1_c1)) AS p0_1_1_1,
    SUM((units.k0_z1 - arm_sums.k0_c1) * (units.k1_z2 - arm_sums.k1_c2)) AS p0_1_1_2,
    SUM((units.k0_z2 - arm_sums.k0_c2) * (units.k1_z0 - arm_sums.k1_c0)) AS p0_1_2_0,
    SUM((units.k0_z2 - arm_sums.k0_c2) * (units.k1_z1 - arm_sums.k1_c1)) AS p0_1_2_1,
    SUM((units.k0_z2 - arm_sums.k0_c2) * (units.k1_z2 - arm_sums.k1_c2)) AS p0_1_2_2,
    SUM((units.k1_z0 - arm_sums.k1_c0) * (units.k1_z0 - arm_sums.k1_c0)) AS p1_1_0_0,
    SUM((units.k1_z0 - arm_sums.k1_c0) * (units.k1_z1 - arm_sums.k1_c1)) AS p1_1_0_1,
    SUM((units.k1_z0 - arm_sums.k1_c0) * (units.k1_z2 - arm_sums.k1_c2)) AS p1_1_0_2,
    SUM((units.k1_z1 - arm_sums.k1_c1) * (units.k1_z1 - arm_sums.k1_c1)) AS p1_1_1_1,
    SUM((units.k1_z1 - arm_sums.k1_c1) * (units.k1_z2 - arm_sums.k1_c2)) AS p1_1_1_2,
    SUM((units.k1_z2 - arm_sums.k1_c2) * (units.k1_z2 - arm_sums.k1_c2)) AS p1_1_2_2,
    SUM((units.x0 - arm_sums.x_c0) * (units.x0 - arm_sums.x_c0)) AS x_0_0
  FROM units
  JOIN arm_sums ON units.arm_i = arm_sums.arm_i
  GROUP BY units.arm_i
)
SELECT arm_sums.*, arm_products.*
FROM arm_sums
JOIN arm_products ON arm_sums.arm_i = arm_products.arm_c
