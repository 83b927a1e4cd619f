//! Icons as inline SVG, made with DOM calls (never markup), so they show
//! where no emoji or symbol font is installed. Each is decorative
//! (`aria-hidden`): the button or text beside it carries the accessible
//! name. Our own simple shapes on a 24×24 grid, filled even-odd (the gear's hole).

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
                "M5 3h4l2 5-2.5 1.5a12 12 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2C10.7 21 3 13.3 3 5a2 2 0 0 1 2-2z"
            }
            Icon::Person => {
                "M12 3a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zM3 21c0-4.4 4-7 9-7s9 2.6 9 7z"
            }
            Icon::Incoming => "M18.5 4 20 5.5 9.1 16.4H15v2.1H5.5V9h2.1v5.9z",
            Icon::Outgoing => "M9 5h9.5v9.5h-2.1V8.6L5.5 19.5 4 18 14.9 7.1H9z",
            Icon::Missed => "M3 7h7v2H6.4l5.6 5.6L19.6 7 21 8.4l-9 9-7-7V13H3z",
            Icon::Gear => {
                "M10.5 2h3l.5 2.6 1.9.8 2.2-1.5 2.1 2.1-1.5 2.2.8 1.9 2.5.4v3l-2.5.5-.8 1.9 1.5 2.2-2.1 2.1-2.2-1.5-1.9.8-.5 2.5h-3l-.5-2.5-1.9-.8-2.2 1.5-2.1-2.1 1.5-2.2-.8-1.9L2 13.5v-3l2.5-.5.8-1.9-1.5-2.2 2.1-2.1 2.2 1.5 1.9-.8zM12 8.5a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7z"
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
    path.set_attribute("fill-rule", "evenodd")?;
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
