-- Q2 (examples/queries/purview-sensitive-data-access.kql) on DuckDB, Parquet from kqlite convert.
SELECT UserPrincipalName, DataAsset, "Timestamp", count(*) AS "Count"
FROM read_parquet('@DATA@/PurviewAuditLogs.parquet')
WHERE EventAction = 'DataAccess'
  AND (SensitivityLabel = 'Confidential' OR SensitivityLabel = 'HighlyConfidential')
GROUP BY UserPrincipalName, DataAsset, "Timestamp"
ORDER BY "Timestamp" DESC
