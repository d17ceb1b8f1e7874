//! Decoding ISM/1 objects from JSON values with precise rejections (ISM-1 §3.3).
//!
//! Derived serde decoding reports problems as text only; ISM/1 needs a stable
//! reason code and the path of the offending member for every refusal. So
//! each ISM/1 type implements [`Json`], usually through [`ism_object!`], which
//! reads members by name, refuses unknown members before anything else, and
//! then applies the type's cross-field [`Rules`].

use serde_json::{Map, Value};

use crate::limits::MAX_LIST_ITEMS;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A type with an exact ISM/1 JSON form.
pub trait Json: Sized {
    /// Decodes the value found at `path` (a dotted member path, empty at the top).
    fn from_json(value: &Value, path: &str) -> Result<Self, Rejection>;

    /// Encodes to the JSON value whose canonical bytes are signed.
    fn to_json(&self) -> Value;

    /// What an absent member decodes to; `None` means the member is required.
    fn when_absent() -> Option<Self> {
        None
    }

    /// Writes this value as member `name` of an object; absent optionals write nothing.
    fn write_member(&self, name: &str, members: &mut Map<String, Value>) {
        members.insert(name.to_string(), self.to_json());
    }
}

/// Cross-field rules of a type, checked after all its members decoded.
pub trait Rules {
    /// Checks rules that involve more than one member; `path` names this object.
    fn check(&self, path: &str) -> Result<(), Rejection> {
        let _ = path;
        Ok(())
    }
}

/// The path of member `name` inside the object at `path`.
pub fn child_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Names the JSON type of a value in a sentence.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The string at `path`, or a `WRONG_TYPE` rejection.
pub fn expect_str<'a>(value: &'a Value, path: &str) -> Result<&'a str, Rejection> {
    value.as_str().ok_or_else(|| {
        Rejection::at(
            ReasonCode::WrongType,
            path,
            format!("expected a string, found {}", type_name(value)),
        )
    })
}

/// Reads the declared members of one JSON object.
pub struct ObjectReader<'a> {
    path: &'a str,
    members: &'a Map<String, Value>,
}

impl<'a> ObjectReader<'a> {
    /// Checks that `value` is an object whose members are all among `declared`.
    pub fn new(value: &'a Value, path: &'a str, declared: &[&str]) -> Result<Self, Rejection> {
        let Value::Object(members) = value else {
            let at = if path.is_empty() { "message" } else { path };
            return Err(Rejection::at(
                ReasonCode::WrongType,
                at,
                format!("expected an object, found {}", type_name(value)),
            ));
        };
        // Unknown members first: a misspelt name is reported as what it is,
        // not as the required member it was meant to be.
        if let Some(unknown) = members.keys().find(|k| !declared.contains(&k.as_str())) {
            return Err(Rejection::at(
                ReasonCode::UnknownField,
                child_path(path, unknown),
                format!(
                    "{unknown} is not a member of this object; expected only {}",
                    declared.join(", "),
                    unknown = quoted(unknown)
                ),
            ));
        }
        Ok(ObjectReader { path, members })
    }

    /// A member's value, if present, for members read by hand.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.members.get(name)
    }

    /// Decodes member `name`, applying the type's rule for absence.
    pub fn field<T: Json>(&self, name: &str) -> Result<T, Rejection> {
        let path = child_path(self.path, name);
        match self.members.get(name) {
            Some(value) => T::from_json(value, &path),
            None => T::when_absent().ok_or_else(|| {
                Rejection::at(
                    ReasonCode::MissingField,
                    path,
                    format!("the required member \"{name}\" is absent"),
                )
            }),
        }
    }
}

impl<T: Json> Json for Option<T> {
    fn from_json(value: &Value, path: &str) -> Result<Self, Rejection> {
        if value.is_null() {
            return Err(Rejection::at(
                ReasonCode::WrongType,
                path,
                "null is not allowed; leave an optional member out instead",
            ));
        }
        T::from_json(value, path).map(Some)
    }
    fn to_json(&self) -> Value {
        match self {
            Some(inner) => inner.to_json(),
            None => Value::Null,
        }
    }
    fn when_absent() -> Option<Self> {
        Some(None)
    }
    fn write_member(&self, name: &str, members: &mut Map<String, Value>) {
        if let Some(inner) = self {
            inner.write_member(name, members);
        }
    }
}

