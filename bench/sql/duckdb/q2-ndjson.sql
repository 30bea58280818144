-- Q2 (examples/queries/purview-sensitive-data-access.kql) on DuckDB, JSON lines.
SELECT UserPrincipalName, DataAsset, "Timestamp", count(*) AS "Count"
FROM read_ndjson('@DATA@/PurviewAuditLogs.ndjson', columns = {
    TimeGenerated: 'TIMESTAMP', "Timestamp": 'TIMESTAMP', EventAction: 'VARCHAR',
    SensitivityLabel: 'VARCHAR', UserPrincipalName: 'VARCHAR', DataAsset: 'VARCHAR',
    ViolationType: 'VARCHAR', ClientIP: 'VARCHAR', Workload: 'VARCHAR',
    PolicyName: 'VARCHAR', "Type": 'VARCHAR'})
WHERE EventAction = 'DataAccess'
  AND (SensitivityLabel = 'Confidential' OR SensitivityLabel = 'HighlyConfidential')
GROUP BY UserPrincipalName, DataAsset, "Timestamp"
ORDER BY "Timestamp" DESC
