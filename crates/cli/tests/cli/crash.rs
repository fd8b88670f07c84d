//! Crash loops (issue 20, point 3). Cycle after cycle on one workspace, `evident serve` runs while
//! several clients upload evidence and new versions through the API, write tasks, import request
//! lists through the API and people through the CLI, step policies through draft → approved →
//! published, add evidence and run the checks from the CLI; at a random moment the server and
//! every running CLI process are killed with SIGKILL. Then, before the next start: `verify` finds
//! nothing, every write whose answer reached its client is there, every import is all its rows or
//! none, every check run is whole and logged, no temporary or partial file is left, and the
//! workspace takes a new write.
//!
//! `EVIDENT_CRASH_CYCLES` cycles per database (default 5); `EVIDENT_CRASH_SEED` repeats a run's
//! choices (operations, sizes, kill moments). `scripts/crash-loop` runs the long version and
//! reads the `crash-loop:` summary line each test prints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Backend, Env, day};
use crate::server::Server;

on_both_databases!(killed_at_random_moments_loses_nothing_acknowledged);

/// Client threads of the load.
const CLIENTS: usize = 4;
/// Kill moments, in milliseconds after the load starts: half spread log-uniformly over this
/// range (the first writes, the group commit's first batches), half uniformly (mid-load).
const KILL_MS: (f64, f64) = (3.0, 2000.0);
/// Each client steps its own policy, so every answer it gets is about its own write.
const POLICIES: [&str; CLIENTS] = [
    "access-control",
    "acceptable-use",
    "business-continuity",
    "change-management",
];
const ENGAGEMENT: &str = "Crash loop";

/// SplitMix64: small, and the same sequence for a seed everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Upload,
    Version,
    CliAdd,
    Task,
    PeopleImport,
    RequestImport,
    Policy,
    CheckRun,
}

impl Kind {
    const ALL: [(Kind, u64); 8] = [
        (Kind::Upload, 30),
        (Kind::Version, 8),
        (Kind::CliAdd, 10),
        (Kind::Task, 14),
        (Kind::PeopleImport, 10),
        (Kind::RequestImport, 8),
        (Kind::Policy, 12),
        (Kind::CheckRun, 8),
    ];

    fn pick(rng: &mut Rng) -> Kind {
        let total: u64 = Kind::ALL.iter().map(|(_, w)| w).sum();
        let mut n = rng.below(total);
        for (k, w) in Kind::ALL {
            if n < w {
                return k;
            }
            n -= w;
        }
        unreachable!()
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Upload => "API uploads",
            Kind::Version => "API new versions",
            Kind::CliAdd => "CLI evidence adds",
            Kind::Task => "API task writes",
            Kind::PeopleImport => "CLI people imports",
            Kind::RequestImport => "API request-list imports",
            Kind::Policy => "API policy steps",
            Kind::CheckRun => "CLI check runs",
        }
    }
}

/// An import tried: its rows carry `marker`, so they can be counted afterwards.
struct Import {
    marker: String,
    rows: usize,
    acknowledged: bool,
}

/// What the clients were told was stored, kept across cycles.
#[derive(Default)]
struct Acks {
    /// Evidence ids answered 201 by the API or printed by `evidence add`.
    evidence: Vec<String>,
    /// (new version, the item it supersedes).
    versions: Vec<(String, String)>,
    /// Per client, acknowledged items it has not yet sent a new version of.
    parents: Vec<Vec<String>>,
    /// Task key → the highest write number acknowledged for it.
    tasks: BTreeMap<String, u64>,
    task_writes: Vec<u64>,
    people: Vec<Import>,
    requests: Vec<Import>,
    /// Policy → (latest acknowledged edit: version and the marker in its text, approved, published).
    policies: BTreeMap<String, PolicyAcks>,
    check_runs: Vec<String>,
    /// Acknowledged writes by kind.
    counts: BTreeMap<Kind, usize>,
}

#[derive(Default, Clone)]
struct PolicyAcks {
    edited: Option<(i64, String)>,
    approved: Option<i64>,
    published: Option<i64>,
}

/// The CLI processes of a cycle: each is killed with the server.
#[derive(Default)]
struct Procs {
    stopped: bool,
    next: usize,
    running: BTreeMap<usize, Child>,
}

