-- Q1 (examples/queries/purview-policy-violations.kql) on DuckDB, Parquet from kqlite convert.
SELECT UserPrincipalName, ViolationType, "Timestamp", count(*) AS "Count"
FROM read_parquet('@DATA@/PurviewAuditLogs.parquet')
WHERE EventAction = 'PolicyViolation'
GROUP BY UserPrincipalName, ViolationType, "Timestamp"
ORDER BY "Timestamp" DESC
