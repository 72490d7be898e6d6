SELECT
  SUM(CASE WHEN CAST(`arm` AS STRING) = 'control' THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS arm0_rows,
  SUM(CASE WHEN CAST(`arm` AS STRING) = 'treatment' THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS arm1_rows,
  SUM(CASE WHEN `arm` IS NULL THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS arm_missing,
  SUM(CASE WHEN CAST(`arm` AS STRING) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `handle_seconds` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS k0_skipped,
  SUM(CASE WHEN CAST(`arm` AS STRING) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `revenue` IS NOT NULL AND `orders` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS k1_skipped,
  SUM(CASE WHEN CAST(`arm` AS STRING) IN ('control', 'treatment') AND `revenue` IS NOT NULL AND `orders` IS NOT NULL AND (CAST(`orders` AS DOUBLE) < CAST(0.0 AS DOUBLE)) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS k1_invalid,
  SUM(CASE WHEN CAST(`arm` AS STRING) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS k2_skipped,
  SUM(CASE WHEN CAST(`arm` AS STRING) IN ('control', 'treatment') AND `fcr` IS NOT NULL AND (CAST(`fcr` AS DOUBLE) <> CAST(0.0 AS DOUBLE) AND CAST(`fcr` AS DOUBLE) <> CAST(1.0 AS DOUBLE)) THEN CAST(1.0 AS DOUBLE) ELSE CAST(0.0 AS DOUBLE) END) AS k2_invalid
FROM `analytics`.`contacts`
