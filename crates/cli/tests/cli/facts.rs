//! Importers of real export formats through the binary: facts, provenance, wrong files, the
//! leaver scenario, and findings tracked across scans.

use super::common::*;

on_both_databases!(
    leaver_with_active_account_fails_until_excluded,
    raw_exports_are_kept_as_evidence_and_wrong_files_change_nothing,
    findings_are_tracked_across_scans_against_the_sla,
    code_review_from_github_exports,
    devices_from_osquery,
    reports_with_text_that_cannot_be_stored_are_refused,
    severities_we_do_not_know_are_kept_counted_as_unknown_and_reported,
);

const CRED_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn okta_users() -> String {
    format!(
        r#"[
  {{"id": "00u1", "status": "ACTIVE", "created": "2023-01-10T00:00:00.000Z", "lastLogin": "{}T08:00:00.000Z",
    "profile": {{"login": "ana@acme.example", "email": "ana@acme.example"}}}},
  {{"id": "00u2", "status": "ACTIVE", "created": "2023-01-10T00:00:00.000Z", "lastLogin": "{}T08:00:00.000Z",
    "profile": {{"login": "leo@acme.example", "email": "leo@acme.example"}}}}
]"#,
        day(-1),
        day(-20)
    )
}

const FACTORS_ANA: &str = r#"[{"id": "f1", "factorType": "webauthn", "status": "ACTIVE",
  "_links": {"self": {"href": "https://acme.okta.com/api/v1/users/00u1/factors/f1"}}}]"#;

fn leaver_with_active_account_fails_until_excluded(b: Backend) {
    let env = Env::new(b);
    env.init();
    let hr = format!(
        "email,name,employment_type,start_date,end_date,manager_email\nana@acme.example,Ana,employee,2022-01-10,,\nleo@acme.example,Leo,employee,2023-03-01,{},ana@acme.example\n",
        day(-10)
    );
    env.ok(&[
        "import",
        "people",
        env.write_file("hr.csv", hr.as_bytes()).to_str().unwrap(),
    ]);
    let users = env.write_file("okta-users.json", okta_users().as_bytes());
    let factors = env.write_file("okta-factors-ana.json", FACTORS_ANA.as_bytes());
    let imported = env.json(&[
        "import",
        "okta-users",
        users.to_str().unwrap(),
        "--with",
        factors.to_str().unwrap(),
    ]);
    assert_eq!(imported["accounts"], 2);

    let run = env.json(&["check", "run"]);
    let leaver = result(&run, "leaver-accounts-disabled");
    assert_eq!(leaver["status"], "fail");
    assert_eq!(leaver["failures"][0]["record"], "okta/leo@acme.example");
    let reason = leaver["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("leo@acme.example left on") && reason.contains("still active"),
        "{reason}"
    );
    let mfa = result(&run, "mfa-human-accounts");
    assert_eq!(
        mfa["failures"][0]["record"], "okta/leo@acme.example",
        "no active factor for Leo"
    );

    env.ok(&[
        "check",
        "exclude",
        "leaver-accounts-disabled",
        "--record",
        "okta/leo@acme.example",
        "--reason",
        "Kept for two weeks to hand over the on-call rota; access limited to PagerDuty",
        "--owner",
        "ana@acme.example",
        "--expires",
        &day(4),
    ]);
    let run = env.json(&["check", "run", "--check", "leaver-accounts-disabled"]);
    let leaver = result(&run, "leaver-accounts-disabled");
    assert_eq!(
        (leaver["status"].as_str(), leaver["excluded"].as_u64()),
        (Some("pass"), Some(1))
    );
    assert_eq!(leaver["exclusions"][0]["record"], "okta/leo@acme.example");
    assert!(
        leaver["exclusions"][0]["exclusion_reason"]
            .as_str()
            .unwrap()
            .contains("hand over")
    );
    let table = env.ok_stdout(&["check", "exclusions"]);
    assert!(
        table.contains("okta/leo@acme.example") && table.contains(&day(4)),
        "{table}"
    );

    // Deprovisioned in the next export: the check passes on its own.
    let users = okta_users().replacen(
        r#""id": "00u2", "status": "ACTIVE""#,
        &format!(
            r#""id": "00u2", "status": "DEPROVISIONED", "statusChanged": "{}T10:00:00.000Z""#,
            day(-9)
        ),
        1,
    );
    env.ok(&[
        "import",
        "okta-users",
        env.write_file("okta2.json", users.as_bytes()).to_str().unwrap(),
        "--with",
        factors.to_str().unwrap(),
    ]);
    let run = env.json(&["check", "run", "--check", "leaver-accounts-disabled"]);
    assert_eq!(result(&run, "leaver-accounts-disabled")["failed"], 0);
    env.assert_verified();
}

