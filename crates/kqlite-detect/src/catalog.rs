//! The fixed vocabularies of a rule file: entity types and their
//! identifiers, tactics, alert properties, and the limits Sentinel enforces.
//!
//! Sources, quoted where each list or limit is used:
//! - the Azure-Sentinel repository's template validation,
//!   `.script/tests/detectionTemplateSchemaValidation/Models/` (the checks
//!   every rule published in the repository passes);
//! - Microsoft Learn, "Map data fields to entities in Microsoft Sentinel"
//!   (learn.microsoft.com/azure/sentinel/map-data-fields-to-entities);
//! - the Microsoft.SecurityInsights REST/SDK reference (KnownAlertProperty,
//!   GroupingConfiguration).

/// One entity type: the identifiers it accepts, and the combinations of
/// which at least one must be mapped.
pub struct EntityType {
    pub name: &'static str,
    pub identifiers: &'static [&'static str],
    /// At least one of these sets must be mapped completely.
    pub required: &'static [&'static [&'static str]],
}

/// `Models/EntityMappingIdentifiers.cs` (EntityIdentifiersMap): for each
/// entity type, `Identifiers` and `RequiredIdentifiers`. The list of types
/// is the repository's `EntityType` enum (`Models/EntityType.cs`).
pub const ENTITY_TYPES: &[EntityType] = &[
    EntityType {
        name: "Account",
        identifiers: &[
            "Name",
            "FullName",
            "NTDomain",
            "DnsDomain",
            "UPNSuffix",
            "Sid",
            "AadTenantId",
            "AadUserId",
            "PUID",
            "IsDomainJoined",
            "DisplayName",
            "ObjectGuid",
        ],
        required: &[
            &["FullName"],
            &["Sid"],
            &["Name"],
            &["AadUserId"],
            &["PUID"],
            &["ObjectGuid"],
        ],
    },
    EntityType {
        name: "AzureResource",
        identifiers: &["ResourceId"],
        required: &[&["ResourceId"]],
    },
    EntityType {
        name: "CloudApplication",
        identifiers: &["AppId", "Name", "InstanceName"],
        required: &[&["AppId"], &["Name"]],
    },
    EntityType {
        name: "DNS",
        identifiers: &["DomainName"],
        required: &[&["DomainName"]],
    },
    EntityType {
        name: "File",
        identifiers: &["Directory", "Name"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "FileHash",
        identifiers: &["Algorithm", "Value"],
        required: &[&["Algorithm", "Value"]],
    },
    EntityType {
        name: "Host",
        identifiers: &[
            "DnsDomain",
            "NTDomain",
            "HostName",
            "FullName",
            "NetBiosName",
            "AzureID",
            "OMSAgentID",
            "OSFamily",
            "OSVersion",
            "IsDomainJoined",
        ],
        required: &[
            &["FullName"],
            &["HostName"],
            &["NetBiosName"],
            &["AzureID"],
            &["OMSAgentID"],
        ],
    },
    EntityType {
        name: "IoTDevice",
        identifiers: &[
            "DeviceId",
            "DeviceName",
            "Manufacturer",
            "Model",
            "FirmwareVersion",
            "OperatingSystem",
            "MacAddress",
            "Protocols",
            "SerialNumber",
            "Source",
            "IoTSecurityAgentId",
            "DeviceType",
        ],
        required: &[&["DeviceId"]],
    },
    EntityType {
        name: "IP",
        identifiers: &["Address"],
        required: &[&["Address"]],
    },
    EntityType {
        name: "Mailbox",
        identifiers: &[
            "MailboxPrimaryAddress",
            "DisplayName",
            "Upn",
            "ExternalDirectoryObjectId",
            "RiskLevel",
        ],
        required: &[&["MailboxPrimaryAddress"]],
    },
    EntityType {
        name: "MailCluster",
        identifiers: &[
            "NetworkMessageIds",
            "CountByDeliveryStatus",
            "CountByThreatType",
            "CountByProtectionStatus",
            "Threats",
            "Query",
            "QueryTime",
            "MailCount",
            "IsVolumeAnomaly",
            "Source",
            "ClusterSourceIdentifier",
            "ClusterSourceType",
            "ClusterQueryStartTime",
            "ClusterQueryEndTime",
            "ClusterGroup",
        ],
        required: &[&["Query"], &["Source"]],
    },
    EntityType {
        name: "MailMessage",
        identifiers: &[
            "Recipient",
            "Urls",
            "Threats",
            "Sender",
            "P1Sender",
            "P1SenderDisplayName",
            "P1SenderDomain",
            "SenderIP",
            "P2Sender",
            "P2SenderDisplayName",
            "P2SenderDomain",
            "ReceivedDate",
            "NetworkMessageId",
            "InternetMessageId",
            "Subject",
            "BodyFingerprintBin1",
            "BodyFingerprintBin2",
            "BodyFingerprintBin3",
            "BodyFingerprintBin4",
            "BodyFingerprintBin5",
            "AntispamDirection",
            "DeliveryAction",
            "DeliveryLocation",
            "Language",
            "ThreatDetectionMethods",
        ],
        required: &[&["NetworkMessageId"], &["Recipient"]],
    },
    EntityType {
        name: "Malware",
        identifiers: &["Name", "Category"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "Process",
        identifiers: &[
            "ProcessId",
            "CommandLine",
            "ElevationToken",
            "CreationTimeUtc",
        ],
        required: &[&["CommandLine"], &["ProcessId"]],
    },
    EntityType {
        name: "RegistryKey",
        identifiers: &["Hive", "Key"],
        required: &[&["Key"], &["Hive"]],
    },
    EntityType {
        name: "RegistryValue",
        identifiers: &["Name", "Value", "ValueType"],
        required: &[&["Name"]],
    },
    EntityType {
        name: "SecurityGroup",
        identifiers: &["DistinguishedName", "SID", "ObjectGuid"],
        required: &[&["DistinguishedName"], &["SID"], &["ObjectGuid"]],
    },
    EntityType {
        name: "SubmissionMail",
        identifiers: &[
            "NetworkMessageId",
            "Timestamp",
            "Recipient",
            "Sender",
            "SenderIp",
            "Subject",
            "ReportType",
            "SubmissionId",
            "SubmissionDate",
            "Submitter",
        ],
        required: &[
            &["SubmissionId"],
            &["NetworkMessageId"],
            &["Recipient"],
            &["Submitter"],
        ],
    },
    EntityType {
        name: "URL",
        identifiers: &["Url"],
        required: &[&["Url"]],
    },
];

/// The entity type named `name`. The repository reads `entityType` with
/// Newtonsoft's `StringEnumConverter` (`Models/EntityMapping.cs`), which
/// matches enum names regardless of case.
pub fn entity_type(name: &str) -> Option<&'static EntityType> {
    ENTITY_TYPES.iter().find(|t| t.name == name).or_else(|| {
        ENTITY_TYPES
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    })
}

/// MITRE ATT&CK tactics a rule may name: the repository's `AttackTactic`
/// enum (`Models/AttackTactic.cs`), read regardless of case.
pub const TACTICS: &[&str] = &[
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "Exfiltration",
    "CommandAndControl",
    "Impact",
    "Reconnaissance",
    "ResourceDevelopment",
    "ImpairProcessControl",
    "InhibitResponseFunction",
];

/// Alert properties `alertDetailsOverride.alertDynamicProperties` can set:
/// KnownAlertProperty ("The V3 alert property", @azure/arm-securityinsight):
/// AlertLink, ConfidenceLevel, ConfidenceScore, ExtendedLinks,
/// ProductComponentName, ProductName, ProviderName, RemediationSteps,
/// SubTechniques, Techniques.
pub const ALERT_PROPERTIES: &[&str] = &[
    "AlertLink",
    "ConfidenceLevel",
    "ConfidenceScore",
    "ExtendedLinks",
    "ProductComponentName",
    "ProductName",
    "ProviderName",
    "RemediationSteps",
    "SubTechniques",
    "Techniques",
];

/// Alert details incidents can be grouped by (GroupingConfiguration
/// .groupByAlertDetails; the AlertDetail values are DisplayName and
/// Severity).
pub const ALERT_DETAILS: &[&str] = &["DisplayName", "Severity"];

/// GroupingConfiguration.matchingMethod values.
pub const MATCHING_METHODS: &[&str] = &["AllEntities", "AnyAlert", "Selected"];

/// Limits, each with where it is written.
pub mod limits {
    use crate::duration::Duration;

    /// `ScheduledTemplateInternalModel.cs`: `[RangeTimeSpanIsoFormat("00:05:00",
    /// "14.00:00:00")]` on both `queryFrequency` and `queryPeriod`.
    pub const MIN_QUERY_INTERVAL: Duration = Duration::from_minutes(5);
    pub const MAX_QUERY_INTERVAL: Duration = Duration::from_days(14);

    /// `FrequencyLimitationForLongPeriodQuery.cs`: "When 'queryPeriod' greater
    /// than or equal to 2 days, the 'queryFrequency' should be greater than or
    /// equal to 1 hour."
    pub const LONG_PERIOD: Duration = Duration::from_days(2);
    pub const LONG_PERIOD_MIN_FREQUENCY: Duration = Duration::from_hours(1);

    /// `ScheduledTemplateInternalModel.cs`: `[Range(0, 10000)]` on
    /// `triggerThreshold`.
    pub const MAX_TRIGGER_THRESHOLD: i64 = 10_000;

    /// `QueryBasedTemplateInternalModel.cs`: `[StringLength(10000,
    /// MinimumLength = 1)]` on `query`.
    pub const MAX_QUERY_CHARS: usize = 10_000;

    /// `AnalyticsTemplateInternalModelBase.cs`: `[StringLength(256)]` on
    /// `name`, `[StringLength(5000)]` on `description`.
    pub const MAX_NAME_CHARS: usize = 256;
    pub const MAX_DESCRIPTION_CHARS: usize = 5000;

    /// `QueryBasedTemplateInternalModel.cs`: `[StringLength(20)]` on
    /// `version` ("Version should be quite short (for example \"1.2.2\")").
    pub const MAX_VERSION_CHARS: usize = 20;

    /// `[ValidEntityMappings(entityMappingsMinLength: 1,
    /// entityMappingsMaxLength: 5, fieldMappingsMinLength: 1,
    /// fieldMappingsMaxLength: 3)]`; Microsoft Learn: "You can define up to
    /// three identifiers for a given entity."
    pub const MAX_ENTITY_MAPPINGS: usize = 5;
    pub const MAX_FIELD_MAPPINGS: usize = 3;

    /// `ValidEntityMappingsAttribute.cs` and the customDetails attributes:
    /// "500 is the max length of a column name in LA".
    pub const MAX_COLUMN_NAME_CHARS: usize = 500;

    /// `[DictionaryLength(20)]`, `[DictionaryMaxKeyAndValueLengths(maxKeyLength:
    /// 20, maxValueLength: 500)]` on `customDetails`.
    pub const MAX_CUSTOM_DETAILS: usize = 20;
    pub const MAX_CUSTOM_DETAIL_KEY_CHARS: usize = 20;

    /// `AlertDetailsOverride.cs`: `alertDisplayNameFormat` `[StringLength(256,
    /// MinimumLength = 1)]`, `alertDescriptionFormat` `[StringLength(5000,
    /// MinimumLength = 1)]`, both `[MaxAmountOfDynamicContentPlaceHolders(3)]`.
    pub const MAX_DISPLAY_NAME_FORMAT_CHARS: usize = 256;
    pub const MAX_DESCRIPTION_FORMAT_CHARS: usize = 5000;
    pub const MAX_PLACEHOLDERS: usize = 3;
}

/// The closest of `candidates` to `name`, if close enough to be a typo
/// (the same rule as the query binder's did-you-mean).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    kqlite_syntax::suggest::did_you_mean(name, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_match_regardless_of_case() {
        assert_eq!(entity_type("ip").map(|t| t.name), Some("IP"));
        assert_eq!(entity_type("Account").map(|t| t.name), Some("Account"));
        assert!(entity_type("User").is_none());
        assert_eq!(ENTITY_TYPES.len(), 19);
    }

    #[test]
    fn did_you_mean() {
        assert_eq!(closest("Adress", ["Address"]), Some("Address"));
        assert_eq!(closest("Nmae", ["Name", "FullName"]), Some("Name"));
        assert_eq!(closest("Zzz", ["Address"]), None);
    }
}
