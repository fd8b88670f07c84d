//! Several servers, one truth: two `evident serve` processes on one PostgreSQL database and one
//! S3 bucket (moto), behind a round-robin proxy, each with its own folder holding only the
//! configuration and the keys. Every request may land on either; they must agree on sessions,
//! single sign-ons, the sign-in limit and what was written.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;

use serde_json::Value;

use crate::common::{Backend, Env};
use crate::security::{Web, add_user, first_sign_in};
use crate::server::{Server, browse, fixture, http, provider, role_matrix_at, token};
use crate::vault::Moto;

/// Hands each new connection to the next backend in turn, bytes copied both ways.
struct RoundRobin {
    base: String,
}

fn round_robin(backends: &[&str]) -> RoundRobin {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let addrs: Vec<SocketAddr> = backends
        .iter()
        .map(|b| b.trim_start_matches("http://").parse().unwrap())
        .collect();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let Ok(backend) = TcpStream::connect(addrs[n % addrs.len()]) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            };
            pipe(client.try_clone().unwrap(), backend.try_clone().unwrap());
            pipe(backend, client);
        }
    });
    RoundRobin { base }
}

/// A copy of the workspace folder without its database or vault (both are shared): what a
/// second machine needs on its disk.
fn second_folder(env: &Env) -> std::path::PathBuf {
    let b = env.tmp.path().join("instance-b");
    std::fs::create_dir_all(&b).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(env.dir.join("evident.toml"))
        .arg(env.dir.join("keys"))
        .arg(&b)
        .status()
        .unwrap();
    assert!(status.success(), "copy the configuration and keys");
    b
}

fn add_settings(dir: &Path, text: &str) {
    let path = dir.join("evident.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{config}\n{text}\n")).unwrap();
}

