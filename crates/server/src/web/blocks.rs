//! What a detail page shows, as typed values: `detail.html` (and its macros in `blocks.html`)
//! turns them into HTML, with askama escaping every string. Handlers never write markup, so
//! no datum can reach the page unescaped.

/// A titled card of a detail page; an empty title makes an untitled card.
pub struct Section {
    pub title: String,
    /// The card's id, for links that land on it (`#new-version`); empty for none.
    pub anchor: String,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn new(title: impl Into<String>, blocks: Vec<Block>) -> Section {
        Section {
            title: title.into(),
            anchor: String::new(),
            blocks,
        }
    }

    pub fn anchored(mut self, anchor: &str) -> Section {
        self.anchor = anchor.to_string();
        self
    }
}

pub enum Block {
    Para(Vec<Inline>),
    /// Small, muted text: what a form does, why a list is cut short.
    Note(String),
    /// Term and description pairs.
    Facts(Vec<(String, Vec<Inline>)>),
    List(Vec<Vec<Inline>>),
    Ordered(Vec<Vec<Inline>>),
    Table(Table),
    Form(Form),
    Heading(String),
    /// A secret shown once (a new password, a token), in a box people can copy from.
    Secret(String),
    HeatMap(HeatMap),
    /// Rows of coloured runs over time (a control's periods, a check's days), each with a label.
    Strips(Vec<Strip>),
}

/// One row of a strip chart: runs of equal status laid end to end across the period.
pub struct Strip {
    pub label: Vec<Inline>,
    /// Said after the strip: counts, the deadline rule.
    pub note: String,
    pub runs: Vec<Run>,
    /// What the whole strip shows, for screen readers.
    pub summary: String,
}

/// Consecutive units (days, periods) of one status, positioned in units from the strip's start.
pub struct Run {
    pub x: usize,
    pub width: usize,
    /// The status's wire name (`met`, `missed`, `pass`, `no_data` …), the colour's class.
    pub class: String,
    pub title: String,
}

impl Strip {
    /// Width of the drawing in units (the sum of the runs).
    pub fn units(&self) -> usize {
        self.runs.iter().map(|r| r.x + r.width).max().unwrap_or(1).max(1)
    }
}

/// Runs from a sequence of (status, first label, last label) units: equal neighbours merge.
pub fn runs(units: impl IntoIterator<Item = (String, String, String)>) -> Vec<Run> {
    let mut out: Vec<(usize, usize, String, String, String)> = Vec::new();
    for (i, (class, from, to)) in units.into_iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.2 == class => {
                last.1 += 1;
                last.4 = to;
            }
            _ => out.push((i, 1, class, from, to)),
        }
    }
    out.into_iter()
        .map(|(x, width, class, from, to)| Run {
            x,
            width,
            title: if from == to {
                format!("{from}: {}", class.replace('_', " "))
            } else {
                format!("{from} to {to}: {}", class.replace('_', " "))
            },
            class,
        })
        .collect()
}

pub enum Inline {
    Text(String),
    Muted(String),
    Mono(String),
    Link {
        text: String,
        href: String,
    },
    /// A status word in its colour; the class is the status's wire name.
    Badge {
        class: String,
        text: String,
    },
    /// A link styled as a button; `download` asks the browser to save what it points at.
    Button {
        text: String,
        href: String,
        download: bool,
    },
    Form(Box<Form>),
}

impl Inline {
    pub fn text(s: impl Into<String>) -> Inline {
        Inline::Text(s.into())
    }
    pub fn muted(s: impl Into<String>) -> Inline {
        Inline::Muted(s.into())
    }
    pub fn mono(s: impl Into<String>) -> Inline {
        Inline::Mono(s.into())
    }
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Inline {
        Inline::Link {
            text: text.into(),
            href: href.into(),
        }
    }
    /// A status badge: `at_risk` reads "at risk" in the class's colour.
    pub fn badge(status: impl Into<String>) -> Inline {
        let class = status.into();
        Inline::Badge {
            text: class.replace('_', " "),
            class,
        }
    }
}

/// One inline text: the usual content of a fact or a cell.
pub fn text(s: impl Into<String>) -> Vec<Inline> {
    vec![Inline::text(s)]
}

pub struct Table {
    pub id: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Vec<Inline>>>,
}

