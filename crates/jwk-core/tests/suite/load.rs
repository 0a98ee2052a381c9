//! The one vector loader: JSON files under `tests/vectors/`, read through [`Obj`], which
//! panics when a test forgets to look at a field (a silently skipped field is a silently
//! skipped check).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Map, Value};

/// Path of a file under `tests/`.
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

/// Raw bytes of a vector file.
pub fn bytes(rel: &str) -> Vec<u8> {
    let p = path(&format!("vectors/{rel}"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A vector file's top-level object.
pub fn file(rel: &str) -> Obj {
    let v: Value = serde_json::from_slice(&bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Obj::new(rel.to_owned(), v)
}

/// A JSON object whose fields must all be read before it is dropped.
pub struct Obj {
    name: String,
    map: Map<String, Value>,
    read: RefCell<BTreeSet<String>>,
}

impl Obj {
    fn new(name: String, v: Value) -> Self {
        let Value::Object(map) = v else {
            panic!("{name}: not a JSON object")
        };
        Obj {
            name,
            map,
            read: RefCell::default(),
        }
    }

    fn get(&self, key: &str) -> &Value {
        self.read.borrow_mut().insert(key.to_owned());
        self.map
            .get(key)
            .unwrap_or_else(|| panic!("{}: no field {key:?}", self.name))
    }

    /// Marks a field as deliberately not used by the test, with the reason in the call site.
    pub fn skip(&self, key: &str) {
        let _ = self.get(key);
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn str(&self, key: &str) -> String {
        self.get(key)
            .as_str()
            .unwrap_or_else(|| panic!("{}: {key:?} is not a string", self.name))
            .to_owned()
    }

    pub fn u64(&self, key: &str) -> u64 {
        self.get(key)
            .as_u64()
            .unwrap_or_else(|| panic!("{}: {key:?} is not a number", self.name))
    }

    /// A member as JSON text, exactly as `serde_json` prints it (for parsers under test).
    pub fn json(&self, key: &str) -> String {
        self.get(key).to_string()
    }

    pub fn list(&self, key: &str) -> Vec<Obj> {
        let Value::Array(items) = self.get(key) else {
            panic!("{}: {key:?} is not an array", self.name)
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| Obj::new(format!("{}.{key}[{i}]", self.name), v.clone()))
            .collect()
    }

    /// The whole object as JSON text.
    pub fn to_json(&self) -> String {
        for k in self.map.keys() {
            self.read.borrow_mut().insert(k.clone());
        }
        Value::Object(self.map.clone()).to_string()
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let read = self.read.borrow();
        let unread: Vec<&String> = self.map.keys().filter(|k| !read.contains(*k)).collect();
        assert!(
            unread.is_empty(),
            "{}: fields never read: {unread:?}",
            self.name
        );
    }
}