fn raw_exports_are_kept_as_evidence_and_wrong_files_change_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    let report = format!(
        "{CRED_HEADER}\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,{d}T00:00:00+00:00,not_supported,not_supported,false,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
        d = day(-2)
    );
    let f = env.write_file("credential-report.csv", report.as_bytes());
    let out = env.json(&["import", "aws-credential-report", f.to_str().unwrap()]);
    assert_eq!(out["system"], "aws:111122223333");
    assert_eq!(out["sha256"], sha256sum(&f), "the raw export is the evidence");
    let item = env.json(&["evidence", "show", out["evidence"].as_str().unwrap()]);
    assert_eq!(
        item["source"],
        serde_json::json!({"kind": "import", "ref": "aws-credential-report"})
    );
    let run = env.json(&["check", "run"]);
    assert_eq!(
        result(&run, "aws-root-mfa")["failures"][0]["reason"],
        "MFA is not enabled"
    );
    assert!(
        result(&run, "aws-root-no-access-keys")["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("access_key_1")
    );

    let before = (env.json(&["evidence", "list", "--all"]), env.audit_actions());
    let grype = env.write_file(
        "scan.json",
        br#"{"matches": [], "source": {"target": "x"}, "descriptor": {"name": "grype"}}"#,
    );
    env.refused(
        &["import", "trivy", grype.to_str().unwrap()],
        &["scan.json: not a Trivy JSON report", "it looks like a Grype report"],
    );
    let cut = env.write_file("cut.json", b"{\"SchemaVersion\": 2, \"Results\": [");
    env.refused(
        &["import", "trivy", cut.to_str().unwrap()],
        &["cut.json: not valid JSON"],
    );
    let other = env.write_file("people.csv", b"email,name\na@b.io,A\n");
    env.refused(
        &["import", "aws-credential-report", other.to_str().unwrap()],
        &["not an AWS IAM credential report", "missing column(s) user, arn"],
    );
    let users = env.write_file("u.json", okta_users().as_bytes());
    env.refused(
        &[
            "import",
            "okta-users",
            users.to_str().unwrap(),
            "--with",
            users.to_str().unwrap(),
        ],
        &["not an Okta factors list"],
    );
    env.refused(
        &["import", "google-workspace-users", users.to_str().unwrap()],
        &["looks like an Okta users list"],
    );
    assert_eq!(
        (env.json(&["evidence", "list", "--all"]), env.audit_actions()),
        before,
        "nothing stored, nothing logged"
    );
    env.assert_verified();
}

