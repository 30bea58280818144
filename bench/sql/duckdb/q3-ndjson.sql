-- Q3, the seed rule (examples/queries/seed-rule-purview-cloudappevents.kql), on DuckDB, JSON lines.
WITH alerts AS (
    -- mv-expand of parse_json(Entities): each element once as JSON text (the
    -- expanded dynamic value) and once typed (the properties the query reads);
    -- DuckDB unnests the two lists of one SELECT side by side.
    SELECT s.*,
           unnest(from_json(s.Entities, '["JSON"]')) AS EntitiesDynamicArray,
           unnest(from_json(s.Entities, '[{"Type": "VARCHAR", "Name": "VARCHAR", "UPNSuffix": "VARCHAR"}]')) AS e
    FROM read_ndjson('@DATA@/SecurityAlert.ndjson', columns = {
        TimeGenerated: 'TIMESTAMP', SystemAlertId: 'VARCHAR', AlertName: 'VARCHAR',
        AlertSeverity: 'VARCHAR', ProviderName: 'VARCHAR', CompromisedEntity: 'VARCHAR',
        Entities: 'VARCHAR', "Type": 'VARCHAR'}) s
    WHERE s.TimeGenerated >= TIMESTAMP '2024-05-02 00:00:00'
), l AS (
    -- tostring() of a missing property is "", and =~ is case-insensitive equality.
    SELECT * EXCLUDE (e),
           coalesce(e."Type", '') AS Entitytype,
           coalesce(e."Name", '') AS EntityName,
           coalesce(e.UPNSuffix, '') AS EntityUPNSuffix
    FROM alerts
    WHERE lower(coalesce(e."Type", '')) = 'file' AND coalesce(e."Name", '') <> ''
), events AS (
    SELECT c.*,
           unnest(from_json(c.ActivityObjects, '["JSON"]')) AS ActivityObjectsDynamicArray,
           unnest(from_json(c.ActivityObjects, '[{"Type": "VARCHAR", "UPNSuffix": "VARCHAR"}]')) AS o
    FROM read_ndjson('@DATA@/CloudAppEvents.ndjson', columns = {
        TimeGenerated: 'TIMESTAMP', ReportId: 'VARCHAR', ActionType: 'VARCHAR',
        Application: 'VARCHAR', AccountDisplayName: 'VARCHAR', AccountObjectId: 'VARCHAR',
        IPAddress: 'VARCHAR', ActivityObjects: 'JSON', RawEventData: 'JSON', "Type": 'VARCHAR'}) c
), r AS (
    SELECT * EXCLUDE (o),
           coalesce(o."Type", '') AS Entitytype,
           coalesce(RawEventData->>'SourceFileName', '') AS EntityName,
           coalesce(o.UPNSuffix, '') AS EntityUPNSuffix
    FROM events
    WHERE lower(coalesce(o."Type", '')) = 'file'
)
-- KQL's join names the right side's clashing columns with a "1" suffix.
SELECT l.*, r.* RENAME (TimeGenerated AS TimeGenerated1, "Type" AS Type1, Entitytype AS Entitytype1, EntityName AS EntityName1, EntityUPNSuffix AS EntityUPNSuffix1)
FROM l JOIN r ON l.EntityName = r.EntityName
