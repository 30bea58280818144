-- Q3, the seed rule (examples/queries/seed-rule-purview-cloudappevents.kql), on DataFusion,
-- Parquet from kqlite convert: the dynamic columns are JSON text there, decoded by
-- json_entities / json_activity_objects / json_raw_event_data.
WITH alerts AS (
    SELECT s.*, unnest(json_entities(s."Entities")) AS e
    FROM "SecurityAlert" s
    WHERE s."TimeGenerated" >= TIMESTAMP '2024-05-02T00:00:00Z'
), l AS (
    -- tostring() of a missing property is "", and =~ is case-insensitive equality.
    SELECT * EXCLUDE (e),
           to_json(e) AS "EntitiesDynamicArray",
           coalesce(e['Type'], '') AS "Entitytype",
           coalesce(e['Name'], '') AS "EntityName",
           coalesce(e['UPNSuffix'], '') AS "EntityUPNSuffix"
    FROM alerts
    WHERE lower(coalesce(e['Type'], '')) = 'file' AND coalesce(e['Name'], '') <> ''
), events AS (
    SELECT c.*, unnest(json_activity_objects(c."ActivityObjects")) AS o
    FROM "CloudAppEvents" c
), r AS (
    SELECT * EXCLUDE (o),
           to_json(o) AS "ActivityObjectsDynamicArray",
           coalesce(o['Type'], '') AS "Entitytype",
           coalesce(json_raw_event_data("RawEventData")['SourceFileName'], '') AS "EntityName",
           coalesce(o['UPNSuffix'], '') AS "EntityUPNSuffix"
    FROM events
    WHERE lower(coalesce(o['Type'], '')) = 'file'
)
-- KQL's join names the right side's clashing columns with a "1" suffix.
SELECT l.*,
       r.* EXCLUDE ("_BilledSize", "_IsBillable", "TimeGenerated", "Type", "Entitytype",
                    "EntityName", "EntityUPNSuffix"),
       r."_BilledSize" AS "_BilledSize1", r."_IsBillable" AS "_IsBillable1",
       r."TimeGenerated" AS "TimeGenerated1", r."Type" AS "Type1",
       r."Entitytype" AS "Entitytype1", r."EntityName" AS "EntityName1",
       r."EntityUPNSuffix" AS "EntityUPNSuffix1"
FROM l JOIN r ON l."EntityName" = r."EntityName"
