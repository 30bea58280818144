-- Q1 (examples/queries/purview-policy-violations.kql) on DataFusion, JSON lines (typed by the runner's explicit schema).
SELECT "UserPrincipalName", "ViolationType", "Timestamp", count(*) AS "Count"
FROM "PurviewAuditLogs"
WHERE "EventAction" = 'PolicyViolation'
GROUP BY "UserPrincipalName", "ViolationType", "Timestamp"
ORDER BY "Timestamp" DESC
