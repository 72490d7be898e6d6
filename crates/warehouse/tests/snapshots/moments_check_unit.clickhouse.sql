SELECT
  SUM(CASE WHEN CAST(`arm` AS String) = 'control' THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS arm0_rows,
  SUM(CASE WHEN CAST(`arm` AS String) = 'treatment' THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS arm1_rows,
  SUM(CASE WHEN `arm` IS NULL THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS arm_missing,
  SUM(CASE WHEN CAST(`arm` AS String) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `handle_seconds` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS k0_skipped,
  SUM(CASE WHEN CAST(`arm` AS String) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `revenue` IS NOT NULL AND `orders` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS k1_skipped,
  SUM(CASE WHEN CAST(`arm` AS String) IN ('control', 'treatment') AND `revenue` IS NOT NULL AND `orders` IS NOT NULL AND (CAST(`orders` AS Float64) < CAST(0.0 AS Float64)) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS k1_invalid,
  SUM(CASE WHEN CAST(`arm` AS String) IN ('control', 'treatment') AND NOT (`agent` IS NOT NULL AND `fcr` IS NOT NULL AND `pre_revenue` IS NOT NULL AND `pre_csat` IS NOT NULL) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS k2_skipped,
  SUM(CASE WHEN CAST(`arm` AS String) IN ('control', 'treatment') AND `fcr` IS NOT NULL AND (CAST(`fcr` AS Float64) <> CAST(0.0 AS Float64) AND CAST(`fcr` AS Float64) <> CAST(1.0 AS Float64)) THEN CAST(1.0 AS Float64) ELSE CAST(0.0 AS Float64) END) AS k2_invalid
FROM `analytics`.`contacts`
