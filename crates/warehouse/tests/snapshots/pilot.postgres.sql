SELECT
  CAST(COUNT(*) AS DOUBLE PRECISION) AS p_rows,
  CAST(COUNT(DISTINCT "agent") AS DOUBLE PRECISION) AS p_units,
  AVG(CAST("handle_seconds" AS DOUBLE PRECISION)) AS m0_v0,
  AVG(CAST(1.0 AS DOUBLE PRECISION)) AS m0_v1,
  AVG(CAST("pre_revenue" AS DOUBLE PRECISION)) AS m0_v2,
  AVG(CAST("pre_orders" AS DOUBLE PRECISION)) AS m0_v3,
  AVG(CAST("revenue" AS DOUBLE PRECISION)) AS m1_v0,
  AVG(CAST("orders" AS DOUBLE PRECISION)) AS m1_v1,
  AVG(CAST("pre_revenue" AS DOUBLE PRECISION)) AS m1_v2,
  AVG(CAST("pre_orders" AS DOUBLE PRECISION)) AS m1_v3
FROM (
  SELECT "agent", "arm", "handle_seconds", "orders", "pre_orders", "pre_revenue", "revenue", "tier"
  FROM "analytics"."contacts"
  LIMIT 1000
) AS s