/// A form posted to this server; the CSRF token is added by the template.
pub struct Form {
    pub action: String,
    /// Sent as a GET query (a view's settings) rather than posted.
    pub get: bool,
    /// A file upload: the CSRF token travels in the query, read before the body streams.
    pub multipart: bool,
    /// Laid out on one line (in a table's cell) rather than stacked.
    pub inline: bool,
    /// Asked before the form is sent (withdrawals, revocations).
    pub confirm: Option<String>,
    pub csrf: String,
    pub intro: Option<String>,
    pub fields: Vec<Field>,
    pub submit: String,
    /// `primary`, `danger` or empty.
    pub submit_class: &'static str,
    pub hint: Option<String>,
}

impl Form {
    /// One primary button that takes a step, with a line saying what it does.
    pub fn step(action: impl Into<String>, csrf: &Option<String>, submit: impl Into<String>, intro: &str) -> Form {
        Form {
            submit_class: "primary",
            intro: Some(intro.into()),
            ..Form::post(action, csrf, submit)
        }
    }

    pub fn post(action: impl Into<String>, csrf: &Option<String>, submit: impl Into<String>) -> Form {
        Form {
            action: action.into(),
            get: false,
            multipart: false,
            inline: false,
            confirm: None,
            csrf: csrf.clone().unwrap_or_default(),
            intro: None,
            fields: Vec::new(),
            submit: submit.into(),
            submit_class: "",
            hint: None,
        }
    }
}

pub struct Field {
    /// The element id; unique on the page.
    pub id: String,
    pub name: String,
    pub label: String,
    /// Read by screen readers only (a select in a table row).
    pub label_hidden: bool,
    pub input: Input,
    pub value: String,
    pub required: bool,
    /// Why the value sent was refused, shown under the field.
    pub error: Option<String>,
    /// A word inside an empty text box, for a field whose label is read by screen readers only.
    pub placeholder: Option<String>,
}

impl Field {
    pub fn new(id: impl Into<String>, name: impl Into<String>, label: impl Into<String>, input: Input) -> Field {
        Field {
            id: id.into(),
            name: name.into(),
            label: label.into(),
            label_hidden: false,
            input,
            value: String::new(),
            required: false,
            error: None,
            placeholder: None,
        }
    }
    /// A field in a table row: its label is for screen readers, the box shows `placeholder`.
    pub fn in_row(mut self, placeholder: impl Into<String>) -> Field {
        self.label_hidden = true;
        self.placeholder = Some(placeholder.into());
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }
    pub fn error(mut self, e: Option<String>) -> Field {
        self.error = e;
        self
    }
    /// A value sent with the form and not shown.
    pub fn hidden(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field::new(String::new(), name, String::new(), Input::Hidden).value(value)
    }
    pub fn is_hidden(&self) -> bool {
        matches!(self.input, Input::Hidden)
    }

    pub fn is_checks(&self) -> bool {
        matches!(self.input, Input::Checks(_))
    }
}

pub enum Input {
    /// Sent with the form, not shown (which item a row's form is about, which step a button takes).
    Hidden,
    Text,
    Email,
    Date,
    /// Several lines of text.
    TextArea,
    /// A file picker with a drop zone, and a progress bar while it uploads.
    File,
    /// (value, label) options; the field's value is the selected one.
    Select(Vec<(String, String)>),
    /// Several choices that may each be ticked, sent under the field's name once per tick.
    Checks(Vec<Check>),
}

/// One box of [`Input::Checks`].
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
    /// Always ticked and not to be unticked (Security in a scope).
    pub locked: bool,
}

/// (impact, count, severity band 1–5)
pub type HeatCell = (usize, usize, usize);

/// The 5×5 matrix of likelihood (rows, 5 at the top) by impact, with a count in each cell.
pub struct HeatMap {
    /// `cells[l-1][i-1]`: risks with likelihood l and impact i.
    pub cells: [[usize; 5]; 5],
}

impl HeatMap {
    /// Rows from likelihood 5 down to 1, each with its cells.
    pub fn rows(&self) -> Vec<(usize, Vec<HeatCell>)> {
        (1..=5usize)
            .rev()
            .map(|l| {
                let cells = (1..=5usize)
                    .map(|i| {
                        // The cell's score on the 1–25 scale, in five bands.
                        let band = (l * i).div_ceil(5).clamp(1, 5);
                        (i, self.cells[l - 1][i - 1], band)
                    })
                    .collect();
                (l, cells)
            })
            .collect()
    }
}
