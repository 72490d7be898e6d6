SELECT
  'aht' AS "metric",
  g0 AS "arm",
  g1 AS "tier",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) + COUNT(*) * CAST(3000.0 AS DOUBLE) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) + CAST(6000.0 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(9000000.0 AS DOUBLE) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v1) + COUNT(*) * CAST(10.0 AS DOUBLE) AS DOUBLE) AS "denominator_sum",
  CAST(SUM(v1 * v1) + CAST(20.0 AS DOUBLE) * SUM(v1) + COUNT(*) * CAST(100.0 AS DOUBLE) AS DOUBLE) AS "denominator_sum_squares",
  CAST(SUM(v1 * v0) + CAST(3000.0 AS DOUBLE) * SUM(v1) + CAST(10.0 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(30000.0 AS DOUBLE) AS DOUBLE) AS "main_denominator_sum_product",
  CAST(SUM(v2) + COUNT(*) * CAST(250.5 AS DOUBLE) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) + CAST(501.0 AS DOUBLE) * SUM(v2) + COUNT(*) * CAST(62750.25 AS DOUBLE) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) + CAST(3000.0 AS DOUBLE) * SUM(v2) + CAST(250.5 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(751500.0 AS DOUBLE) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(v2 * v1) + CAST(10.0 AS DOUBLE) * SUM(v2) + CAST(250.5 AS DOUBLE) * SUM(v1) + COUNT(*) * CAST(2505.0 AS DOUBLE) AS DOUBLE) AS "main_pre_denominator_post_sum_product",
  CAST(SUM(v3) + COUNT(*) * CAST(2.0 AS DOUBLE) AS DOUBLE) AS "denominator_pre_sum",
  CAST(SUM(v3 * v3) + CAST(4.0 AS DOUBLE) * SUM(v3) + COUNT(*) * CAST(4.0 AS DOUBLE) AS DOUBLE) AS "denominator_pre_sum_squares",
  CAST(SUM(v3 * v0) + CAST(3000.0 AS DOUBLE) * SUM(v3) + CAST(2.0 AS DOUBLE) * SUM(v0) + COUNT(*) * CAST(6000.0 AS DOUBLE) AS DOUBLE) AS "main_post_denominator_pre_sum_product",
  CAST(SUM(v3 * v1) + CAST(10.0 AS DOUBLE) * SUM(v3) + CAST(2.0 AS DOUBLE) * SUM(v1) + COUNT(*) * CAST(20.0 AS DOUBLE) AS DOUBLE) AS "denominator_post_denominator_pre_sum_product",
  CAST(SUM(v3 * v2) + CAST(250.5 AS DOUBLE) * SUM(v3) + CAST(2.0 AS DOUBLE) * SUM(v2) + COUNT(*) * CAST(501.0 AS DOUBLE) AS DOUBLE) AS "main_pre_denominator_pre_sum_product",
  CAST(SUM(r_missing) AS DOUBLE) AS "rows_missing",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("tier" AS VARCHAR) AS g1,
    SUM(CAST("handle_seconds" AS DOUBLE)) - CAST(3000.0 AS DOUBLE) AS v0,
    SUM(CAST(1.0 AS DOUBLE)) - CAST(10.0 AS DOUBLE) AS v1,
    AVG(CAST("pre_revenue" AS DOUBLE)) - CAST(250.5 AS DOUBLE) AS v2,
    AVG(CAST("pre_orders" AS DOUBLE)) - CAST(2.0 AS DOUBLE) AS v3,
    SUM(CASE WHEN "arm" IS NULL OR "tier" IS NULL OR "agent" IS NULL OR "handle_seconds" IS NULL OR "pre_revenue" IS NULL OR "pre_orders" IS NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS r_missing,
    CAST(0.0 AS DOUBLE) AS r_invalid
    FROM "analytics"."contacts"
    GROUP BY CAST("arm" AS VARCHAR), CAST("tier" AS VARCHAR), "agent"
) AS u
GROUP BY g0, g1
UNION ALL
SELECT
  'aov' AS "metric",
  g0 AS "arm",
  g1 AS "tier",
  CAST(COUNT(*) AS DOUBLE) AS "count",
  CAST(COUNT(*) AS DOUBLE) AS "users",
  CAST(SUM(v0) AS DOUBLE) AS "main_sum",
  CAST(SUM(v0 * v0) AS DOUBLE) AS "main_sum_squares",
  CAST(SUM(v1) AS DOUBLE) AS "denominator_sum",
  CAST(SUM(v1 * v1) AS DOUBLE) AS "denominator_sum_squares",
  CAST(SUM(v1 * v0) AS DOUBLE) AS "main_denominator_sum_product",
  CAST(SUM(v2) AS DOUBLE) AS "covariate_sum",
  CAST(SUM(v2 * v2) AS DOUBLE) AS "covariate_sum_squares",
  CAST(SUM(v2 * v0) AS DOUBLE) AS "main_covariate_sum_product",
  CAST(SUM(v2 * v1) AS DOUBLE) AS "main_pre_denominator_post_sum_product",
  CAST(SUM(v3) AS DOUBLE) AS "denominator_pre_sum",
  CAST(SUM(v3 * v3) AS DOUBLE) AS "denominator_pre_sum_squares",
  CAST(SUM(v3 * v0) AS DOUBLE) AS "main_post_denominator_pre_sum_product",
  CAST(SUM(v3 * v1) AS DOUBLE) AS "denominator_post_denominator_pre_sum_product",
  CAST(SUM(v3 * v2) AS DOUBLE) AS "main_pre_denominator_pre_sum_product",
  CAST(SUM(r_missing) AS DOUBLE) AS "rows_missing",
  CAST(SUM(r_invalid) AS DOUBLE) AS "rows_invalid"
FROM (
  SELECT
    CAST("arm" AS VARCHAR) AS g0,
    CAST("tier" AS VARCHAR) AS g1,
    SUM(CAST("revenue" AS DOUBLE)) AS v0,
    SUM(CAST("orders" AS DOUBLE)) AS v1,
    AVG(CAST("pre_revenue" AS DOUBLE)) AS v2,
    AVG(CAST("pre_orders" AS DOUBLE)) AS v3,
    SUM(CASE WHEN "arm" IS NULL OR "tier" IS NULL OR "agent" IS NULL OR "revenue" IS NULL OR "orders" IS NULL OR "pre_revenue" IS NULL OR "pre_orders" IS NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS r_missing,
    SUM(CASE WHEN CAST("orders" AS DOUBLE) < CAST(0.0 AS DOUBLE) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS r_invalid
    FROM "analytics"."contacts"
    GROUP BY CAST("arm" AS VARCHAR), CAST("tier" AS VARCHAR), "agent"
) AS u
GROUP BY g0, g1
