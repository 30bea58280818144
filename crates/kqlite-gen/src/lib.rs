//! Deterministic sample data for the seed detections: SecurityAlert,
//! CloudAppEvents and PurviewAuditLogs rows, as Log Analytics exports them
//! (one JSON object per line), whose file names, users and labels overlap
//! so that the seed rule's join and the Purview queries return rows.
//!
//! The same seed and row count always give the same bytes. File names come
//! from a pool that grows with the row count (one name per ten rows), so the
//! seed rule's join output grows linearly rather than quadratically.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::io::{self, Write};

/// splitmix64: small, fast and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub rows: usize,
    pub seed: u64,
    /// The end of the generated time range; rows fall in the 40 days before
    /// it (so a `ago(30d)` filter keeps about three quarters of them).
    pub end: DateTime<Utc>,
}

const USERS: usize = 200;
const SEVERITIES: &[&str] = &["Low", "Medium", "High", "Informational"];
const ALERTS: &[&str] = &[
    "Suspicious file download",
    "Mass download by a single user",
    "Sensitive file shared externally",
    "Unusual file deletion activity",
];
const ACTIONS: &[&str] = &[
    "FileDownloaded",
    "FileUploaded",
    "FileAccessed",
    "FileModified",
];
const APPS: &[&str] = &[
    "Microsoft SharePoint Online",
    "Microsoft OneDrive for Business",
];
/// Automation behind the seed rule's false-positive scenarios (seed text,
/// "Filter/Exclusion" lines): these touch the same files as users do, so
/// the rule as written alerts on them and each exclusion has rows to drop.
const BENIGN: &[(&str, &str)] = &[
    ("Azure AD Connect", "svc-aadconnect@contoso.com"),
    ("Microsoft Identity Manager (MIIS)", "svc-mim@contoso.com"),
    ("Purview Export Job", "svc-purview-export@contoso.com"),
    (
        "Purview Compliance Report Export",
        "svc-purview-export@contoso.com",
    ),
    ("Azure DevOps", "svc-devops-pipeline@contoso.com"),
    ("Microsoft 365 admin center", "admin-helpdesk@contoso.com"),
    ("Purview Access Log Review", "admin-helpdesk@contoso.com"),
    ("Purview Compliance Export", "svc-siem-sync@contoso.com"),
    ("SIEM Data Sync Job", "svc-siem-sync@contoso.com"),
];
const EVENT_ACTIONS: &[&str] = &[
    "DataAccess",
    "PolicyViolation",
    "DataExport",
    "DataShare",
    "LabelChange",
];
const LABELS: &[&str] = &["General", "Confidential", "HighlyConfidential", "Public"];
const VIOLATIONS: &[&str] = &["UnauthorizedAccess", "ExternalSharing", "DataExfiltration"];
const WORKLOADS: &[&str] = &["SharePoint", "OneDrive", "Exchange"];

fn file_pool(rows: usize) -> usize {
    (rows / 10).max(10)
}

pub fn file_name(k: usize) -> String {
    let ext = ["docx", "xlsx", "pdf", "pptx"][k % 4];
    format!("Project-{k:05}.{ext}")
}

fn user(k: usize) -> String {
    format!("user{k:03}@contoso.com")
}

