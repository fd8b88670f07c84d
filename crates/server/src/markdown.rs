//! Policies are Markdown; they are rendered and then sanitised, so a policy can never carry
//! script into the page of whoever reads it.

pub fn render(source: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    let html = comrak::markdown_to_html(source, &options);
    ammonia::clean(&html)
}
