-- Q1 (examples/queries/purview-policy-violations.kql) on DuckDB, JSON lines.
SELECT UserPrincipalName, ViolationType, "Timestamp", count(*) AS "Count"
FROM read_ndjson('@DATA@/PurviewAuditLogs.ndjson', columns = {
    TimeGenerated: 'TIMESTAMP', "Timestamp": 'TIMESTAMP', EventAction: 'VARCHAR',
    SensitivityLabel: 'VARCHAR', UserPrincipalName: 'VARCHAR', DataAsset: 'VARCHAR',
    ViolationType: 'VARCHAR', ClientIP: 'VARCHAR', Workload: 'VARCHAR',
    PolicyName: 'VARCHAR', "Type": 'VARCHAR'})
WHERE EventAction = 'PolicyViolation'
GROUP BY UserPrincipalName, ViolationType, "Timestamp"
ORDER BY "Timestamp" DESC
