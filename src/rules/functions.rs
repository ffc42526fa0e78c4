//! Functions rules may call where plain CEL would be clumsy.

use std::sync::Arc;

use cel::objects::Key;
use cel::{Context, Value};

/// Every function added here, for validating rule files.
pub const NAMES: [&str; 8] = [
    "exempt_under",
    "optional_purpose",
    "has_role",
    "role_buttons",
    "any_category",
    "in_categories",
    "names",
    "join",
];

pub fn register(ctx: &mut Context<'_, '_>) {
    let ok = [
        ctx.add_function("exempt_under", |item: Value, profile: Value| {
            exempt_under(&item, &profile)
        }),
        ctx.add_function("optional_purpose", |category: Arc<String>| {
            optional_purpose(&category)
        }),
        ctx.add_function("has_role", |banner: Value, role: Arc<String>| {
            !first_layer_with_role(&banner, &role).is_empty()
        }),
        ctx.add_function("role_buttons", |banner: Value, role: Arc<String>| {
            Value::List(Arc::new(first_layer_with_role(&banner, &role)))
        }),
        ctx.add_function(
            "any_category",
            |list: Arc<Vec<Value>>, cats: Arc<Vec<Value>>| list.iter().any(|v| in_any(v, &cats)),
        ),
        ctx.add_function(
            "in_categories",
            |list: Arc<Vec<Value>>, cats: Arc<Vec<Value>>| {
                Value::List(Arc::new(
                    list.iter().filter(|v| in_any(v, &cats)).cloned().collect(),
                ))
            },
        ),
        ctx.add_function("names", |list: Arc<Vec<Value>>| {
            Value::List(Arc::new(
                list.iter()
                    .map(|v| Value::String(Arc::new(name_of(v))))
                    .collect(),
            ))
        }),
        ctx.add_function("join", |list: Arc<Vec<Value>>, sep: Arc<String>| {
            list.iter()
                .map(display)
                .collect::<Vec<_>>()
                .join(sep.as_str())
        }),
    ];
    for r in ok {
        r.expect("custom function names do not clash with the CEL standard library");
    }
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(key.to_owned()))),
        _ => None,
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match field(v, key) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn first_layer_with_role(banner: &Value, role: &str) -> Vec<Value> {
    match field(banner, "buttons") {
        Some(Value::List(buttons)) => buttons
            .iter()
            .filter(|b| {
                str_field(b, "role") == Some(role)
                    && !matches!(field(b, "first_layer"), Some(Value::Bool(false)))
            })
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// A cookie or tracker a national exemption covers under this profile (e.g. CNIL audience
/// measurement, délibération 2020-091): exemptable, and the profile grants the exemption.
fn exempt_under(item: &Value, profile: &Value) -> bool {
    let granted = field(profile, "settings").and_then(|s| field(s, "analytics_exemption"));
    matches!(field(item, "exemptable"), Some(Value::Bool(true)))
        && matches!(granted, Some(Value::Bool(true)))
}

/// A purpose a visitor may refuse: everything but what is strictly necessary.
fn optional_purpose(category: &str) -> bool {
    matches!(
        category,
        "preferences" | "analytics" | "advertising" | "social"
    )
}

fn in_any(v: &Value, cats: &[Value]) -> bool {
    let cat = str_field(v, "category").unwrap_or_default();
    cats.iter()
        .any(|c| matches!(c, Value::String(s) if s.as_str() == cat))
}

/// What to call an item in a message: a cookie's name, a button's label, a tracker's host.
fn name_of(v: &Value) -> String {
    ["name", "label", "host", "text", "url"]
        .iter()
        .find_map(|k| str_field(v, k).filter(|s| !s.is_empty()))
        .map(str::to_owned)
        // `display` of a map comes back here: a map without a name (e.g. a button with an empty
        // label) must not recurse until the stack overflows (found by the `extract` fuzz target).
        .unwrap_or_else(|| match v {
            Value::Map(_) => String::new(),
            other => display(other),
        })
}

/// A value as plain text for messages and evidence.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format!("{f:.2}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::List(items) => items
            .iter()
            .map(|i| {
                if matches!(i, Value::Map(_)) {
                    name_of(i)
                } else {
                    display(i)
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Map(_) => name_of(v),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_map_without_a_name_displays_as_empty_instead_of_recursing() {
        let unnamed = Value::from(HashMap::from([("label", ""), ("role", "accept")]));
        assert_eq!(display(&unnamed), "");
        let list = Value::List(Arc::new(vec![
            unnamed,
            Value::from(HashMap::from([("label", "Accept")])),
        ]));
        assert_eq!(display(&list), ", Accept");
    }
}