/// A time in the 40 days before `end`, to the 100 ns tick, as Log Analytics
/// writes it (seven fractional digits).
fn time(rng: &mut Rng, end: DateTime<Utc>) -> String {
    let ticks = rng.below(40 * 86_400 * 10_000_000) as i64;
    let t = end - chrono::Duration::nanoseconds(ticks * 100);
    let sub_ticks = t.timestamp_subsec_nanos() / 100;
    format!("{}.{sub_ticks:07}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// One SecurityAlert row. `Entities` is a string holding a JSON array, as in
/// the real table: an account, and usually a file (type spelled in varying
/// case), sometimes a file without a name or an IP.
pub fn security_alert(rng: &mut Rng, spec: &Spec) -> Value {
    let u = rng.below(USERS as u64) as usize;
    let mut entities = vec![json!({
        "$id": "2", "Type": "account", "Name": format!("user{u:03}"), "UPNSuffix": "contoso.com"
    })];
    let pool = file_pool(spec.rows) as u64;
    match rng.below(10) {
        0..=5 => entities.push(json!({
            "$id": "3",
            "Type": *rng.pick(&["file", "File", "FILE"]),
            "Name": file_name(rng.below(pool) as usize),
            "Directory": "/sites/projects/Shared Documents"
        })),
        6 => entities.push(json!({"$id": "3", "Type": "file", "Name": ""})),
        7 => entities.push(json!({"$id": "3", "Type": "ip", "Address": format!("10.1.{}.{}", rng.below(256), rng.below(256))})),
        _ => {}
    }
    if rng.chance(10) {
        // A second file in the same alert.
        entities
            .push(json!({"$id": "4", "Type": "file", "Name": file_name(rng.below(pool) as usize)}));
    }
    json!({
        "TimeGenerated": time(rng, spec.end),
        "SystemAlertId": rng.guid(),
        "AlertName": *rng.pick(ALERTS),
        "AlertSeverity": *rng.pick(SEVERITIES),
        "ProviderName": "MCAS",
        "CompromisedEntity": user(u),
        "Entities": Value::Array(entities).to_string(),
        "Type": "SecurityAlert"
    })
}

/// One CloudAppEvents row: `ActivityObjects` (an array of objects, some of
/// them files) and `RawEventData` (a bag with `SourceFileName`) are nested
/// JSON, as the export writes dynamic columns.
pub fn cloud_app_event(rng: &mut Rng, spec: &Spec) -> Value {
    let u = rng.below(USERS as u64) as usize;
    let pool = file_pool(spec.rows) as u64;
    let file = file_name(rng.below(pool) as usize);
    let mut objects = Vec::new();
    let n = rng.below(3);
    for _ in 0..n {
        objects.push(json!({"Type": *rng.pick(&["File", "file", "Folder"]), "Name": file}));
    }
    if rng.chance(30) {
        objects.push(json!({"Type": "User", "Name": user(u)}));
    }
    // 8% of events come from the automation of a false-positive scenario:
    // its application, and a service or admin account.
    let (app, account, display) = if rng.chance(8) {
        let (app, account) = *rng.pick(BENIGN);
        (app, account.to_string(), app.to_string())
    } else {
        (*rng.pick(APPS), user(u), format!("User {u:03}"))
    };
    json!({
        "TimeGenerated": time(rng, spec.end),
        "ReportId": rng.guid(),
        "ActionType": *rng.pick(ACTIONS),
        "Application": app,
        "AccountDisplayName": display,
        "AccountObjectId": format!("00000000-0000-0000-0000-{u:012}"),
        "IPAddress": format!("10.2.{}.{}", rng.below(256), rng.below(256)),
        "ActivityObjects": objects,
        "RawEventData": {"SourceFileName": file, "Workload": "SharePoint", "UserId": account},
        "Type": "CloudAppEvents"
    })
}

/// One PurviewAuditLogs row (the seed guide's custom table).
pub fn purview_event(rng: &mut Rng, spec: &Spec) -> Value {
    let u = rng.below(USERS as u64) as usize;
    let action = *rng.pick(EVENT_ACTIONS);
    let pool = file_pool(spec.rows) as u64;
    // Timestamps on the minute, so the guide's per-Timestamp counts group.
    let minutes = rng.below(40 * 24 * 60) as i64;
    let ts = (spec.end - chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    json!({
        "TimeGenerated": time(rng, spec.end),
        "Timestamp": ts,
        "EventAction": action,
        "SensitivityLabel": *rng.pick(LABELS),
        "UserPrincipalName": user(u),
        "DataAsset": file_name(rng.below(pool) as usize),
        "ViolationType": if action == "PolicyViolation" { *rng.pick(VIOLATIONS) } else { "" },
        "ClientIP": format!("10.3.{}.{}", rng.below(256), rng.below(256)),
        "Workload": *rng.pick(WORKLOADS),
        "PolicyName": if action == "PolicyViolation" { "DLP - Confidential data" } else { "" },
        "Type": "PurviewAuditLogs"
    })
}

/// The three tables, in the order (name, row generator).
pub type Generator = fn(&mut Rng, &Spec) -> Value;

pub const TABLES: &[(&str, Generator)] = &[
    ("SecurityAlert", security_alert),
    ("CloudAppEvents", cloud_app_event),
    ("PurviewAuditLogs", purview_event),
];

/// Writes `spec.rows` rows of one table as JSON lines.
pub fn write_table(w: &mut dyn Write, table: usize, spec: &Spec) -> io::Result<()> {
    let (_, generate) = TABLES[table];
    // Each table has its own stream, so row counts do not shift the others.
    let mut rng = Rng::new(spec.seed ^ ((table as u64 + 1) * 0x1000_0001));
    for _ in 0..spec.rows {
        serde_json::to_writer(&mut *w, &generate(&mut rng, spec))?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
