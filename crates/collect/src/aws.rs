//! The AWS IAM credential report.

use evident_core::facts::{AccessKey, Account};

use crate::{ImportError, Imported, bad, instant};

/// The report's documented columns; a file without them is not a credential report.
const REQUIRED: &[&str] = &[
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
];

pub(crate) fn credential_report(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(file, format!("not a CSV file: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            file,
            format!(
                "not an AWS IAM credential report: missing column(s) {}",
                missing.join(", ")
            ),
        ));
    }
    let col = |name: &str| header.iter().position(|h| h == name).expect("checked above");
    let mut accounts = Vec::new();
    let mut account_id = None;
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| bad(file, format!("line {line}: {e} (is the file truncated?)")))?;
        for (name, cell) in header.iter().zip(row.iter()) {
            evident_core::text::storable(cell).map_err(|e| bad(file, format!("line {line}: {name}: {e}")))?;
        }
        let get = |name: &str| row.get(col(name)).unwrap_or("").trim();
        let arn = get("arn");
        // arn:aws:iam::<account>:user/<name> or :root
        let id = arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| bad(file, format!("line {line}: arn '{arn}' is not an IAM ARN")))?;
        account_id.get_or_insert_with(|| id.to_string());
        let user = get("user");
        let root = user == "<root_account>";
        let flag = |name: &str| get(name) == "true";
        let keys = (1..=2)
            .map(|n| AccessKey {
                label: format!("access_key_{n}"),
                active: flag(&format!("access_key_{n}_active")),
                last_rotated: instant(get(&format!("access_key_{n}_last_rotated"))),
            })
            .filter(|k| k.active || k.last_rotated.is_some())
            .collect();
        let last_activity = [
            get("password_last_used"),
            get("access_key_1_last_used_date"),
            get("access_key_2_last_used_date"),
        ]
        .into_iter()
        .filter_map(instant)
        .max();
        accounts.push(Account {
            system: String::new(),
            external_id: arn.to_string(),
            username: user.to_string(),
            email: user.contains('@').then(|| user.to_lowercase()),
            // Users with a console password are people; key-only users are machines.
            human: root || flag("password_enabled"),
            mfa: Some(flag("mfa_active")),
            admin: root,
            root,
            created_at: instant(get("user_creation_time")),
            last_activity,
            disabled_at: None,
            active: true,
            access_keys: keys,
        });
    }
    let system = format!(
        "aws:{}",
        account_id.ok_or_else(|| bad(file, "the report lists no users"))?
    );
    for a in &mut accounts {
        a.system = system.clone();
    }
    Ok(Imported {
        system,
        accounts,
        findings: Vec::new(),
        scope: None,
        observed_at: None,
        replaces_accounts: true,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    #[test]
    fn reads_root_people_and_machines() {
        let csv = format!(
            "{HEADER}\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2025-01-01T00:00:00+00:00,not_supported,not_supported,false,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
             dana@acme.example,arn:aws:iam::111122223333:user/dana@acme.example,2022-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
             ci-deploy,arn:aws:iam::111122223333:user/ci-deploy,2022-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-10-01T00:00:00+00:00,2026-11-20T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let got = credential_report("report.csv", csv.as_bytes()).unwrap();
        assert_eq!(got.system, "aws:111122223333");
        let root = &got.accounts[0];
        assert!(root.root && root.human && root.admin && root.mfa == Some(false));
        assert_eq!(root.access_keys.len(), 1);
        assert!(root.access_keys[0].active);
        let dana = &got.accounts[1];
        assert_eq!(dana.email.as_deref(), Some("dana@acme.example"));
        assert!(dana.human && !dana.root);
        let ci = &got.accounts[2];
        assert!(!ci.human, "no console password: a machine identity");
        assert_eq!(ci.last_activity, instant("2026-11-20T00:00:00+00:00"));
    }

    #[test]
    fn a_cell_that_cannot_be_stored_is_named_by_line_and_column() {
        let csv = format!(
            "{HEADER}\nci\0deploy,arn:aws:iam::111122223333:user/ci-deploy,2022-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let err = credential_report("report.csv", csv.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "report.csv: line 2: user: contains a NUL character (U+0000) at character 3, which cannot be stored"
        );
    }

    #[test]
    fn refuses_other_files() {
        let err = credential_report("x.csv", b"email,name\na@b.c,A\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.csv: not an AWS IAM credential report: missing column(s) user, arn"),
            "{err}"
        );
        let truncated = format!("{HEADER}\n<root_account>,arn:aws:iam::1:root,2020");
        assert!(
            credential_report("t.csv", truncated.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
    }

    #[test]
    fn reads_the_reference_sample_when_present() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/samples/aws_iam_credential_report_sample.csv"
        );
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("SKIPPED: {path} not found (../shared/reference is not beside this clone)");
            return;
        };
        let got = credential_report("sample.csv", &bytes).unwrap();
        assert!(got.accounts.iter().any(|a| a.root));
        assert!(got.accounts.len() >= 2);
    }
}
