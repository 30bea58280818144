-- Q3, the seed rule (examples/queries/seed-rule-purview-cloudappevents.kql), on DataFusion,
-- JSON lines typed by the runner's explicit schema: Entities is a string of JSON text
-- (decoded by json_entities), ActivityObjects a list of structs, RawEventData a struct.
WITH alerts AS (
    SELECT s.*, unnest(json_entities(s."Entities")) AS e
    FROM "SecurityAlert" s
    WHERE s."TimeGenerated" >= TIMESTAMP '2024-05-02T00:00:00Z'
), l AS (
    -- tostring() of a missing property is "", and =~ is case-insensitive equality.
    SELECT "TimeGenerated", "SystemAlertId", "AlertName", "AlertSeverity", "ProviderName",
           "CompromisedEntity", "Entities", "Type",
           to_json(e) AS "EntitiesDynamicArray",
           coalesce(e['Type'], '') AS "Entitytype",
           coalesce(e['Name'], '') AS "EntityName",
           coalesce(e['UPNSuffix'], '') AS "EntityUPNSuffix"
    FROM alerts
    WHERE lower(coalesce(e['Type'], '')) = 'file' AND coalesce(e['Name'], '') <> ''
), events AS (
    SELECT c.*, unnest(c."ActivityObjects") AS o
    FROM "CloudAppEvents" c
), r AS (
    SELECT "TimeGenerated", "ReportId", "ActionType", "Application", "AccountDisplayName",
           "AccountObjectId", "IPAddress",
           to_json("ActivityObjects") AS "ActivityObjects",
           to_json("RawEventData") AS "RawEventData",
           "Type",
           to_json(o) AS "ActivityObjectsDynamicArray",
           coalesce(o['Type'], '') AS "Entitytype",
           coalesce("RawEventData"['SourceFileName'], '') AS "EntityName",
           coalesce(o['UPNSuffix'], '') AS "EntityUPNSuffix"
    FROM events
    WHERE lower(coalesce(o['Type'], '')) = 'file'
)
-- KQL's join names the right side's clashing columns with a "1" suffix.
SELECT l.*,
       r."TimeGenerated" AS "TimeGenerated1", r."ReportId", r."ActionType", r."Application",
       r."AccountDisplayName", r."AccountObjectId", r."IPAddress", r."ActivityObjects",
       r."RawEventData", r."Type" AS "Type1", r."ActivityObjectsDynamicArray",
       r."Entitytype" AS "Entitytype1", r."EntityName" AS "EntityName1",
       r."EntityUPNSuffix" AS "EntityUPNSuffix1"
FROM l JOIN r ON l."EntityName" = r."EntityName"
