SELECT CAST("agent" AS VARCHAR) AS "unit"
FROM "analytics"."contacts"
WHERE "agent" IS NOT NULL AND "arm" IS NOT NULL
GROUP BY "agent"
HAVING COUNT(DISTINCT "arm") > 1
LIMIT 1