/// One cycle's load against a running server.
struct Load<'a> {
    env: &'a Env,
    base: String,
    token: String,
    engagement: String,
    cycle: usize,
    files: PathBuf,
    procs: Mutex<Procs>,
    acks: &'a Mutex<Acks>,
    in_flight: Mutex<BTreeMap<Kind, usize>>,
    problems: Mutex<Vec<String>>,
}

/// A CLI command's end: its exit code (None when killed), stdout and stderr.
type Ended = (Option<i32>, String, String);

impl Load<'_> {
    fn problem(&self, p: String) {
        self.problems.lock().unwrap().push(p);
    }

    fn stopped(&self) -> bool {
        self.procs.lock().unwrap().stopped
    }

    /// Kills every running CLI process and lets no new one start.
    fn kill_cli(&self) {
        let mut p = self.procs.lock().unwrap();
        p.stopped = true;
        for c in p.running.values_mut() {
            let _ = c.kill();
        }
    }

    /// Runs `evident ARGS` as a process the crash kills; None when the crash came first.
    fn cli(&self, args: &[&str], name: &str) -> Option<Ended> {
        let out = self.files.join(format!("{name}.out"));
        let err = self.files.join(format!("{name}.err"));
        let key = {
            let mut p = self.procs.lock().unwrap();
            if p.stopped {
                return None;
            }
            let child = self
                .env
                .command(args)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(std::fs::File::create(&err).unwrap())
                .spawn()
                .expect("run evident");
            let key = p.next;
            p.next += 1;
            p.running.insert(key, child);
            key
        };
        let status = loop {
            {
                let mut p = self.procs.lock().unwrap();
                if let Some(s) = p.running.get_mut(&key).unwrap().try_wait().unwrap() {
                    p.running.remove(&key);
                    break s;
                }
            }
            std::thread::sleep(Duration::from_millis(3));
        };
        let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        Some((status.code(), read(&out), read(&err)))
    }

    /// A CLI command that must finish unless killed: Some(stdout) when it did.
    fn cli_ok(&self, args: &[&str], name: &str) -> Option<String> {
        let (code, out, err) = self.cli(args, name)?;
        match code {
            Some(0) => Some(out),
            None => None,
            Some(c) => {
                self.problem(format!("evident {args:?} exited {c} before the kill: {err}"));
                None
            }
        }
    }

    /// One API call through curl: Some((status, JSON body)) when a whole answer arrived.
    fn api(&self, method: &str, path: &str, body: Option<&Value>, form: &[String]) -> Option<(u16, Value)> {
        let out = self.curl(method, path, body, form).output().expect("curl");
        self.answer(method, path, out)
    }

    fn curl(&self, method: &str, path: &str, body: Option<&Value>, form: &[String]) -> Command {
        let mut c = Command::new("curl");
        c.args([
            "-sS",
            "--max-time",
            "60",
            "-H",
            "Expect:",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(["-X", method, "-H"])
        .arg(format!("Authorization: Bearer {}", self.token));
        if let Some(b) = body {
            c.args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(b.to_string());
        }
        for f in form {
            c.arg("-F").arg(f);
        }
        c.arg(format!("{}{path}", self.base))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn answer(&self, method: &str, path: &str, out: std::process::Output) -> Option<(u16, Value)> {
        if !out.status.success() {
            // Refused, reset or cut short: no answer reached the client.
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n')?;
        let status: u16 = code.trim().parse().ok()?;
        match serde_json::from_str(body) {
            Ok(v) => Some((status, v)),
            Err(_) => {
                self.problem(format!(
                    "{method} {path}: answered {status} with a body that is not JSON: {body}"
                ));
                None
            }
        }
    }

    /// An answer that must have `want` as its status (it reached the client whole).
    fn expect(&self, what: &str, answer: Option<(u16, Value)>, want: u16) -> Option<Value> {
        let (status, body) = answer?;
        if status != want {
            self.problem(format!("{what}: answered {status}, not {want}: {body}"));
            return None;
        }
        Some(body)
    }

    fn acknowledge(&self, kind: Kind, record: impl FnOnce(&mut Acks)) {
        let mut a = self.acks.lock().unwrap();
        record(&mut a);
        *a.counts.entry(kind).or_default() += 1;
    }

    /// An item (or a new version of `parent`) the client was told is stored; the client may
    /// send a new version of it later.
    fn acknowledge_item(&self, kind: Kind, client: usize, item: &Value, parent: Option<String>) {
        let id = item["id"].as_str().unwrap().to_string();
        self.acknowledge(kind, |a| {
            match parent {
                Some(p) => a.versions.push((id.clone(), p)),
                None => a.evidence.push(id.clone()),
            }
            a.parents[client].push(id);
        });
    }

    /// A file to upload: mostly small, some large enough to be cut mid-write; some repeat an
    /// earlier file's bytes, so the vault's deduplication is crossed by kills too.
    fn evidence_file(&self, rng: &mut Rng, marker: &str) -> PathBuf {
        let size = match rng.below(100) {
            0..=69 => rng.between(64, 8 << 10),
            70..=94 => rng.between(64 << 10, 1 << 20),
            _ => rng.between(2 << 20, 8 << 20),
        } as usize;
        let path = self.files.join(format!("{marker}.txt"));
        let seed = if rng.below(10) == 0 { rng.below(8) } else { rng.next() };
        let mut r = Rng(seed);
        let mut bytes = Vec::with_capacity(size + 64);
        if seed >= 8 {
            bytes.extend_from_slice(format!("evidence {marker}\n").as_bytes());
        }
        while bytes.len() < size {
            bytes.extend_from_slice(&r.next().to_le_bytes());
        }
        bytes.truncate(size.max(1));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn run_client(&self, client: usize, mut rng: Rng) {
        let mut n = 0;
        while !self.stopped() {
            n += 1;
            let marker = format!("c{}t{client}n{n}", self.cycle);
            let kind = Kind::pick(&mut rng);
            *self.in_flight.lock().unwrap().entry(kind).or_default() += 1;
            match kind {
                Kind::Upload => self.upload(&mut rng, client, &marker),
                Kind::Version => self.version(&mut rng, client, &marker),
                Kind::CliAdd => self.cli_add(&mut rng, client, &marker),
                Kind::Task => self.task(&mut rng, client, &marker),
                Kind::PeopleImport => self.people_import(&mut rng, &marker),
                Kind::RequestImport => self.request_import(&mut rng, &marker),
                Kind::Policy => self.policy_step(client, &marker),
                Kind::CheckRun => self.check_run(&marker),
            }
            *self.in_flight.lock().unwrap().get_mut(&kind).unwrap() -= 1;
        }
    }

    /// One to four uploads sent at once, so the server commits several in one transaction.
    fn upload(&self, rng: &mut Rng, client: usize, marker: &str) {
        let sent: Vec<_> = (0..rng.between(1, 4))
            .map(|i| {
                let marker = format!("{marker}u{i}");
                let file = self.evidence_file(rng, &marker);
                let form = [
                    format!("file=@{}", file.display()),
                    "control=ACC-01".into(),
                    format!("title=crash {marker}"),
                ];
                self.curl("POST", "/api/v1/evidence", None, &form)
                    .spawn()
                    .expect("curl")
            })
            .collect();
        for upload in sent {
            let out = upload.wait_with_output().expect("curl");
            if let Some(item) = self.expect("an upload", self.answer("POST", "/api/v1/evidence", out), 201) {
                self.acknowledge_item(Kind::Upload, client, &item, None);
            }
        }
    }

    fn version(&self, rng: &mut Rng, client: usize, marker: &str) {
        let parent = {
            let mut a = self.acks.lock().unwrap();
            let p = &mut a.parents[client];
            if p.is_empty() {
                return;
            }
            let at = rng.below(p.len() as u64) as usize;
            p.swap_remove(at)
        };
        let file = self.evidence_file(rng, marker);
        let answer = self.api(
            "POST",
            &format!("/api/v1/evidence/{parent}/versions"),
            None,
            &[format!("file=@{}", file.display())],
        );
        if let Some(item) = self.expect("a new version", answer, 201) {
            self.acknowledge_item(Kind::Version, client, &item, Some(parent));
        }
    }

    fn cli_add(&self, rng: &mut Rng, client: usize, marker: &str) {
        let file = self.evidence_file(rng, marker);
        let title = format!("crash {marker}");
        let args = [
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--control",
            "ACC-02",
            "--title",
            &title,
            "--format",
            "json",
        ];
        if let Some(out) = self.cli_ok(&args, marker) {
            let item = serde_json::from_str(&out).unwrap();
            self.acknowledge_item(Kind::CliAdd, client, &item, None);
        }
    }

    /// Half the writes update the client's own task (its title counts up), half add a new one.
    fn task(&self, rng: &mut Rng, client: usize, marker: &str) {
        let write = {
            let mut a = self.acks.lock().unwrap();
            a.task_writes[client] += 1;
            a.task_writes[client]
        };
        let key = if rng.below(2) == 0 {
            format!("CRASH-T{client}")
        } else {
            format!("CRASH-{marker}")
        };
        let body = json!({"id": key, "title": format!("crash task write {write}"), "status": "open"});
        let answer = self.api("POST", "/api/v1/tasks", Some(&body), &[]);
        if self.expect("a task write", answer, 200).is_some() {
            self.acknowledge(Kind::Task, |a| {
                let w = a.tasks.entry(key).or_default();
                *w = (*w).max(write);
            });
        }
    }

    fn people_import(&self, rng: &mut Rng, marker: &str) {
        let rows = rng.between(2, 60) as usize;
        let mut csv = String::from("email,name,title,department,manager_email,employment_type,start_date,end_date\n");
        for i in 0..rows {
            writeln!(
                csv,
                "{marker}-{i}@crash.example,Crash Person {i},Engineer,{marker},,employee,2024-01-01,"
            )
            .unwrap();
        }
        let file = self.files.join(format!("{marker}.csv"));
        std::fs::write(&file, csv).unwrap();
        let Some(ended) = self.cli(
            &["import", "people", file.to_str().unwrap(), "--format", "json"],
            marker,
        ) else {
            return;
        };
        let acknowledged = match ended {
            (Some(0), out, _) => {
                let created = serde_json::from_str::<Value>(&out).unwrap()["created"].as_u64();
                if created != Some(rows as u64) {
                    self.problem(format!("people import {marker}: created {created:?} of {rows}: {out}"));
                }
                true
            }
            (None, _, _) => false,
            (Some(c), _, err) => {
                self.problem(format!("people import {marker} exited {c} before the kill: {err}"));
                false
            }
        };
        let import = Import {
            marker: marker.to_string(),
            rows,
            acknowledged,
        };
        let mut a = self.acks.lock().unwrap();
        a.people.push(import);
        if acknowledged {
            *a.counts.entry(Kind::PeopleImport).or_default() += 1;
        }
    }

    fn request_import(&self, rng: &mut Rng, marker: &str) {
        let rows = rng.between(2, 30) as usize;
        let mut csv = String::from("PBC #,Request\n");
        for i in 0..rows {
            writeln!(csv, "R-{marker}-{i},Crash request {i}").unwrap();
        }
        let file = self.files.join(format!("{marker}-requests.csv"));
        std::fs::write(&file, csv).unwrap();
        let answer = self.api(
            "POST",
            &format!("/api/v1/engagements/{}/requests/import", self.engagement),
            None,
            &[format!("file=@{}", file.display())],
        );
        let acknowledged = match self.expect("a request-list import", answer, 201) {
            Some(v) => {
                if v["added"].as_u64() != Some(rows as u64) {
                    self.problem(format!("request import {marker}: added {} of {rows}", v["added"]));
                }
                true
            }
            None => false,
        };
        let mut a = self.acks.lock().unwrap();
        a.requests.push(Import {
            marker: marker.to_string(),
            rows,
            acknowledged,
        });
        if acknowledged {
            *a.counts.entry(Kind::RequestImport).or_default() += 1;
        }
    }

    /// The client's policy one step further: a draft is approved, an approved version published,
    /// a published one edited into a new draft.
    fn policy_step(&self, client: usize, marker: &str) {
        let policy = POLICIES[client];
        let path = format!("/api/v1/policies/{policy}");
        let Some(now) = self.expect("a policy read", self.api("GET", &path, None, &[]), 200) else {
            return;
        };
        let latest = latest_version(&now);
        let status = latest["status"].as_str().unwrap_or_default().to_string();
        let (answer, step) = match status.as_str() {
            "draft" => (self.api("POST", &format!("{path}/approve"), None, &[]), "approve"),
            "approved" => (self.api("POST", &format!("{path}/publish"), None, &[]), "publish"),
            _ => {
                let text = json!({"source": format!("# {policy}\n\nEdited in the crash loop: {marker}.\n")});
                (self.api("PUT", &path, Some(&text), &[]), "edit")
            }
        };
        let Some(after) = self.expect(&format!("a policy {step}"), answer, 200) else {
            return;
        };
        let version = after["latest_version"].as_i64().unwrap();
        self.acknowledge(Kind::Policy, |a| {
            let p = a.policies.entry(policy.to_string()).or_default();
            match step {
                "approve" => p.approved = Some(version),
                "publish" => p.published = Some(version),
                _ => p.edited = Some((version, marker.to_string())),
            }
        });
    }

    fn check_run(&self, marker: &str) {
        let Some(out) = self.cli_ok(&["check", "run"], marker) else {
            return;
        };
        let run = out
            .lines()
            .find_map(|l| l.strip_prefix("Run ").and_then(|r| r.split(':').next()))
            .map(str::to_string);
        match run {
            Some(id) => self.acknowledge(Kind::CheckRun, |a| a.check_runs.push(id)),
            None => self.problem(format!("check run {marker}: no run id printed: {out}")),
        }
    }
}

/// The highest version in a policy's JSON.
fn latest_version(policy: &Value) -> &Value {
    policy["versions"]
        .as_array()
        .and_then(|v| v.iter().max_by_key(|x| x["version"].as_i64()))
        .unwrap_or(&Value::Null)
}

/// Files that a write leaves only while it runs: staged vault objects, partial uploads,
/// atomically written files before their rename.
fn leftovers(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let name = e.file_name().to_string_lossy().into_owned();
            if rel.starts_with("tmp/")
                || rel.starts_with("vault/staging/")
                || name.contains('#')
                || name.ends_with(".tmp")
                || name.ends_with("-journal")
            {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Everything that must hold after a kill, with no process running; returns what does not.
fn examine(env: &Env, acks: &Acks, engagement: &str, checks: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let json = |args: &[&str]| -> Result<Value, String> {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = env.run(&all);
        if !out.status.success() {
            return Err(format!(
                "evident {args:?} failed after the kill: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("evident {args:?}: not JSON: {e}"))
    };
    macro_rules! or_note {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => {
                    problems.push(e);
                    return problems;
                }
            }
        };
    }

    // The history and every blob prove themselves.
    let report = or_note!(json(&["verify"]));
    for p in report["problems"].as_array().into_iter().flatten() {
        problems.push(format!("verify: {}", p.as_str().unwrap_or_default()));
    }

    // Every acknowledged item and version.
    let items = or_note!(json(&["evidence", "list", "--all"]));
    let items: BTreeMap<&str, &Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i))
        .collect();
    for id in &acks.evidence {
        if !items.contains_key(id.as_str()) {
            problems.push(format!("evidence {id} was acknowledged but is missing"));
        }
    }
    for (id, parent) in &acks.versions {
        match items.get(id.as_str()) {
            None => problems.push(format!("version {id} of {parent} was acknowledged but is missing")),
            Some(i) if i["supersedes"] != json!(parent) => problems.push(format!(
                "version {id} should supersede {parent}, says {}",
                i["supersedes"]
            )),
            Some(_) => {}
        }
    }

    // Tasks: each as new as its latest acknowledged write.
    let tasks = or_note!(json(&["tasks", "list"]));
    let tasks: BTreeMap<&str, u64> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let title = t["title"].as_str().unwrap_or_default();
            let write = title
                .strip_prefix("crash task write ")
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            (t["id"].as_str().unwrap(), write)
        })
        .collect();
    for (key, write) in &acks.tasks {
        match tasks.get(key.as_str()) {
            None => problems.push(format!("task {key} was acknowledged but is missing")),
            Some(w) if w < write => problems.push(format!(
                "task {key}: write {write} was acknowledged, the task holds write {w}"
            )),
            Some(_) => {}
        }
    }

    // Imports: all their rows or none, and all when acknowledged.
    let count = |imports: &[Import], found: &BTreeMap<String, usize>, what: &str, problems: &mut Vec<String>| {
        for i in imports {
            let n = found.get(&i.marker).copied().unwrap_or(0);
            // All its rows, or none if it was not acknowledged.
            let whole = n == i.rows || (n == 0 && !i.acknowledged);
            if !whole {
                problems.push(format!(
                    "{what} import {} ({}acknowledged): {n} of its {} rows are visible",
                    i.marker,
                    if i.acknowledged { "" } else { "not " },
                    i.rows
                ));
            }
        }
    };
    let people = or_note!(json(&["people", "list"]));
    let mut by_marker = BTreeMap::new();
    for p in people.as_array().unwrap() {
        *by_marker
            .entry(p["department"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    count(&acks.people, &by_marker, "people", &mut problems);
    let requests = or_note!(json(&["requests", "list", engagement]));
    let mut by_marker = BTreeMap::new();
    for r in requests.as_array().unwrap() {
        let reference = r["reference"].as_str().unwrap_or_default();
        if let Some((marker, _)) = reference.strip_prefix("R-").and_then(|r| r.rsplit_once('-')) {
            *by_marker.entry(marker.to_string()).or_default() += 1;
        }
    }
    count(&acks.requests, &by_marker, "request-list", &mut problems);

    // Policies: each acknowledged step is there (or a later one).
    for (policy, p) in &acks.policies {
        let now = or_note!(json(&["policies", "show", policy]));
        let status_of = |v: i64| {
            now["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["version"] == v)
                .and_then(|x| x["status"].as_str())
                .unwrap_or("missing")
                .to_string()
        };
        if let Some((v, marker)) = &p.edited {
            let text = or_note!(json(&["policies", "show", policy, "--version", &v.to_string()]));
            if !text["text"]["body"]
                .as_str()
                .unwrap_or_default()
                .contains(marker.as_str())
            {
                problems.push(format!(
                    "policy {policy}: version {v} ({marker}) was acknowledged but holds other text"
                ));
            }
        }
        if let Some(v) = p.approved
            && !["approved", "published", "retired"].contains(&status_of(v).as_str())
        {
            problems.push(format!(
                "policy {policy}: version {v} was approved, is {}",
                status_of(v)
            ));
        }
        if let Some(v) = p.published
            && !["published", "retired"].contains(&status_of(v).as_str())
        {
            problems.push(format!(
                "policy {policy}: version {v} was published, is {}",
                status_of(v)
            ));
        }
    }

    // Check runs: the acknowledged ones kept, every kept one whole and logged.
    let runs: BTreeMap<String, usize> = env
        .sql_strings("SELECT run_id || ':' || COUNT(*) FROM check_runs GROUP BY run_id")
        .iter()
        .map(|r| {
            let (id, n) = r.rsplit_once(':').unwrap();
            (id.to_string(), n.parse().unwrap())
        })
        .collect();
    let logged: BTreeSet<String> = env
        .sql_strings("SELECT subject FROM audit_log WHERE action = 'checks.run'")
        .into_iter()
        .filter_map(|s| s.strip_prefix("run:").map(str::to_string))
        .collect();
    for id in &acks.check_runs {
        if !runs.contains_key(id) {
            problems.push(format!("check run {id} was acknowledged but is missing"));
        }
    }
    for (id, n) in &runs {
        if *n != checks {
            problems.push(format!("check run {id} holds {n} of {checks} results"));
        }
        if !logged.contains(id) {
            problems.push(format!("check run {id} has no audit-log entry"));
        }
    }
    for id in logged.iter().filter(|id| !runs.contains_key(*id)) {
        problems.push(format!("check run {id} is in the audit log but missing"));
    }

    // Nothing half-written lies around.
    for f in leftovers(&env.dir) {
        problems.push(format!("left behind: {f}"));
    }
    problems
}

/// Kill moments and what was running at each.
#[derive(Default)]
struct Tally {
    kills_ms: Vec<u64>,
    /// Kind → kills that caught at least one of it in flight.
    caught: BTreeMap<Kind, usize>,
}

fn killed_at_random_moments_loses_nothing_acknowledged(b: Backend) {
    let cycles: usize = std::env::var("EVIDENT_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("EVIDENT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let db = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    println!("crash loop on {db}: seed {seed} (EVIDENT_CRASH_SEED={seed} repeats it), {cycles} cycles");
    let started = Instant::now();

    let env = Env::new(b);
    env.init();
    env.json(&["policies", "adopt", "--all"]);
    env.scope_type2(&format!("{}..{}", day(-90), day(180)));
    let engagement = env.json(&["audit", "create", "--name", ENGAGEMENT, "--firm", "Crash LLP"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = env.admin_token();
    let checks = env.json(&["check", "list"]).as_array().unwrap().len();
    let files = env.tmp.path().join("load");
    std::fs::create_dir_all(&files).unwrap();

    let acks = Mutex::new(Acks {
        parents: vec![Vec::new(); CLIENTS],
        task_writes: vec![0; CLIENTS],
        ..Acks::default()
    });
    let mut tally = Tally::default();
    let mut rng = Rng(seed);
    let mut found: Vec<String> = Vec::new();
    for cycle in 1..=cycles {
        let mut server = Server::start(&env, "first@bluefin.test");
        let load = Load {
            env: &env,
            base: server.base.clone(),
            token: token.clone(),
            engagement: engagement.clone(),
            cycle,
            files: files.clone(),
            procs: Mutex::default(),
            acks: &acks,
            in_flight: Mutex::default(),
            problems: Mutex::default(),
        };
        let kill_ms = if rng.below(2) == 0 {
            KILL_MS.0 * (KILL_MS.1 / KILL_MS.0).powf(rng.unit())
        } else {
            KILL_MS.0 + (KILL_MS.1 - KILL_MS.0) * rng.unit()
        } as u64;
        let client_seeds: Vec<u64> = (0..CLIENTS).map(|_| rng.next()).collect();
        std::thread::scope(|s| {
            for (client, seed) in client_seeds.into_iter().enumerate() {
                let load = &load;
                s.spawn(move || load.run_client(client, Rng(seed)));
            }
            std::thread::sleep(Duration::from_millis(kill_ms));
            let caught: Vec<Kind> = load
                .in_flight
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, _)| *k)
                .collect();
            server.child.kill().unwrap(); // SIGKILL
            load.kill_cli();
            server.child.wait().unwrap();
            tally.kills_ms.push(kill_ms);
            for k in caught {
                *tally.caught.entry(k).or_default() += 1;
            }
        });
        drop(server);

        let mut problems = std::mem::take(&mut *load.problems.lock().unwrap());
        problems.extend(examine(&env, &acks.lock().unwrap(), &engagement, checks));
        // The workspace takes a new write.
        let after = env.write_file("after-crash.txt", format!("written after kill {cycle}\n").as_bytes());
        let out = env.run(&[
            "evidence",
            "add",
            after.to_str().unwrap(),
            "--control",
            "ACC-03",
            "--format",
            "json",
        ]);
        if out.status.success() {
            let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            acks.lock().unwrap().evidence.push(id);
        } else {
            problems.push(format!(
                "a write after the kill failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let acknowledged: usize = acks.lock().unwrap().counts.values().sum();
        println!(
            "cycle {cycle}/{cycles}: killed at {kill_ms} ms, {acknowledged} writes acknowledged so far, {} problems",
            problems.len()
        );
        for p in &problems {
            println!("  problem: {p}");
        }
        if !problems.is_empty() {
            found.extend(problems.into_iter().map(|p| format!("cycle {cycle}: {p}")));
            break;
        }
    }

    // The summary scripts/crash-loop reads.
    let a = acks.lock().unwrap();
    let done = tally.kills_ms.len();
    let mut kills = tally.kills_ms.clone();
    kills.sort();
    let acknowledged: usize = a.counts.values().sum();
    let by_kind: Vec<String> = Kind::ALL
        .iter()
        .map(|(k, _)| format!("{} {}", a.counts.get(k).copied().unwrap_or(0), k.name()))
        .collect();
    let caught: Vec<String> = Kind::ALL
        .iter()
        .map(|(k, _)| format!("{} {}", tally.caught.get(k).copied().unwrap_or(0), k.name()))
        .collect();
    let rows = |imports: &[Import]| imports.iter().filter(|i| i.acknowledged).map(|i| i.rows).sum::<usize>();
    println!(
        "crash-loop: database={db} seed={seed} cycles={done} acknowledged={acknowledged} problems={} wall_s={:.1}",
        found.len(),
        started.elapsed().as_secs_f64()
    );
    println!("crash-loop: acknowledged writes: {}", by_kind.join(", "));
    println!(
        "crash-loop: acknowledged import rows: {} people, {} requests",
        rows(&a.people),
        rows(&a.requests)
    );
    if done > 0 {
        println!(
            "crash-loop: kill points (ms after the load started): min {} median {} max {}",
            kills[0],
            kills[done / 2],
            kills[done - 1]
        );
    }
    println!("crash-loop: kills that caught in flight: {}", caught.join(", "));
    assert!(
        found.is_empty(),
        "crash loop on {db} (seed {seed}) found problems:\n{}",
        found.join("\n")
    );
}
