SELECT
  CAST(COUNT(*) AS DOUBLE) AS p_rows,
  CAST(COUNT(DISTINCT `agent`) AS DOUBLE) AS p_units,
  AVG(CAST(`handle_seconds` AS DOUBLE)) AS m0_v0,
  AVG(CAST(1.0 AS DOUBLE)) AS m0_v1,
  AVG(CAST(`pre_revenue` AS DOUBLE)) AS m0_v2,
  AVG(CAST(`pre_orders` AS DOUBLE)) AS m0_v3,
  AVG(CAST(`revenue` AS DOUBLE)) AS m1_v0,
  AVG(CAST(`orders` AS DOUBLE)) AS m1_v1,
  AVG(CAST(`pre_revenue` AS DOUBLE)) AS m1_v2,
  AVG(CAST(`pre_orders` AS DOUBLE)) AS m1_v3
FROM (
  SELECT `agent`, `arm`, `handle_seconds`, `orders`, `pre_orders`, `pre_revenue`, `revenue`, `tier`
  FROM `analytics`.`contacts`
  LIMIT 1000
) AS s