fn trivy(created: &str, vulns: &[(&str, &str)]) -> String {
    let v: Vec<String> = vulns
        .iter()
        .map(|(id, sev)| format!(r#"{{"VulnerabilityID": "{id}", "PkgName": "openssl", "InstalledVersion": "3.0.1", "Severity": "{sev}", "Title": "{id} in openssl"}}"#))
        .collect();
    format!(
        r#"{{"SchemaVersion": 2, "CreatedAt": "{created}T06:00:00Z", "ArtifactName": "api:1.4", "Results": [{{"Target": "api:1.4", "Vulnerabilities": [{}]}}]}}"#,
        v.join(",")
    )
}

fn findings_are_tracked_across_scans_against_the_sla(b: Backend) {
    let env = Env::new(b);
    env.init();
    let first = env.write_file(
        "scan1.json",
        trivy(
            &day(-40),
            &[("CVE-1", "CRITICAL"), ("CVE-2", "CRITICAL"), ("CVE-3", "HIGH")],
        )
        .as_bytes(),
    );
    let out = env.json(&["import", "trivy", first.to_str().unwrap()]);
    assert_eq!(out["findings"], serde_json::json!({"new": 3, "seen": 0, "fixed": 0}));
    let second = env.write_file(
        "scan2.json",
        trivy(&day(-36), &[("CVE-2", "CRITICAL"), ("CVE-3", "HIGH")]).as_bytes(),
    );
    assert_eq!(
        env.json(&["import", "trivy", second.to_str().unwrap()])["findings"],
        serde_json::json!({"new": 0, "seen": 2, "fixed": 1})
    );
    let third = env.write_file("scan3.json", trivy(&day(0), &[("CVE-2", "CRITICAL")]).as_bytes());
    assert_eq!(
        env.json(&["import", "trivy", third.to_str().unwrap()])["findings"],
        serde_json::json!({"new": 0, "seen": 1, "fixed": 1})
    );

    let run = env.json(&["check", "run"]);
    let critical = result(&run, "findings-critical-sla");
    // The policy's default deadlines: critical 14 days, high 30. CVE-1 fixed after 4 days
    // (within 14); CVE-2 open for 40 days (past 14).
    assert_eq!(
        (critical["passed"].as_u64(), critical["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        critical["failures"][0]["record"]
            .as_str()
            .unwrap()
            .starts_with("CVE-2 on api:1.4")
    );
    assert!(
        critical["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("past its 14-day SLA")
    );
    let high = result(&run, "findings-high-sla");
    assert_eq!(high["failed"], 1, "CVE-3 was fixed on day 40, after 30 days");
    assert_eq!(result(&run, "scans-recent")["status"], "pass");
    env.assert_verified();
}

fn code_review_from_github_exports(b: Backend) {
    let env = Env::new(b);
    env.init();
    let bp = env.write_file(
        "protection.json",
        br#"{"url": "https://api.github.com/repos/acme/api/branches/main/protection",
             "required_pull_request_reviews": {"required_approving_review_count": 1},
             "enforce_admins": {"enabled": true}, "allow_force_pushes": {"enabled": false}}"#,
    );
    env.ok(&["import", "github-branch-protection", bp.to_str().unwrap()]);
    let rs = env.write_file(
        "rulesets.json",
        br#"[{"id": 9, "target": "branch", "enforcement": "active", "source": "acme/web",
              "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"]}}, "rules": [{"type": "deletion"}]}]"#,
    );
    env.ok(&["import", "github-rulesets", rs.to_str().unwrap()]);
    let pulls = env.write_file(
        "pulls.json",
        format!(
            r#"[{{"number": 5, "title": "Rotate keys", "user": {{"login": "ana"}}, "merged_at": "{d}T10:00:00Z", "base": {{"repo": {{"full_name": "acme/api"}}}}}},
               {{"number": 6, "title": "Hotfix", "user": {{"login": "ben"}}, "merged_at": "{d}T11:00:00Z", "base": {{"repo": {{"full_name": "acme/api"}}}}}}]"#,
            d = day(-1)
        )
        .as_bytes(),
    );
    let r5 = env.write_file("r5.json", br#"[{"user": {"login": "cy"}, "state": "APPROVED", "submitted_at": "2026-01-01T00:00:00Z", "pull_request_url": "https://api.github.com/repos/acme/api/pulls/5"}]"#);
    let r6 = env.write_file("r6.json", br#"[{"user": {"login": "ben"}, "state": "APPROVED", "submitted_at": "2026-01-01T00:00:00Z", "pull_request_url": "https://api.github.com/repos/acme/api/pulls/6"}]"#);
    let out = env.json(&[
        "import",
        "github-pull-requests",
        pulls.to_str().unwrap(),
        "--with",
        r5.to_str().unwrap(),
        "--with",
        r6.to_str().unwrap(),
    ]);
    assert_eq!(out["changes"], 2);

    let run = env.json(&["check", "run"]);
    let reviews = result(&run, "default-branch-requires-review");
    assert_eq!(
        (reviews["passed"].as_u64(), reviews["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(reviews["failures"][0]["record"], "acme/web");
    let approved = result(&run, "changes-independently-approved");
    assert_eq!(approved["failures"][0]["record"], "acme/api#6");
    assert!(
        approved["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("other than its author ben")
    );
    assert_eq!(
        result(&run, "force-pushes-blocked")["failed"],
        1,
        "the web ruleset does not block force pushes"
    );
    env.refused(
        &["import", "github-branch-protection", rs.to_str().unwrap()],
        &["not a GitHub branch protection response"],
    );
    env.refused(
        &["import", "trivy", bp.to_str().unwrap(), "--with", r5.to_str().unwrap()],
        &["--with", "takes no companion files"],
    );
    env.assert_verified();
}

fn devices_from_osquery(b: Backend) {
    let env = Env::new(b);
    env.init();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let log = format!(
        r#"{{"name": "pack_fleet_disk_encryption", "hostIdentifier": "mbp-ana", "unixTime": "{now}", "snapshot": [{{"name": "/dev/disk1", "encrypted": "1"}}]}}
{{"name": "pack_fleet_disk_encryption", "hostIdentifier": "mbp-ben", "unixTime": "{now}", "snapshot": [{{"name": "/dev/disk1", "encrypted": "0"}}]}}
{{"name": "processes", "hostname": "old-laptop", "unixTime": "{old}", "columns": {{"pid": "1"}}, "action": "added"}}
"#,
        old = now - 30 * 86_400
    );
    let out = env.json(&[
        "import",
        "osquery",
        env.write_file("osquery.log", log.as_bytes()).to_str().unwrap(),
    ]);
    assert_eq!(out["devices"], 3);
    let run = env.json(&["check", "run"]);
    let enc = result(&run, "devices-encrypted");
    let failed: Vec<&str> = enc["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["record"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["mbp-ben", "old-laptop"]);
    assert_eq!(result(&run, "devices-reporting")["failures"][0]["record"], "old-laptop");
    // A later report keeps what earlier ones said when it says nothing new.
    let later =
        format!(r#"{{"name": "processes", "hostname": "mbp-ana", "unixTime": "{now}", "columns": {{"pid": "2"}}}}"#);
    env.ok(&[
        "import",
        "osquery",
        env.write_file("later.log", later.as_bytes()).to_str().unwrap(),
    ]);
    let run = env.json(&["check", "run", "--check", "devices-encrypted"]);
    assert_eq!(run[0]["passed"], 1, "mbp-ana is still known to be encrypted");
    env.refused(
        &[
            "import",
            "osquery",
            env.write_file("bad.log", b"{\"a\": 1}\n").to_str().unwrap(),
        ],
        &["line 1: not an osquery result"],
    );
}

fn reports_with_text_that_cannot_be_stored_are_refused(b: Backend) {
    let env = Env::new(b);
    env.init();
    let before = (env.json(&["evidence", "list", "--all"]), env.audit_actions());
    // A JSON string may spell NUL as \u0000; PostgreSQL cannot store it, so no database may.
    let scan = trivy(&day(-1), &[("CVE-1", "CRITICAL")]).replace("CVE-1 in openssl", r"CVE-1 in open\u0000ssl");
    let f = env.write_file("nul-scan.json", scan.as_bytes());
    let name = f.to_str().unwrap();
    env.refused(
        &["import", "trivy", name],
        &[&format!(
            "{name}: /Results/0/Vulnerabilities/0/Title: contains a NUL character (U+0000) at character 14, which cannot be stored"
        )],
    );
    let users = okta_users().replace(
        r#""login": "leo@acme.example""#,
        r#""login": "leo@acme.example", "nick\u0000name": "x""#,
    );
    let f = env.write_file("nul-users.json", users.as_bytes());
    let name = f.to_str().unwrap();
    env.refused(
        &["import", "okta-users", name],
        &[&format!(
            "{name}: /1/profile/nick\\u0000name (the member's name): contains a NUL character"
        )],
    );
    assert_eq!(
        (env.json(&["evidence", "list", "--all"]), env.audit_actions()),
        before,
        "nothing stored, nothing logged"
    );
    env.assert_verified();
}

fn severities_we_do_not_know_are_kept_counted_as_unknown_and_reported(b: Backend) {
    let env = Env::new(b);
    env.init();
    let f = env.write_file(
        "scan.json",
        trivy(
            &day(-1),
            &[("CVE-7", "SEVERE"), ("CVE-8", "HIGH"), ("CVE-9", "UNKNOWN")],
        )
        .as_bytes(),
    );
    let name = f.to_str().unwrap();
    let out = env.run(&["import", "trivy", name, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warning = format!(
        "{name}: CVE-7 on api:1.4 openssl@3.0.1: severity 'SEVERE' is not one we know; kept as the scanner's word and counted as unknown"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["warnings"],
        serde_json::json!([warning]),
        "only the word no scanner uses is reported"
    );
    assert_eq!(v["findings"]["new"], 3, "the finding is kept");
    assert!(stderr.contains(&format!("warning: {warning}")), "{stderr}");
    let table = env.run(&["import", "trivy", name]);
    assert!(
        String::from_utf8_lossy(&table.stderr).contains(&format!("warning: {warning}")),
        "the table output says so too"
    );
    assert_eq!(
        env.sql_strings(
            "SELECT external_id || ' ' || severity || ' ' || severity_raw FROM findings ORDER BY external_id"
        ),
        ["CVE-7 unknown SEVERE", "CVE-8 high HIGH", "CVE-9 unknown UNKNOWN"]
    );
    // Read back by the engine: none of the SLA checks guesses a rank for it.
    let run = env.json(&["check", "run"]);
    assert_eq!(result(&run, "findings-high-sla")["passed"], 1);
    assert_eq!(result(&run, "findings-critical-sla")["status"], "no_data");
}
