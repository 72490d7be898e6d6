SELECT
  CAST(COUNT(*) AS FLOAT64) AS p_rows,
  CAST(COUNT(DISTINCT `agent`) AS FLOAT64) AS p_units,
  AVG(CAST(`handle_seconds` AS FLOAT64)) AS m0_v0,
  AVG(CAST(1.0 AS FLOAT64)) AS m0_v1,
  AVG(CAST(`pre_revenue` AS FLOAT64)) AS m0_v2,
  AVG(CAST(`pre_orders` AS FLOAT64)) AS m0_v3,
  AVG(CAST(`revenue` AS FLOAT64)) AS m1_v0,
  AVG(CAST(`orders` AS FLOAT64)) AS m1_v1,
  AVG(CAST(`pre_revenue` AS FLOAT64)) AS m1_v2,
  AVG(CAST(`pre_orders` AS FLOAT64)) AS m1_v3
FROM (
  SELECT `agent`, `arm`, `handle_seconds`, `orders`, `pre_orders`, `pre_revenue`, `revenue`, `tier`
  FROM `analytics`.`contacts`
  LIMIT 1000
) AS s
