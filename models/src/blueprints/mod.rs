//! Blueprints: Sails 1.5's REST and shortcut routes for every model, with
//! realtime subscriptions and publishes, as an axum router.
//!
//! [`Blueprints::attach`] puts the routes behind an app's own: a route of the
//! app answers first (every method it has), blueprints answer what it does
//! not. The realtime layer ([`sails_server::Sails`]) goes over the result.
//!
//! | route | action |
//! |---|---|
//! | `GET /pet` | find (criteria from `where` or loose params; `limit` 30) |
//! | `GET /pet/:id` | findOne |
//! | `POST /pet` | create |
//! | `PATCH /pet/:id`, `PUT /pet/:id` | update |
//! | `DELETE /pet/:id` | destroy |
//! | `GET /pet/:id/:association` | populate |
//! | `PUT /pet/:id/:collection/:childid`, `DELETE …` | add, remove |
//! | `PUT /pet/:id/:collection` | replace (body: an array of ids) |
//! | `GET /pet/find`, `/pet/find/:id`, `/pet/create`, `/pet/update/:id`, `/pet/destroy/:id`, `/pet/:id/:collection/add/:childid`, `…/remove/:childid`, `…/replace` | shortcuts |

mod actions;
mod publish;
mod resource;

pub use resource::Publishing;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{MethodFilter, MethodRouter};
use sails_server::{Params, Sails, SocketRequest};
use serde::Deserialize;
use tower::ServiceExt;

use crate::model::Kind;
use crate::store::Store;

/// Sails' `blueprints` settings (those this implementation honours).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct BlueprintsConfig {
    /// The RESTful routes (`GET /pet`, `POST /pet`, …). Default true.
    pub rest: bool,
    /// The shortcut routes (`GET /pet/create?…`). Default true.
    pub shortcuts: bool,
    /// A prefix for every blueprint route (e.g. `/api`). Default none.
    pub prefix: String,
    /// A further prefix for the RESTful routes only (e.g. `/v1`). Default none.
    pub rest_prefix: String,
    /// Routes use the plural of the identity (`/pets`). Default false.
    pub pluralize: bool,
    /// A socket that finds records watches the model's class room (and those
    /// of associated models), so it hears of created records. Default true.
    pub auto_watch: bool,
    /// The requesting socket hears its own changes too. Default false.
    pub mirror: bool,
}

impl Default for BlueprintsConfig {
    fn default() -> Self {
        Self {
            rest: true,
            shortcuts: true,
            prefix: String::new(),
            rest_prefix: String::new(),
            pluralize: false,
            auto_watch: true,
            mirror: false,
        }
    }
}

/// Per-model blueprint settings; what is unset comes from the global ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelBlueprints {
    /// See [`BlueprintsConfig::rest`].
    pub rest: Option<bool>,
    /// See [`BlueprintsConfig::shortcuts`].
    pub shortcuts: Option<bool>,
    /// See [`BlueprintsConfig::prefix`].
    pub prefix: Option<String>,
    /// See [`BlueprintsConfig::rest_prefix`].
    pub rest_prefix: Option<String>,
    /// See [`BlueprintsConfig::pluralize`].
    pub pluralize: Option<bool>,
    /// See [`BlueprintsConfig::auto_watch`].
    pub auto_watch: Option<bool>,
    /// See [`BlueprintsConfig::mirror`].
    pub mirror: Option<bool>,
}

impl ModelBlueprints {
    fn over(&self, global: &BlueprintsConfig) -> BlueprintsConfig {
        BlueprintsConfig {
            rest: self.rest.unwrap_or(global.rest),
            shortcuts: self.shortcuts.unwrap_or(global.shortcuts),
            prefix: self.prefix.clone().unwrap_or_else(|| global.prefix.clone()),
            rest_prefix: self
                .rest_prefix
                .clone()
                .unwrap_or_else(|| global.rest_prefix.clone()),
            pluralize: self.pluralize.unwrap_or(global.pluralize),
            auto_watch: self.auto_watch.unwrap_or(global.auto_watch),
            mirror: self.mirror.unwrap_or(global.mirror),
        }
    }
}

