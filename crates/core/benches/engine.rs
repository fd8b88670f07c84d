//! The engines alone, in memory, over generated organisations: every built-in check, and the
//! readiness assessment over all controls. `cargo bench -p evident-core --bench engine`.

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use evident_catalog::Catalog;
use evident_core::checks::{self, BUILTIN, CheckStatus};
use evident_core::generate::{Size, company};
use evident_core::readiness::{self, CheckFact, ControlInput, EvidenceFact};
use time::macros::datetime;

fn engines(c: &mut Criterion) {
    let now = datetime!(2026-11-23 12:00 UTC);
    let catalog = Catalog::builtin();
    for size in [Size::S, Size::M, Size::L] {
        let generated = company(size, 1, now, catalog);
        let facts = generated.check_facts();
        let name = format!("{size:?}").to_lowercase();
        c.bench_function(&format!("all checks, size {name}"), |b| {
            b.iter(|| {
                BUILTIN
                    .iter()
                    .map(|d| checks::run(d, &facts, &[], now))
                    .collect::<Vec<_>>()
            })
        });

        let results: Vec<_> = BUILTIN.iter().map(|d| checks::run(d, &facts, &[], now)).collect();
        let mut by_control: BTreeMap<&str, Vec<CheckFact>> = BTreeMap::new();
        for (def, r) in BUILTIN.iter().zip(&results) {
            for code in def.controls() {
                by_control.entry(code).or_default().push(CheckFact {
                    id: r.id.clone(),
                    failed: r.failed,
                    failing: r.status == CheckStatus::Fail,
                    failing_since: None,
                });
            }
        }
        let mut evidence: BTreeMap<&str, Vec<EvidenceFact>> = BTreeMap::new();
        for (i, d) in generated.documents.iter().enumerate() {
            for (code, req) in &d.controls {
                evidence.entry(code).or_default().push(EvidenceFact {
                    id: i.to_string(),
                    requirement: req.clone(),
                    attests: d.period.map(|p| p.1).or(d.effective_date).unwrap_or(now.date()),
                });
            }
        }
        let inputs: Vec<ControlInput> = catalog
            .library
            .controls
            .iter()
            .map(|t| ControlInput {
                code: t.id.clone(),
                title: t.title.clone(),
                owner: Some("owner@example.com".into()),
                applicable: true,
                criteria: t.criteria.clone(),
                requirements: t.evidence.clone(),
                evidence: evidence.remove(t.id.as_str()).unwrap_or_default(),
                checks: by_control.remove(t.id.as_str()).unwrap_or_default(),
                policies: Vec::new(),
            })
            .collect();
        let criteria: Vec<String> = catalog.framework.criteria.iter().map(|k| k.id.clone()).collect();
        c.bench_function(&format!("readiness engine, size {name}"), |b| {
            b.iter(|| readiness::assess(&inputs, &criteria, now.date(), readiness::DEFAULT_GRACE_DAYS))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = engines
}
criterion_main!(benches);
