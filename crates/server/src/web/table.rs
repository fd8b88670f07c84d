//! Listings: filtered, sorted and paged on the server, so a page of 50 rows out of 200,000 costs
//! the browser nothing. The same query parameters drive pages and the API:
//! `q` (text search), `sort`, `dir` (asc|desc), `page`, `per` (max 100), and per-listing filters.

use std::collections::BTreeMap;

pub const DEFAULT_PER: usize = 50;
pub const MAX_PER: usize = 100;
/// Far beyond any listing; keeps the offset arithmetic in range.
pub const MAX_PAGE: usize = 1_000_000;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<usize>,
    pub per: Option<usize>,
    /// Named filters (`status=gap`, `category=security`…).
    pub filters: BTreeMap<String, String>,
}

impl ListQuery {
    /// From the query string's pairs (typed fields inside a flattened serde struct do not
    /// survive url-encoding, so the map is taken apart by hand). A page or size that is not a
    /// whole number in range, or a direction other than asc/desc, is refused naming it (400):
    /// a listing never silently answers something other than what was asked.
    pub fn parse(mut m: BTreeMap<String, String>) -> Result<ListQuery, crate::ServerError> {
        let number = |name: &str, v: Option<String>, max: usize| -> Result<Option<usize>, crate::ServerError> {
            let Some(v) = v else { return Ok(None) };
            match v.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(crate::ServerError::Malformed {
                    field: name.to_string(),
                    reason: format!("'{v}' is not a whole number from 1 to {max}"),
                }),
            }
        };
        let dir = m.remove("dir");
        if let Some(d) = &dir
            && d != "asc"
            && d != "desc"
        {
            return Err(crate::ServerError::Malformed {
                field: "dir".into(),
                reason: format!("'{d}' is not asc or desc"),
            });
        }
        Ok(ListQuery {
            q: m.remove("q"),
            sort: m.remove("sort"),
            dir,
            page: number("page", m.remove("page"), MAX_PAGE)?,
            per: number("per", m.remove("per"), MAX_PER)?,
            filters: m,
        })
    }

    pub fn per(&self) -> usize {
        self.per.unwrap_or(DEFAULT_PER).clamp(1, MAX_PER)
    }
    pub fn page(&self) -> usize {
        self.page.unwrap_or(1).max(1)
    }
    pub fn desc(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.filters.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// One cell: its text, where it links, and a badge class when it shows a status.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub badge: Option<String>,
    pub num: bool,
    /// A code people read whole (ACC-01, CC6.1, R-12): it never breaks across lines.
    pub code: bool,
    /// Said when the pointer rests on the link (where it leads).
    pub title: Option<String>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            ..Cell::default()
        }
    }
    pub fn link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: Some(href.into()),
            ..Cell::default()
        }
    }
    /// A link whose text is a code ([`Cell::code`]).
    pub fn code_link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            code: true,
            ..Cell::link(t, href)
        }
    }
    pub fn badge(t: impl Into<String>) -> Cell {
        let t = t.into();
        Cell {
            badge: Some(t.clone()),
            text: t.replace('_', " "),
            ..Cell::default()
        }
    }
    pub fn num(n: impl std::fmt::Display) -> Cell {
        Cell {
            text: n.to_string(),
            num: true,
            ..Cell::default()
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// The JSON the API returns for this row.
    pub json: serde_json::Value,
    /// Filter values by filter name.
    pub tags: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub key: &'static str,
    pub label: std::borrow::Cow<'static, str>,
}

pub const fn col(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label: std::borrow::Cow::Borrowed(label),
    }
}

/// A select filter offered above the table.
#[derive(Debug, Clone)]
pub struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<String>,
    pub chosen: String,
}

