//! Icons as inline SVG, made with DOM calls (never markup), so they show
//! where no emoji or symbol font is installed. Each is decorative
//! (`aria-hidden`): the button or text beside it carries the accessible
//! name. Paths from Material Icons (Apache 2.0), on a 24×24 grid.

use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Phone,
    Person,
    Incoming,
    Outgoing,
    Missed,
    Gear,
}

impl Icon {
    fn path(self) -> &'static str {
        match self {
            Icon::Phone => {
                "M6.62 10.79a15.05 15.05 0 0 0 6.59 6.59l2.2-2.2a1 1 0 0 1 1.02-.24c1.12.37 2.33.57 3.57.57a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1.02l-2.2 2.2z"
            }
            Icon::Person => {
                "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z"
            }
            Icon::Incoming => "M20 5.41 18.59 4 7 15.59V9H5v10h10v-2H8.41z",
            Icon::Outgoing => "M9 5v2h6.59L4 18.59 5.41 20 17 8.41V15h2V5z",
            Icon::Missed => "M19.59 7 12 14.59 6.41 9H11V7H3v8h2v-4.59l7 7 9-9z",
            Icon::Gear => {
                "M19.14 12.94c.04-.3.06-.61.06-.94s-.02-.64-.07-.94l2.03-1.58a.49.49 0 0 0 .12-.61l-1.92-3.32a.49.49 0 0 0-.59-.22l-2.39.96a7 7 0 0 0-1.62-.94l-.36-2.54a.48.48 0 0 0-.48-.41h-3.84a.47.47 0 0 0-.47.41l-.36 2.54c-.59.24-1.13.57-1.62.94l-2.39-.96a.48.48 0 0 0-.59.22L2.74 8.87a.47.47 0 0 0 .12.61l2.03 1.58c-.05.3-.09.63-.09.94s.02.64.07.94l-2.03 1.58a.49.49 0 0 0-.12.61l1.92 3.32c.12.22.37.29.59.22l2.39-.96c.5.38 1.03.7 1.62.94l.36 2.54c.05.24.24.41.48.41h3.84c.24 0 .44-.17.47-.41l.36-2.54c.59-.24 1.13-.56 1.62-.94l2.39.96c.22.08.47 0 .59-.22l1.92-3.32a.47.47 0 0 0-.12-.61zM12 15.6a3.6 3.6 0 1 1 0-7.2 3.6 3.6 0 0 1 0 7.2z"
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Icon::Phone => "phone",
            Icon::Person => "person",
            Icon::Incoming => "incoming",
            Icon::Outgoing => "outgoing",
            Icon::Missed => "missed",
            Icon::Gear => "gear",
        }
    }
}

/// `<svg class="icon" aria-hidden="true"><path d=…/></svg>`.
pub fn svg(doc: &Document, icon: Icon) -> Result<Element, JsError> {
    let svg = doc.create_element_ns(Some(SVG_NS), "svg")?;
    for (k, v) in [
        ("viewBox", "0 0 24 24"),
        ("width", "16"),
        ("height", "16"),
        ("aria-hidden", "true"),
        ("focusable", "false"),
        ("class", "icon"),
        ("data-icon", icon.name()),
    ] {
        svg.set_attribute(k, v)?;
    }
    let path = doc.create_element_ns(Some(SVG_NS), "path")?;
    path.set_attribute("d", icon.path())?;
    path.set_attribute("fill", "currentColor")?;
    svg.add(&path)?;
    Ok(svg)
}

/// A button showing only an icon: `label` is its accessible name (and tooltip).
pub fn button(doc: &Document, action: &str, icon: Icon, label: &str) -> Result<Element, JsError> {
    let b = dom::el(doc, "button", "button icon-button", None)?;
    b.set_attribute("type", "button")?;
    b.set_attribute("data-action", action)?;
    b.set_attribute("aria-label", label)?;
    b.set_attribute("title", label)?;
    b.add(&svg(doc, icon)?)?;
    Ok(b)
}