#[test]
fn two_instances_on_one_database_and_bucket_agree() {
    let moto = Moto::start();
    assert!(
        moto.request("PUT", "/evident-instances").contains("200"),
        "bucket created"
    );
    let mut env = Env::new(Backend::Postgres);
    for (k, v) in [
        ("EVIDENT_VAULT_URL", "s3://evident-instances/acme".to_string()),
        ("EVIDENT_S3_ENDPOINT", format!("http://127.0.0.1:{}", moto.port)),
        ("EVIDENT_S3_ALLOW_HTTP", "true".into()),
        ("EVIDENT_S3_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ] {
        env.vars.push((k.to_string(), v));
    }
    let f = fixture(&env);
    assert!(
        !env.dir.join("vault").exists() || env.vault_files().is_empty(),
        "the evidence is in the bucket, not on either instance's disk"
    );
    let idp = provider("sso.lead@bluefin.test", "evident-test");
    env.json(&["users", "add", "sso.lead@bluefin.test", "--role", "compliance_manager"]);
    add_settings(
        &env.dir,
        &format!(
            "[server]\ntrusted_proxies = [\"127.0.0.0/8\"]\n\n[server.oidc]\nissuer = \"{}\"\nclient_id = \"evident-test\"\nredirect_url = \"http://127.0.0.1/login/oidc/callback\"\n",
            idp.base
        ),
    );
    let b_dir = second_folder(&env);
    let a = Server::start(&env, "first@bluefin.test");
    let b = Server::start_in(&env, &b_dir, "first@bluefin.test");
    for s in [&a, &b] {
        let mut ready = false;
        for _ in 0..600 {
            if http(&s.base, "GET", "/readyz", None, None, &[]).0 == 200 {
                ready = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(ready, "{} says ready once its first snapshot exists", s.base);
    }
    let lb = round_robin(&[&a.base, &b.base]);

    // Every documented route as every role, each request on whichever instance it lands.
    role_matrix_at(&env, &f, &lb.base);

    // A sign-in begun on one instance and finished on the other: password, second-factor
    // enrolment and the new password, each step through the proxy to the other server.
    let person = "hopper@bluefin.test";
    let one_time = add_user(&env, person, "compliance_manager");
    let web = Web::new(&env, &a, "hopper").at(&lb.base);
    first_sign_in(&web, person, &one_time, "a long passphrase for hopper", true);
    for s in [&a, &b] {
        let (status, _, page) = web.at(&s.base).get("/");
        assert_eq!(status, 200, "the session holds on {}", s.base);
        assert!(page.contains(person));
    }

    // Single sign-on started on A and finished on B; the answer cannot be replayed on A.
    let jar = env.tmp.path().join("jar-sso");
    let (status, to_idp, _) = browse(&jar, &format!("{}/login/oidc", a.base));
    assert_eq!(status, 303);
    let (status, back, _) = browse(&jar, &to_idp);
    assert_eq!(status, 302);
    let (status, next, page) = browse(&jar, &back.replacen("http://127.0.0.1", &b.base, 1));
    assert_eq!((status, next.as_str()), (303, "/"), "{page}");
    let (status, _, dash) = browse(&jar, &format!("{}/", a.base));
    assert_eq!(status, 200);
    assert!(dash.contains("sso.lead@bluefin.test"), "signed in on A by B's callback");
    let (status, _, replay) = browse(
        &env.tmp.path().join("jar-other"),
        &back.replacen("http://127.0.0.1", &a.base, 1),
    );
    assert_eq!(status, 401, "the state is spent on every instance");
    assert!(replay.contains("not started here"), "{replay}");

    // The sign-in limit counts guesses wherever they land: five wrong ones spread over both
    // lock the account on both, even for the right password.
    let victim = "victim@bluefin.test";
    let right = add_user(&env, victim, "viewer");
    let attempt = |base: &str, client: &str, password: &str| -> u16 {
        Web::new(&env, &a, "limit")
            .at(base)
            .curl(
                &[
                    "-H",
                    &format!("X-Forwarded-For: {client}"),
                    "--data-urlencode",
                    &format!("email={victim}"),
                    "--data-urlencode",
                    &format!("password={password}"),
                ],
                "/login",
            )
            .0
    };
    for i in 0..5 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(attempt(base, &format!("203.0.113.{i}"), "wrong guess"), 401);
    }
    for s in [&a, &b] {
        assert_eq!(attempt(&s.base, "198.51.100.9", &right), 429, "locked on {}", s.base);
    }

    // Uploads through both at once: each answered only once stored, all there afterwards,
    // and each instance's readiness follows the other's writes.
    let admin = token(&f, "admin").to_string();
    let sample = env.tmp.path().join("concurrent.txt");
    let before = evidence_count(&lb.base, &admin, &f);
    let ids: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (base, admin, sample, control) =
                    (lb.base.clone(), admin.clone(), sample.clone(), f.control.clone());
                scope.spawn(move || {
                    let file = sample.with_extension(format!("{w}.txt"));
                    let mut ids = Vec::new();
                    for i in 0..8 {
                        std::fs::write(&file, format!("worker {w} upload {i}\n")).unwrap();
                        let (status, body) = http(
                            &base,
                            "POST",
                            "/api/v1/evidence",
                            Some(&admin),
                            None,
                            &[
                                ("file", &format!("@{}", file.display())),
                                ("control", &control),
                                ("title", &format!("concurrent {w}-{i}")),
                            ],
                        );
                        assert_eq!(status, 201, "{body}");
                        let v: Value = serde_json::from_str(&body).unwrap();
                        ids.push(v["id"].as_str().unwrap().to_string());
                    }
                    ids
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(ids.len(), 32);
    for s in [&a, &b] {
        assert_eq!(
            evidence_count(&s.base, &admin, &f),
            before + 32,
            "{} lists every upload, whichever instance stored it",
            s.base
        );
    }
    let verify = env.json(&["verify"]);
    assert_eq!(verify["problems"].as_array().unwrap().len(), 0, "{verify}");
}

/// How many current items the control has, as the readiness snapshot of the instance at
/// `base` sees them.
fn evidence_count(base: &str, token: &str, f: &crate::server::Fixture) -> usize {
    let (status, body) = http(
        base,
        "GET",
        &format!("/api/v1/evidence?control={}&state=current", f.control),
        Some(token),
        None,
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["matched"].as_u64().unwrap_or_else(|| panic!("a count: {v}")) as usize
}
