-- Q1 (examples/queries/purview-policy-violations.kql) on DataFusion, Parquet from kqlite convert.
SELECT "UserPrincipalName", "ViolationType", "Timestamp", count(*) AS "Count"
FROM "PurviewAuditLogs"
WHERE "EventAction" = 'PolicyViolation'
GROUP BY "UserPrincipalName", "ViolationType", "Timestamp"
ORDER BY "Timestamp" DESC
