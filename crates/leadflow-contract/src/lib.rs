//! HubSpot's OpenAPI documents as a contract: find the operation a concrete request
//! calls, and validate request and response bodies against that operation's schemas.
//!
//! The documents are read at test time (`LEADFLOW_HUBSPOT_OPENAPI_DIR`, or
//! `../shared/hubspot-openapi` beside the workspace) and never copied into the repo.
//! Schemas are OpenAPI 3.0: each operation's schema is compiled with its document's
//! `components` embedded at the same place, so `#/components/schemas/X` references
//! resolve as JSON pointers; `format` is not asserted (HubSpot writes `int32`, `int64`).
//!
//! This crate knows OpenAPI and JSON Schema, nothing about leadflow's client or sandbox.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};

/// Why the documents could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path} is not JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The directory holds no OpenAPI documents.
    #[error("no OpenAPI documents in {0}")]
    Empty(PathBuf),
}

/// What kind of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// No operation in the documents matches the method and path.
    UnknownOperation,
    /// The operation does not declare the status (and has no `default`).
    UndeclaredStatus,
    /// The body is not JSON where JSON is declared, or not empty where nothing is.
    NotJson,
    /// The body does not match the schema.
    Schema,
}

/// A body that breaks the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// `METHOD /template (document)`.
    pub operation: String,
    /// What kind.
    pub kind: ViolationKind,
    /// Each problem: `instance path: message`.
    pub errors: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} against {}: {}",
            self.kind,
            self.operation,
            self.errors.join("; ")
        )
    }
}

impl std::error::Error for Violation {}

/// One operation of a document.
#[derive(Clone, Copy, Debug)]
pub struct OperationRef<'a> {
    /// The document's file name.
    pub document: &'a str,
    /// The path template, such as `/crm/v3/objects/contacts/{contactId}`.
    pub path_template: &'a str,
    /// The method, upper case.
    pub method: &'a str,
    /// The operation id.
    pub operation_id: &'a str,
    doc: usize,
}

struct Document {
    name: String,
    json: Value,
    /// Path templates split into segments.
    paths: Vec<(String, Vec<String>)>,
}

/// The loaded documents.
pub struct Contract {
    docs: Vec<Document>,
    cache: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field(
                "documents",
                &self.docs.iter().map(|d| &d.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

impl Contract {
    /// Finds the documents: `LEADFLOW_HUBSPOT_OPENAPI_DIR`, else `../shared/hubspot-openapi`
    /// beside the workspace. `None` when neither exists.
    pub fn locate() -> Option<PathBuf> {
        if let Ok(dir) = std::env::var("LEADFLOW_HUBSPOT_OPENAPI_DIR") {
            let p = PathBuf::from(dir);
            return p.is_dir().then_some(p);
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.parent()?;
        let p = workspace.parent()?.join("shared").join("hubspot-openapi");
        p.is_dir().then_some(p)
    }

    /// Loads every `*.json` document of `dir`.
    ///
    /// # Errors
    /// [`ContractError`] when a file cannot be read or parsed, or there is none.
    pub fn load(dir: &Path) -> Result<Self, ContractError> {
        let entries = std::fs::read_dir(dir).map_err(|source| ContractError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let mut docs = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| ContractError::Read {
                path: path.clone(),
                source,
            })?;
            let json: Value =
                serde_json::from_str(&text).map_err(|source| ContractError::Json {
                    path: path.clone(),
                    source,
                })?;
            let paths = json["paths"]
                .as_object()
                .map(|m| {
                    m.keys()
                        .map(|k| (k.clone(), k.split('/').map(str::to_owned).collect()))
                        .collect()
                })
                .unwrap_or_default();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            docs.push(Document { name, json, paths });
        }
        if docs.is_empty() {
            return Err(ContractError::Empty(dir.to_path_buf()));
        }
        // Generic documents last, so specific ones win ties.
        docs.sort_by_key(|d| d.name == "crm-objects-v3.json");
        Ok(Self {
            docs,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Every operation of every document.
    pub fn operations(&self) -> impl Iterator<Item = OperationRef<'_>> {
        self.docs.iter().enumerate().flat_map(|(i, d)| {
            d.paths.iter().flat_map(move |(template, _)| {
                METHODS.iter().filter_map(move |m| {
                    let op = d.json["paths"][template].get(*m)?;
                    Some(OperationRef {
                        document: &d.name,
                        path_template: template,
                        method: upper(m),
                        operation_id: op["operationId"].as_str().unwrap_or(""),
                        doc: i,
                    })
                })
            })
        })
    }

    /// The operation a concrete request calls: the template with the most literal
    /// segments that matches, specific documents before generic ones.
    pub fn operation(&self, method: &str, path: &str) -> Option<OperationRef<'_>> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let m = method.to_ascii_lowercase();
        let mut best: Option<(usize, OperationRef<'_>)> = None;
        for (i, d) in self.docs.iter().enumerate() {
            for (template, parts) in &d.paths {
                if parts.len() != segments.len() {
                    continue;
                }
                let mut literals = 0;
                let matches = parts.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with('{') && p.ends_with('}') {
                        !s.is_empty()
                    } else {
                        literals += 1;
                        p == s
                    }
                });
                if !matches {
                    continue;
                }
                let Some(op) = d.json["paths"][template].get(&m) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(score, _)| literals > *score) {
                    let method = METHODS
                        .iter()
                        .find(|x| **x == m)
                        .map_or("GET", |x| upper(x));
                    best = Some((
                        literals,
                        OperationRef {
                            document: &d.name,
                            path_template: template,
                            method,
                            operation_id: op["operationId"].as_str().unwrap_or(""),
                            doc: i,
                        },
                    ));
                }
            }
        }
        best.map(|(_, op)| op)
    }

    fn op_json(&self, op: &OperationRef<'_>) -> &Value {
        &self.docs[op.doc].json["paths"][op.path_template][op.method.to_ascii_lowercase()]
    }

    fn describe(op: &OperationRef<'_>) -> String {
        format!("{} {} ({})", op.method, op.path_template, op.document)
    }

    fn validator(
        &self,
        op: &OperationRef<'_>,
        pointer: &str,
        schema: &Value,
    ) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        let key = format!("{}#{}", op.document, pointer);
        if let Some(v) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let mut root = schema.clone();
        if let Value::Object(map) = &mut root {
            map.insert(
                "components".to_owned(),
                self.docs[op.doc].json["components"].clone(),
            );
        } else {
            root = json!({ "allOf": [schema], "components": self.docs[op.doc].json["components"] });
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| format!("the schema at {key} does not compile: {e}"))?;
        let v = std::sync::Arc::new(validator);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, v.clone());
        Ok(v)
    }