/// The blueprint routes of a store's models.
#[derive(Debug, Clone)]
pub struct Blueprints {
    store: Store,
    config: BlueprintsConfig,
    per_model: HashMap<String, ModelBlueprints>,
    production: bool,
    /// What answers a path no blueprint route takes (default: 404 `Not Found`).
    fallback: Option<Router>,
}

/// What a blueprint route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Find,
    FindOne,
    Create,
    Update,
    Destroy,
    Populate,
    Add,
    Remove,
    Replace,
}

/// One route's action, model and settings.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) store: Store,
    pub(crate) identity: String,
    pub(crate) action: Action,
    /// The association of populate / add / remove / replace.
    pub(crate) alias: Option<String>,
    pub(crate) config: BlueprintsConfig,
    /// Usage errors leave out the development tip.
    pub(crate) production: bool,
}

/// Sails' answer for a request no route takes.
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Not Found")
}

/// A simple English plural (`pet` → `pets`, `city` → `cities`, `box` → `boxes`).
fn pluralize(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if word.ends_with(['s', 'x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// `/a` + `/b` without doubled or trailing slashes.
fn join(parts: &[&str]) -> String {
    let mut path = String::new();
    for part in parts {
        let part = part.trim_matches('/');
        if !part.is_empty() {
            path.push('/');
            path.push_str(part);
        }
    }
    path
}

impl Blueprints {
    /// Blueprints for every model of `store`, with Sails' defaults.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            config: BlueprintsConfig::default(),
            per_model: HashMap::new(),
            production: false,
            fallback: None,
        }
    }

    /// The global settings.
    pub fn config(mut self, config: BlueprintsConfig) -> Self {
        self.config = config;
        self
    }

    /// Settings of one model, over the global ones.
    pub fn model(mut self, identity: &str, settings: ModelBlueprints) -> Self {
        self.per_model.insert(identity.to_lowercase(), settings);
        self
    }

    /// Production mode: usage errors leave out Sails' development tip.
    pub fn production(mut self, production: bool) -> Self {
        self.production = production;
        self
    }

    /// What answers a path that neither the app nor the blueprints take (for
    /// instance the app's static files), in place of 404 `Not Found`.
    pub fn fallback(mut self, fallback: Router) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// The blueprint routes alone.
    pub fn router(&self) -> Router {
        let mut router = Router::new();
        let mut by_path: BTreeMap<String, MethodRouter> = BTreeMap::new();
        for model in self.store.models().iter() {
            let config = self.per_model.get(model.identity()).map_or_else(
                || self.config.clone(),
                |settings| settings.over(&self.config),
            );
            let name = if config.pluralize {
                pluralize(model.identity())
            } else {
                model.identity().to_owned()
            };
            let route = |action: Action, alias: Option<&str>| Route {
                store: self.store.clone(),
                identity: model.identity().to_owned(),
                action,
                alias: alias.map(str::to_owned),
                config: config.clone(),
                production: self.production,
            };
            let mut routes: Vec<(MethodFilter, String, Route)> = Vec::new();
            if config.shortcuts {
                let base = join(&[&config.prefix, &name]);
                routes.push((
                    MethodFilter::GET,
                    format!("{base}/find"),
                    route(Action::Find, None),
                ));
                routes.push((
                    MethodFilter::GET,
                    format!("{base}/find/{{id}}"),
                    route(Action::FindOne, None),
                ));
                routes.push((
                    MethodFilter::GET,
                    format!("{base}/create"),
                    route(Action::Create, None),
                ));
                routes.push((
                    MethodFilter::GET,
                    format!("{base}/update/{{id}}"),
                    route(Action::Update, None),
                ));
                routes.push((
                    MethodFilter::GET,
                    format!("{base}/destroy/{{id}}"),
                    route(Action::Destroy, None),
                ));
                for (alias, attribute) in model.associations() {
                    if matches!(attribute.kind, Kind::Collection { .. }) {
                        let at = format!("{base}/{{id}}/{alias}");
                        routes.push((
                            MethodFilter::GET,
                            format!("{at}/add/{{childid}}"),
                            route(Action::Add, Some(alias)),
                        ));
                        routes.push((
                            MethodFilter::GET,
                            format!("{at}/remove/{{childid}}"),
                            route(Action::Remove, Some(alias)),
                        ));
                        routes.push((
                            MethodFilter::GET,
                            format!("{at}/replace"),
                            route(Action::Replace, Some(alias)),
                        ));
                    }
                }
            }
            if config.rest {
                let base = join(&[&config.prefix, &config.rest_prefix, &name]);
                let one = format!("{base}/{{id}}");
                routes.push((MethodFilter::GET, base.clone(), route(Action::Find, None)));
                routes.push((
                    MethodFilter::POST,
                    base.clone(),
                    route(Action::Create, None),
                ));
                routes.push((
                    MethodFilter::DELETE,
                    base.clone(),
                    route(Action::Destroy, None),
                ));
                routes.push((MethodFilter::GET, one.clone(), route(Action::FindOne, None)));
                routes.push((
                    MethodFilter::PATCH.or(MethodFilter::PUT),
                    one.clone(),
                    route(Action::Update, None),
                ));
                routes.push((
                    MethodFilter::DELETE,
                    one.clone(),
                    route(Action::Destroy, None),
                ));
                for (alias, attribute) in model.associations() {
                    let at = format!("{one}/{alias}");
                    routes.push((
                        MethodFilter::GET,
                        at.clone(),
                        route(Action::Populate, Some(alias)),
                    ));
                    if matches!(attribute.kind, Kind::Collection { .. }) {
                        routes.push((
                            MethodFilter::PUT,
                            at.clone(),
                            route(Action::Replace, Some(alias)),
                        ));
                        let child = format!("{at}/{{childid}}");
                        routes.push((
                            MethodFilter::PUT,
                            child.clone(),
                            route(Action::Add, Some(alias)),
                        ));
                        routes.push((
                            MethodFilter::DELETE,
                            child,
                            route(Action::Remove, Some(alias)),
                        ));
                    }
                }
            }
            for (methods, path, route) in routes {
                let route = Arc::new(route);
                let handler = move |sails: Sails,
                                    socket: Option<SocketRequest>,
                                    method: Method,
                                    uri: Uri,
                                    params: Params| {
                    let route = Arc::clone(&route);
                    async move { route.run(sails, socket, method, uri, params).await }
                };
                let methods_here = by_path.remove(&path).unwrap_or_default();
                by_path.insert(path, methods_here.on(methods, handler));
            }
        }
        // Sails answers a method a path has no route for with 404, and so a
        // path no route takes, unless the app gave a fallback.
        for (path, methods) in by_path {
            router = router.route(&path, methods.fallback(not_found));
        }
        match &self.fallback {
            Some(fallback) => router.fallback_service(fallback.clone()),
            None => router.fallback(not_found),
        }
    }

    /// `app` with the blueprint routes behind it: a request the app has no
    /// route for (or no handler for its method) goes to the blueprints. Sets
    /// `app`'s fallbacks (give the app's own fallback to [`Self::fallback`]).
    pub fn attach(&self, app: Router) -> Router {
        let blueprints = self.router();
        let for_methods = blueprints.clone();
        app.fallback_service(blueprints)
            .method_not_allowed_fallback(move |request: Request| {
                let blueprints = for_methods.clone();
                async move {
                    match blueprints.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_paths() {
        assert_eq!(pluralize("pet"), "pets");
        assert_eq!(pluralize("city"), "cities");
        assert_eq!(pluralize("day"), "days");
        assert_eq!(pluralize("box"), "boxes");
        assert_eq!(join(&["", "/api/", "pet"]), "/api/pet");
        assert_eq!(join(&["", "", "pet"]), "/pet");
    }

    #[test]
    fn model_settings_override_global_ones() {
        let global = BlueprintsConfig::default();
        let settings: ModelBlueprints =
            toml::from_str("shortcuts = false\nprefix = \"/api\"").unwrap();
        let merged = settings.over(&global);
        assert!(!merged.shortcuts && merged.rest && merged.auto_watch);
        assert_eq!(merged.prefix, "/api");
        assert!(toml::from_str::<BlueprintsConfig>("restPrefx = \"/v1\"").is_err());
    }
}
