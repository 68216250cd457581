//! `req.allParams()`: a request's path parameters, query string and body,
//! merged as Sails merges them.
//!
//! The query string's members come first, the body's top-level members
//! replace them, and path parameters replace both. A socket request's data
//! is its body, so the data of a socket `GET` counts as it does in Sails.
//! Values from the query string and the path are strings (a repeated query
//! key gives an array of them); a JSON body keeps its types.

use axum::body::Bytes;
use axum::extract::{Form, FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The merged parameters of a request, with the parts they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    all: Map<String, Value>,
    query: Map<String, Value>,
    body: Value,
    path: Map<String, Value>,
}

impl Params {
    /// Merges the three sources as `req.allParams()` does.
    pub fn new(path: Map<String, Value>, query: Map<String, Value>, body: Value) -> Self {
        let mut all = query.clone();
        if let Value::Object(members) = &body {
            all.extend(
                members
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
        }
        all.extend(path.iter().map(|(key, value)| (key.clone(), value.clone())));
        Self {
            all,
            query,
            body,
            path,
        }
    }

    /// Every parameter (`req.allParams()`).
    pub fn all(&self) -> &Map<String, Value> {
        &self.all
    }

    /// One parameter (`req.param(name)`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.all.get(name)
    }

    /// The query string's parameters (`req.query`).
    pub fn query(&self) -> &Map<String, Value> {
        &self.query
    }

    /// The body as sent (`req.body`; `null` when there is none).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The route's path parameters (`req.params`).
    pub fn path(&self) -> &Map<String, Value> {
        &self.path
    }

    /// Every parameter, taken out.
    pub fn into_all(self) -> Map<String, Value> {
        self.all
    }
}

/// Why a request's parameters cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ParamsRejection {
    /// The body is not valid JSON.
    #[error("The request body is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// The body is not a valid form.
    #[error("The request body is not a valid form.")]
    Form,
    /// The body could not be read (too large, or the connection failed).
    #[error("The request body could not be read.")]
    Body,
}

impl IntoResponse for ParamsRejection {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

/// `key=value` pairs as a map; a repeated key collects its values in an array.
fn pairs_to_map(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, value) in pairs {
        match map.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(previous) => {
                let first = previous.take();
                *previous = Value::Array(vec![first, Value::String(value)]);
            }
            None => {
                map.insert(key, Value::String(value));
            }
        }
    }
    map
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ParamsRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let path = match RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(params) => params
                .iter()
                .map(|(key, value)| (key.to_owned(), Value::String(value.to_owned())))
                .collect(),
            Err(_) => Map::new(),
        };
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| pairs_to_map(pairs))
            .unwrap_or_default();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        let request = Request::from_parts(parts, body);
        let body = if is_form {
            let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
                .await
                .map_err(|_| ParamsRejection::Form)?;
            Value::Object(pairs_to_map(pairs))
        } else {
            let bytes = Bytes::from_request(request, state)
                .await
                .map_err(|_| ParamsRejection::Body)?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(ParamsRejection::Json)?
            }
        };
        Ok(Self::new(path, query, body))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::any;
    use serde_json::json;
    use tower::ServiceExt;

    use super::*;

    async fn params_of(request: axum::http::Request<Body>) -> (StatusCode, Value) {
        let app = Router::new().route(
            "/pet/{id}",
            any(|params: Params| async move {
                axum::Json(
                    json!({"all": params.all(), "body": params.body(), "query": params.query()}),
                )
            }),
        );
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    #[tokio::test]
    async fn path_wins_over_body_which_wins_over_query() {
        let request = axum::http::Request::post("/pet/7?id=1&name=q&limit=2&tag=a&tag=b")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"id": 3, "name": "Rex", "age": 4}"#))
            .unwrap();
        let (status, value) = params_of(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            value["all"],
            json!({"id": "7", "name": "Rex", "limit": "2", "tag": ["a", "b"], "age": 4})
        );
        assert_eq!(value["query"]["name"], "q");
        assert_eq!(value["body"]["id"], 3);
    }

    #[tokio::test]
    async fn forms_empty_bodies_and_arrays() {
        let request = axum::http::Request::put("/pet/7?x=1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("name=Rex&x=2"))
            .unwrap();
        assert_eq!(
            params_of(request).await.1["all"],
            json!({"x": "2", "name": "Rex", "id": "7"})
        );
        let request = axum::http::Request::get("/pet/7")
            .body(Body::empty())
            .unwrap();
        assert_eq!(params_of(request).await.1["body"], Value::Null);
        let request = axum::http::Request::put("/pet/7")
            .body(Body::from("[1, 2]"))
            .unwrap();
        let (_, value) = params_of(request).await;
        assert_eq!(value["body"], json!([1, 2]));
        assert_eq!(value["all"], json!({"id": "7"}));
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_a_clear_400() {
        let request = axum::http::Request::post("/pet/7")
            .body(Body::from("{not json"))
            .unwrap();
        let (status, value) = params_of(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            value
                .as_str()
                .unwrap()
                .starts_with("The request body is not valid JSON"),
            "{value}"
        );
    }
}