    fn check(
        &self,
        op: &OperationRef<'_>,
        pointer: &str,
        schema: &Value,
        instance: &Value,
    ) -> Result<(), Violation> {
        let validator = self.validator(op, pointer, schema).map_err(|e| Violation {
            operation: Self::describe(op),
            kind: ViolationKind::Schema,
            errors: vec![e],
        })?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{}: {}", e.instance_path(), e))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Violation {
                operation: Self::describe(op),
                kind: ViolationKind::Schema,
                errors,
            })
        }
    }

    fn unknown(method: &str, path: &str) -> Violation {
        Violation {
            operation: format!("{method} {path}"),
            kind: ViolationKind::UnknownOperation,
            errors: vec!["no operation in HubSpot's documents matches".to_owned()],
        }
    }

    /// Validates a request body.
    ///
    /// # Errors
    /// A [`Violation`] saying what does not match.
    pub fn validate_request(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(), Violation> {
        let op = self
            .operation(method, path)
            .ok_or_else(|| Self::unknown(method, path))?;
        let Some(schema) = self.op_json(&op).get("requestBody").and_then(json_schema) else {
            return Err(Violation {
                operation: Self::describe(&op),
                kind: ViolationKind::NotJson,
                errors: vec!["the operation takes no JSON body".to_owned()],
            });
        };
        self.check(
            &op,
            &format!("{}/{}/request", op.path_template, op.method),
            schema,
            body,
        )
    }

    /// Validates a response: the status must be declared (or covered by `default`), and the
    /// body must match the declared schema (or be empty when nothing is declared).
    ///
    /// # Errors
    /// A [`Violation`] saying what does not match.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), Violation> {
        let op = self
            .operation(method, path)
            .ok_or_else(|| Self::unknown(method, path))?;
        let responses = &self.op_json(&op)["responses"];
        let code = status.to_string();
        let class = format!("{}XX", status / 100);
        let (key, response) = if let Some(r) = responses.get(&code) {
            (code, r)
        } else if let Some(r) = responses.get(&class) {
            (class, r)
        } else if status >= 400 && responses.get("default").is_some() {
            ("default".to_owned(), &responses["default"])
        } else {
            return Err(Violation {
                operation: Self::describe(&op),
                kind: ViolationKind::UndeclaredStatus,
                errors: vec![format!(
                    "status {status} is not declared (declared: {})",
                    responses
                        .as_object()
                        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )],
            });
        };
        let response = self.resolve(op.doc, response);
        match json_schema(response) {
            None if body.is_empty() => Ok(()),
            None => Err(Violation {
                operation: Self::describe(&op),
                kind: ViolationKind::NotJson,
                errors: vec![format!(
                    "status {status} declares no body, but {} bytes came",
                    body.len()
                )],
            }),
            Some(schema) => {
                let instance: Value = serde_json::from_slice(body).map_err(|e| Violation {
                    operation: Self::describe(&op),
                    kind: ViolationKind::NotJson,
                    errors: vec![format!("status {status} declares JSON: {e}")],
                })?;
                self.check(
                    &op,
                    &format!("{}/{}/{key}", op.path_template, op.method),
                    schema,
                    &instance,
                )
            }
        }
    }

    /// Compiles every request and response schema of every operation; returns the failures.
    pub fn compile_all(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for op in self.operations() {
            let json = self.op_json(&op);
            let mut schemas: Vec<(String, &Value)> = Vec::new();
            if let Some(s) = json.get("requestBody").and_then(json_schema) {
                schemas.push((format!("{}/{}/request", op.path_template, op.method), s));
            }
            for (code, r) in json["responses"].as_object().into_iter().flatten() {
                if let Some(s) = json_schema(self.resolve(op.doc, r)) {
                    schemas.push((format!("{}/{}/{code}", op.path_template, op.method), s));
                }
            }
            for (pointer, schema) in schemas {
                if let Err(e) = self.validator(&op, &pointer, schema) {
                    failures.push(e);
                }
            }
        }
        failures
    }
}

/// The JSON schema of a response or request body: `application/json`, else `*/*`.
fn json_schema(v: &Value) -> Option<&Value> {
    v.pointer("/content/application~1json/schema")
        .or_else(|| v.pointer("/content/*~1*/schema"))
}

impl Contract {
    /// Follows a `$ref` to `#/components/...` within the document.
    fn resolve<'v>(&'v self, doc: usize, v: &'v Value) -> &'v Value {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => self.docs[doc].json.pointer(pointer).unwrap_or(v),
            None => v,
        }
    }
}

fn upper(m: &str) -> &'static str {
    match m {
        "get" => "GET",
        "post" => "POST",
        "put" => "PUT",
        "patch" => "PATCH",
        _ => "DELETE",
    }
}
