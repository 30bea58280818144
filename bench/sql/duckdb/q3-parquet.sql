-- Q3, the seed rule (examples/queries/seed-rule-purview-cloudappevents.kql), on DuckDB, Parquet from kqlite convert.
WITH alerts AS (
    -- mv-expand of parse_json(Entities): each element once as JSON text (the
    -- expanded dynamic value) and once typed (the properties the query reads);
    -- DuckDB unnests the two lists of one SELECT side by side.
    SELECT s.*,
           unnest(from_json(s.Entities, '["JSON"]')) AS EntitiesDynamicArray,
           unnest(from_json(s.Entities, '[{"Type": "VARCHAR", "Name": "VARCHAR", "UPNSuffix": "VARCHAR"}]')) AS e
    FROM read_parquet('@DATA@/SecurityAlert.parquet') s
    WHERE s.TimeGenerated >= TIMESTAMPTZ '2024-05-02 00:00:00+00'
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
    FROM read_parquet('@DATA@/CloudAppEvents.parquet') c
), r AS (
    SELECT * EXCLUDE (o),
           coalesce(o."Type", '') AS Entitytype,
           coalesce(RawEventData->>'SourceFileName', '') AS EntityName,
           coalesce(o.UPNSuffix, '') AS EntityUPNSuffix
    FROM events
    WHERE lower(coalesce(o."Type", '')) = 'file'
)
-- KQL's join names the right side's clashing columns with a "1" suffix.
SELECT l.*, r.* RENAME (_BilledSize AS _BilledSize1, _IsBillable AS _IsBillable1, TimeGenerated AS TimeGenerated1, "Type" AS Type1, Entitytype AS Entitytype1, EntityName AS EntityName1, EntityUPNSuffix AS EntityUPNSuffix1)
FROM l JOIN r ON l.EntityName = r.EntityName
