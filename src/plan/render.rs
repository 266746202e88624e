//! Rendering a `Plan`: text (Terraform vocabulary, colour on a terminal), JSON and Markdown,
//! all with the same content.
