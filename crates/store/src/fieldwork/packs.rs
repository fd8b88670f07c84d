//! Signed packs of fieldwork: one request's evidence, or one sample's (the population file it
//! was drawn from and every sampled item's evidence), in the evidence-pack format, stating the
//! engagement's period. Who sees the request or sample is decided as for reading it.

use evident_core::access::Role;
use evident_pack::SubjectKind;

use crate::{PackRequest, PackSelection, RequestFilter, StoreError, Workspace};

fn period(start: &str, end: &str) -> Result<(time::Date, time::Date), StoreError> {
    let day = |d: &str| evident_core::parse_date(d).map_err(|e| StoreError::Invalid(format!("stored period: {e}")));
    Ok((day(start)?, day(end)?))
}

impl Workspace {
    /// What the pack of one request holds: every item linked to it, each naming the request.
    pub async fn request_pack(&self, role: Role, id: &str, today: time::Date) -> Result<PackRequest, StoreError> {
        let (e, r) = self.request(role, id, today).await?;
        if r.evidence.is_empty() {
            return Err(StoreError::Invalid(format!(
                "request {}: no evidence is linked to it; nothing was written",
                r.reference
            )));
        }
        Ok(PackRequest {
            controls: Vec::new(),
            period: Some(period(&e.period_start, &e.period_end)?),
            selection: Some(PackSelection {
                kind: SubjectKind::Request,
                refs: vec![r.id.clone()],
                title: format!("Request {} of {} ({})", r.reference, e.name, e.firm),
                evidence: r.evidence.iter().map(|l| (l.id.clone(), vec![r.id.clone()])).collect(),
            }),
        })
    }

    /// What the pack of one sample holds: the population file it was drawn from and the
    /// evidence of every sampled item (reads the vault for the packets).
    pub async fn sample_pack(&self, role: Role, id: &str) -> Result<PackRequest, StoreError> {
        let s = self.sample(role, id).await?;
        let e = self.engagement(role, &s.engagement).await?;
        let mut evidence = vec![(s.population.evidence.clone(), Vec::new())];
        for it in &s.items {
            let packet = self.sample_packet(role, &s.id, &it.item).await?;
            evidence.extend(packet.evidence.into_iter().map(|l| (l.id, Vec::new())));
        }
        Ok(PackRequest {
            controls: Vec::new(),
            period: Some(period(&e.period_start, &e.period_end)?),
            selection: Some(PackSelection {
                kind: SubjectKind::Sample,
                refs: vec![s.id.clone()],
                title: format!(
                    "Sample of {} for {}: {} item(s) of {} {}, seed {}",
                    s.control,
                    e.name,
                    s.items.len(),
                    s.population.count,
                    s.population.kind.replace('_', " "),
                    s.seed
                ),
                evidence,
            }),
        })
    }

    /// What the pack of a whole engagement holds: every request's evidence (each file naming
    /// the requests it answers) and every sample's population file and items' evidence, as the
    /// caller may see them.
    pub async fn engagement_pack(&self, role: Role, id: &str, today: time::Date) -> Result<PackRequest, StoreError> {
        let e = self.engagement(role, id).await?;
        let mut evidence = Vec::new();
        for r in self.requests(role, &e.id, &RequestFilter::default(), today).await? {
            evidence.extend(r.evidence.iter().map(|l| (l.id.clone(), vec![r.id.clone()])));
        }
        for s in self.samples(role, &e.id).await? {
            if let Some(sel) = self.sample_pack(role, &s.id).await?.selection {
                evidence.extend(sel.evidence);
            }
        }
        if evidence.is_empty() {
            return Err(StoreError::Invalid(format!(
                "engagement '{}': no request has evidence and no sample is drawn; nothing was written",
                e.name
            )));
        }
        Ok(PackRequest {
            controls: Vec::new(),
            period: Some(period(&e.period_start, &e.period_end)?),
            selection: Some(PackSelection {
                kind: SubjectKind::Engagement,
                refs: vec![e.id.clone()],
                title: format!("Engagement {} ({}): requests and samples", e.name, e.firm),
                evidence,
            }),
        })
    }
}