/// What one page of a listing shows.
#[derive(Debug, Clone)]
pub struct Page {
    pub columns: Vec<HeaderCell>,
    pub rows: Vec<Row>,
    pub total: usize,
    pub matched: usize,
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub q: String,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
pub struct HeaderCell {
    pub label: std::borrow::Cow<'static, str>,
    pub href: String,
    /// `ascending`/`descending` when the table is sorted by this column.
    pub sort: Option<&'static str>,
}

fn link(base: &str, query: &ListQuery, page: usize, sort: Option<(&str, bool)>) -> String {
    let mut parts = Vec::new();
    if let Some(q) = query.q.as_deref().filter(|q| !q.is_empty()) {
        parts.push(format!("q={}", crate::web::html::url_encode(q)));
    }
    for (k, v) in &query.filters {
        if !v.is_empty() && k != "csrf" {
            parts.push(format!(
                "{}={}",
                crate::web::html::url_encode(k),
                crate::web::html::url_encode(v)
            ));
        }
    }
    match sort {
        Some((key, desc)) => {
            parts.push(format!("sort={key}"));
            if desc {
                parts.push("dir=desc".into());
            }
        }
        None => {
            if let Some(s) = &query.sort {
                parts.push(format!("sort={}", crate::web::html::url_encode(s)));
            }
            if query.desc() {
                parts.push("dir=desc".into());
            }
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if query.per.is_some() {
        parts.push(format!("per={}", query.per()));
    }
    match (parts.is_empty(), base.contains('?')) {
        (true, _) => base.to_string(),
        (false, true) => format!("{base}&{}", parts.join("&")),
        (false, false) => format!("{base}?{}", parts.join("&")),
    }
}

/// Filters, sorts and cuts `rows` to the page `query` asks for. Works on positions, so only
/// the rows of the page are copied (the full list can be shared between requests).
pub fn page(
    base: &str,
    columns: &[Column],
    all: &[Row],
    query: &ListQuery,
    filters: Vec<(&'static str, &'static str)>,
) -> Page {
    let rows: Vec<&Row> = all.iter().collect();
    let total = rows.len();
    let offered: Vec<Filter> = filters
        .iter()
        .map(|(name, label)| {
            // Distinct values first, sorted after: tens of thousands of rows share a few dozen
            // values, and sorting them all (what collecting into a BTreeSet does) took most of
            // a large listing's time.
            let distinct: std::collections::HashSet<&str> = rows
                .iter()
                .flat_map(|r| r.tags.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()))
                .collect();
            let mut options: Vec<&str> = distinct.into_iter().collect();
            options.sort_unstable();
            Filter {
                name,
                label,
                options: options.into_iter().map(str::to_string).collect(),
                chosen: query.filter(name).unwrap_or("").to_string(),
            }
        })
        .collect();
    let sort_index = query
        .sort
        .as_deref()
        .and_then(|s| columns.iter().position(|c| c.key == s));
    let rows = select(columns, rows, query, &filters);
    let matched = rows.len();
    let per = query.per();
    let pages = matched.div_ceil(per).max(1);
    let page = query.page().min(pages);
    let start = (page - 1) * per;
    let rows: Vec<Row> = rows.into_iter().skip(start).take(per).cloned().collect();
    let header = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let current = sort_index == Some(i);
            HeaderCell {
                label: c.label.clone(),
                href: link(base, query, 1, Some((c.key, current && !query.desc()))),
                sort: current.then_some(if query.desc() { "descending" } else { "ascending" }),
            }
        })
        .collect();
    Page {
        columns: header,
        first: if matched == 0 { 0 } else { start + 1 },
        last: start + rows.len(),
        rows,
        total,
        matched,
        prev: (page > 1).then(|| link(base, query, page - 1, None)),
        next: (page < pages).then(|| link(base, query, page + 1, None)),
        q: query.q.clone().unwrap_or_default(),
        filters: offered,
    }
}

/// The rows a listing's query selects, filtered, searched and sorted, uncut: what a page shows
/// a slice of, and what a download of the same view holds.
pub fn select<'a>(
    columns: &[Column],
    mut rows: Vec<&'a Row>,
    query: &ListQuery,
    filters: &[(&'static str, &'static str)],
) -> Vec<&'a Row> {
    for (name, _) in filters {
        if let Some(want) = query.filter(name) {
            rows.retain(|r| r.tags.iter().any(|(n, v)| n == name && v == want));
        }
    }
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        rows.retain(|r| r.cells.iter().any(|c| c.text.to_lowercase().contains(&q)));
    }
    let sort_index = query
        .sort
        .as_deref()
        .and_then(|s| columns.iter().position(|c| c.key == s));
    if let Some(i) = sort_index {
        // Keys computed once per row, not once per comparison (20,000 rows sort in ~300,000).
        let numeric = rows.iter().all(|r| r.cells.get(i).is_none_or(|c| c.num));
        if numeric {
            let n = |r: &&Row| r.cells[i].text.replace(',', "").parse::<f64>().unwrap_or(f64::MIN);
            rows.sort_by(|a, b| n(a).total_cmp(&n(b)));
        } else {
            rows.sort_by_cached_key(|r| r.cells[i].text.to_lowercase());
        }
        if query.desc() {
            rows.reverse();
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                cells: vec![Cell::text(format!("item {i:03}")), Cell::num(i)],
                json: serde_json::json!(i),
                tags: vec![("parity", if i % 2 == 0 { "even" } else { "odd" }.into())],
            })
            .collect()
    }

    #[test]
    fn filters_sorts_and_pages() {
        let columns = [col("name", "Name"), col("n", "N")];
        let q = ListQuery {
            sort: Some("n".into()),
            dir: Some("desc".into()),
            per: Some(10),
            page: Some(2),
            filters: [("parity".to_string(), "odd".to_string())].into(),
            ..ListQuery::default()
        };
        let p = page("/x", &columns, &rows(120), &q, vec![("parity", "Parity")]);
        assert_eq!((p.total, p.matched, p.first, p.last), (120, 60, 11, 20));
        // Descending odd numbers: 119, 117, … the second page starts at 99.
        assert_eq!(p.rows[0].cells[1].text, "99");
        assert!(p.prev.as_deref().unwrap().contains("parity=odd"));
        assert!(p.next.as_deref().unwrap().contains("page=3"));
        assert_eq!(p.filters[0].options, vec!["even", "odd"]);
    }

    #[test]
    fn text_search_and_out_of_range_pages() {
        let q = ListQuery {
            q: Some("ITEM 05".into()),
            page: Some(9),
            ..ListQuery::default()
        };
        let p = page("/x", &[col("name", "Name")], &rows(100), &q, vec![]);
        assert_eq!(p.matched, 10);
        assert_eq!((p.first, p.last), (1, 10));
        assert!(p.next.is_none() && p.prev.is_none());
    }
}
