//! Policies are Markdown; they are rendered and then sanitised, so a policy can never carry
//! script into the page of whoever reads it.

/// HTML that went through the sanitiser: the only markup templates print unescaped.
#[derive(Debug, Clone)]
pub struct SafeHtml(String);

impl std::fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SafeHtml {}

pub fn render(source: &str) -> SafeHtml {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    let html = comrak::markdown_to_html(source, &options);
    SafeHtml(ammonia::clean(&html))
}