impl<T: Json> Json for Vec<T> {
    fn from_json(value: &Value, path: &str) -> Result<Self, Rejection> {
        let Value::Array(items) = value else {
            return Err(Rejection::at(
                ReasonCode::WrongType,
                path,
                format!("expected an array, found {}", type_name(value)),
            ));
        };
        if items.len() > MAX_LIST_ITEMS {
            return Err(Rejection::at(
                ReasonCode::TooManyItems,
                path,
                format!(
                    "the list has {} entries; at most {MAX_LIST_ITEMS} are allowed",
                    items.len()
                ),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| T::from_json(item, &format!("{path}[{index}]")))
            .collect()
    }
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(Json::to_json).collect())
    }
}

/// Declares an ISM/1 object: the struct, its [`Json`] form and serde impls.
/// Members are written in JSON under their Rust names; the type must also
/// implement [`Rules`].
macro_rules! ism_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::json::Json for $name {
            fn from_json(
                value: &serde_json::Value,
                path: &str,
            ) -> Result<Self, $crate::reason::Rejection> {
                const DECLARED: &[&str] = &[$(stringify!($field)),*];
                let reader = $crate::json::ObjectReader::new(value, path, DECLARED)?;
                let decoded = $name {
                    $( $field: reader.field(stringify!($field))?, )*
                };
                $crate::json::Rules::check(&decoded, path)?;
                Ok(decoded)
            }
            fn to_json(&self) -> serde_json::Value {
                let mut members = serde_json::Map::new();
                $( $crate::json::Json::write_member(&self.$field, stringify!($field), &mut members); )*
                serde_json::Value::Object(members)
            }
        }

        $crate::json::serde_via_json!($name);
    };
}
pub(crate) use ism_object;

/// Declares a closed set of upper-case codes carried as JSON strings.
macro_rules! ism_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire form.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::json::Json for $name {
            fn from_json(
                value: &serde_json::Value,
                path: &str,
            ) -> Result<Self, $crate::reason::Rejection> {
                let text = $crate::json::expect_str(value, path)?;
                match text {
                    $( $text => Ok($name::$variant), )*
                    other => Err($crate::reason::Rejection::at(
                        $crate::reason::ReasonCode::UnknownCode,
                        path,
                        format!(
                            "{other} is not one of {}",
                            [$($text),*].join(", "), other = $crate::quote::quoted(other)
                        ),
                    )),
                }
            }
            fn to_json(&self) -> serde_json::Value {
                serde_json::Value::String(self.as_str().to_string())
            }
        }

        $crate::json::serde_via_json!($name);
    };
}
pub(crate) use ism_enum;

/// Declares a validated string type: `$parse` checks the text and returns a
/// rejection without a field; decoding places it at the member's path.
macro_rules! ism_string {
    ($name:ident) => {
        impl $name {
            /// The text as written on the wire.
            pub fn as_str(&self) -> &str {
                &self.text
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::reason::Rejection;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::parse(text)
            }
        }

        impl $crate::json::Json for $name {
            fn from_json(
                value: &serde_json::Value,
                path: &str,
            ) -> Result<Self, $crate::reason::Rejection> {
                let text = $crate::json::expect_str(value, path)?;
                $name::parse(text).map_err(|rejection| rejection.in_field(path))
            }
            fn to_json(&self) -> serde_json::Value {
                serde_json::Value::String(self.text.clone())
            }
        }

        $crate::json::serde_via_json!($name);
    };
}
pub(crate) use ism_string;

/// Implements serde's traits through [`Json`], so ISM/1 types can be stored
/// and configured with serde while keeping one definition of their form.
macro_rules! serde_via_json {
    ($name:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serde::Serialize::serialize(&$crate::json::Json::to_json(self), serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                <$name as $crate::json::Json>::from_json(&value, "")
                    .map_err(<D::Error as serde::de::Error>::custom)
            }
        }
    };
}
pub(crate) use serde_via_json;
