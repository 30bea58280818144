-- Q2 (examples/queries/purview-sensitive-data-access.kql) on DataFusion, JSON lines (typed by the runner's explicit schema).
SELECT "UserPrincipalName", "DataAsset", "Timestamp", count(*) AS "Count"
FROM "PurviewAuditLogs"
WHERE "EventAction" = 'DataAccess'
  AND ("SensitivityLabel" = 'Confidential' OR "SensitivityLabel" = 'HighlyConfidential')
GROUP BY "UserPrincipalName", "DataAsset", "Timestamp"
ORDER BY "Timestamp" DESC
