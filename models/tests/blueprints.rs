//! Blueprints over HTTP and over sockets, against a server on 127.0.0.1:0
//! with the interop models (`user`, `pet`) on an in-memory store.

mod common;

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use common::{Backend, database_url, on_every_store};
use sails_models::{Blueprints, BlueprintsConfig, Migrate, ModelBlueprints, Models, Store};
use sails_server::{RecordId, Sails, SocketRequest};
use sails_testkit::{Client, http, serve};
use serde_json::{Value, json};

/// The interop contract's models, as the ready server serves them.
const MODELS: &str = include_str!("../../app/models.toml");

on_every_store!(
    crud_over_http,
    find_takes_where_loose_params_sort_limit_select_and_populate,
    bad_input_gets_sails_errors_never_a_crash,
    concurrent_updates_of_one_record_all_succeed,
    shortcuts_take_values_from_the_query_string,
    the_apps_own_routes_win,
    sockets_subscribe_watch_and_hear_what_others_change,
    associations_publish_added_to_removed_from_and_updated,
    replace_moves_children_and_tells_every_side,
    settings_move_and_remove_routes,
    changes_from_app_code_publish_as_blueprint_changes_do,
    changes_from_code_for_a_socket_leave_it_out_and_subscribe_it,
);

/// The app's own routes: `/hello`, `/echo` (the socket id, for the test
/// client), and two that blueprints also have, which must win.
fn own_routes() -> Router {
    Router::new()
        .route("/hello", get(|| async { "ok!" }))
        .route(
            "/echo",
            get(|socket: Option<SocketRequest>| async move {
                Json(json!({"socketId": socket.map(|socket| socket.id().to_owned())}))
            }),
        )
        .route("/pet/special", get(|| async { "the app's own" }))
        .route("/user", get(|| async { "the app's own users" }))
}

struct Server {
    addr: SocketAddr,
    sails: Sails,
    store: Store,
}

async fn start(
    backend: Backend,
    name: &str,
    blueprints: impl FnOnce(Blueprints) -> Blueprints,
) -> Server {
    let models = Models::from_toml(MODELS).expect("models");
    let url = database_url(backend, &format!("blueprints_{name}")).await;
    let store = Store::connect(&url, models, Migrate::Drop)
        .await
        .expect("store");
    let static_files = Router::new().fallback(|| async { "a static file" });
    let router =
        blueprints(Blueprints::new(store.clone()).fallback(static_files)).attach(own_routes());
    let (app, sails) = Sails::builder().build(router);
    Server {
        addr: serve(app).await,
        sails,
        store,
    }
}

async fn server(backend: Backend, name: &str) -> Server {
    start(backend, name, |blueprints| blueprints).await
}

impl Server {
    /// An HTTP request with a JSON body; (status, body as JSON or as text).
    async fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, _, body) = http(
            self.addr,
            method,
            path,
            &[("content-type", "application/json")],
            &text,
        )
        .await;
        let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
        (status, body)
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer
    }

    async fn subscribers(&self, identity: &str, id: Value) -> Vec<String> {
        let id = RecordId::try_from(&id).expect("a record id");
        let ids = self.sails.pubsub(identity).subscribers(id).await.unwrap();
        ids.iter().map(ToString::to_string).collect()
    }

    async fn watchers(&self, identity: &str) -> Vec<String> {
        let room = self.sails.pubsub(identity).class_room();
        let ids = self.sails.sockets().to(room).ids().await.unwrap();
        ids.iter().map(ToString::to_string).collect()
    }
}

/// A socket request's status and body.
async fn ask(client: &mut Client, method: &str, url: &str, data: Value) -> (u16, Value) {
    let jwr = client.request(method, url, data).await;
    (
        jwr["statusCode"].as_u64().unwrap_or(0) as u16,
        jwr["body"].clone(),
    )
}

/// Everything sent to each client before now has arrived; returns what
/// each heard on `event`, in order.
async fn heard(clients: &mut [&mut Client], event: &str) -> Vec<Vec<Value>> {
    let mut all = Vec::new();
    for client in clients.iter_mut() {
        client.sync().await;
        all.push(client.take_events(event));
    }
    all
}

async fn crud_over_http(backend: Backend) {
    let server = server(backend, "crud_over_http").await;
    let rex = server
        .ok(
            "POST",
            "/pet",
            json!({"name": "Rex", "species": "dog", "colour": "red"}),
        )
        .await;
    assert_eq!(rex["id"], 1);
    assert_eq!(rex["owner"], Value::Null);
    assert_eq!(rex["species"], "dog");
    assert!(
        rex.get("colour").is_none(),
        "unknown attributes are dropped"
    );
    assert_eq!(rex["createdAt"], rex["updatedAt"]);
    server
        .ok("POST", "/pet", json!({"name": "Tom", "species": "cat"}))
        .await;
    assert_eq!(
        server
            .ok("GET", "/pet", Value::Null)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(server.ok("GET", "/pet/1", Value::Null).await["name"], "Rex");
    // findOne takes the id, select and omit; other params are ignored, as in Sails.
    let one = server
        .ok("GET", "/pet/1?colour=red&omit=species", Value::Null)
        .await;
    assert_eq!((one["id"].clone(), one.get("species")), (json!(1), None));
    let max = server
        .ok("PATCH", "/pet/1", json!({"name": "Max", "id": 7}))
        .await;
    assert_eq!(
        (max["id"].clone(), max["name"].clone()),
        (json!(1), json!("Max"))
    );
    let bo = server.ok("PUT", "/pet/1", json!({"name": "Bo"})).await;
    assert_eq!(bo["name"], "Bo");
    let destroyed = server.ok("DELETE", "/pet/1", Value::Null).await;
    assert_eq!(destroyed["name"], "Bo");
    assert_eq!(
        server.call("GET", "/pet/1", Value::Null).await,
        (404, json!("Not Found"))
    );
    assert_eq!(
        server.call("PATCH", "/pet/1", json!({"name": "x"})).await.0,
        404
    );
    assert_eq!(server.call("DELETE", "/pet/1", Value::Null).await.0, 404);
}

async fn find_takes_where_loose_params_sort_limit_select_and_populate(backend: Backend) {
    let server = server(
        backend,
        "find_takes_where_loose_params_sort_limit_select_and_populate",
    )
    .await;
    let ann = server.ok("POST", "/user", json!({"name": "Ann"})).await;
    assert_eq!(ann["pets"], json!([]));
    for (name, species) in [("Rex", "dog"), ("Tom", "cat"), ("Kit", "cat")] {
        server
            .ok(
                "POST",
                "/pet",
                json!({"name": name, "species": species, "owner": 1}),
            )
            .await;
    }
    let cats = server
        .ok("GET", "/pet?species=cat&sort=name%20ASC", Value::Null)
        .await;
    let names: Vec<&str> = cats
        .as_array()
        .unwrap()
        .iter()
        .map(|pet| pet["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Kit", "Tom"]);
    assert_eq!(
        cats[0]["owner"]["name"], "Ann",
        "associations are populated"
    );
    let found = server
        .ok(
            "GET",
            "/pet?where=%7B%22name%22%3A%7B%22startsWith%22%3A%22R%22%7D%7D",
            Value::Null,
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let paged = server
        .ok("GET", "/pet?limit=1&skip=1&select=name", Value::Null)
        .await;
    assert_eq!(paged[0]["name"], "Tom");
    assert!(paged[0].get("species").is_none());
    assert_eq!(paged[0]["owner"]["id"], 1, "populated though not selected");
    let bare = server
        .ok("GET", "/pet?populate=false&limit=1", Value::Null)
        .await;
    assert_eq!(bare[0]["owner"], 1);
    let users = server.ok("GET", "/user/1", Value::Null).await;
    assert_eq!(users["pets"].as_array().unwrap().len(), 3);
    assert_eq!(users["pets"][0]["owner"], 1, "children keep their keys");
    let pets = server
        .ok(
            "GET",
            "/user/1/pets?species=cat&sort=name%20DESC",
            Value::Null,
        )
        .await;
    assert_eq!(pets[0]["name"], "Tom");
    assert_eq!(pets.as_array().unwrap().len(), 2);
    assert_eq!(
        server.ok("GET", "/pet/1/owner", Value::Null).await["name"],
        "Ann"
    );
    // A reference from the query string is text; it is compared as the
    // target's key (a number here), also where columns are typed.
    let owned = server.ok("GET", "/pet?owner=1", Value::Null).await;
    assert_eq!(owned.as_array().unwrap().len(), 3);
    let owned = server
        .ok(
            "GET",
            "/pet?where=%7B%22owner%22%3A%5B%221%22%5D%7D",
            Value::Null,
        )
        .await;
    assert_eq!(owned.as_array().unwrap().len(), 3);
    let (status, answer) = server.call("GET", "/pet?owner=abc", Value::Null).await;
    assert_eq!(
        (status, &answer["code"]),
        (400, &json!("E_INVALID_CRITERIA"))
    );
}

async fn bad_input_gets_sails_errors_never_a_crash(backend: Backend) {
    let server = server(backend, "bad_input_gets_sails_errors_never_a_crash").await;
    server.ok("POST", "/pet", json!({"name": "Rex"})).await;
    let (status, body) = server.call("POST", "/pet", json!({"species": "dog"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "E_INVALID_NEW_RECORD");
    assert!(
        body["details"]
            .as_str()
            .unwrap()
            .contains("Missing value for required attribute `name`"),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("(`POST /pet`)"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not be shown in production")
    );
    let (status, body) = server.call("PATCH", "/pet/1", json!({"name": null})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_VALUES_TO_SET"))
    );
    let (status, body) = server.call("PATCH", "/pet/1", json!({"name": ["x"]})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_VALUES_TO_SET"))
    );
    for path in [
        "/pet?where=%7Bbad",
        "/pet?colour=red",
        "/pet?where=%7B%22name%22%3A%7B%22foo%22%3A1%7D%7D",
        "/pet?limit=99999999999999999999",
        "/pet?limit=abc",
        "/pet?skip=-1",
        "/pet?sort=name%20UP",
        "/pet?select=colour",
        "/pet?omit=id",
        "/pet/abc",
        "/pet/find/abc",
    ] {
        let (status, body) = server.call("GET", path, Value::Null).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], "E_INVALID_CRITERIA", "{path}: {body}");
    }
    let (status, body) = server
        .call("GET", "/pet?populate=nothing", Value::Null)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_POPULATES"))
    );
    let (status, body) = server.call("DELETE", "/pet", Value::Null).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_CRITERIA"))
    );
    let (status, body) = server
        .call("POST", "/pet", Value::String("{oops".into()))
        .await;
    assert_eq!(status, 400, "{body}");
    // A taken id, as Sails words it.
    let (status, body) = server
        .call("POST", "/pet", json!({"name": "Bo", "id": 1}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        json!({"code": "E_UNIQUE",
               "message": "Would violate uniqueness constraint-- a record already exists with conflicting value(s).",
               "modelIdentity": "pet", "attrNames": []})
    );
    // Injection-shaped values are data.
    let hostile = "Rex%27%20OR%201%3D1%3B%20DROP%20TABLE%20pet%3B%20--";
    assert_eq!(
        server
            .ok("GET", &format!("/pet?name={hostile}"), Value::Null)
            .await,
        json!([])
    );
    let (status, _) = server
        .call(
            "GET",
            "/pet?where=%7B%22name%22%3A%22x%22%2C%221%3D1%20OR%20name%22%3A1%7D",
            Value::Null,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        server
            .ok("GET", "/pet", Value::Null)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Unknown ids.
    assert_eq!(
        server.call("PUT", "/user/9/pets/1", Value::Null).await.0,
        404
    );
    assert_eq!(server.call("PUT", "/user/9/pets", json!([1])).await.0, 404);
    assert_eq!(
        server.ok("GET", "/pet/1", Value::Null).await["owner"],
        Value::Null,
        "no side effect"
    );
    server.ok("POST", "/user", json!({"name": "Ann"})).await;
    let (status, body) = server.call("PUT", "/user/1/pets", json!({"a": 1})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_ASSOCIATED_IDS"))
    );
    assert_eq!(
        server.call("GET", "/pet/1/owner", Value::Null).await.0,
        404,
        "a null owner"
    );
}

async fn concurrent_updates_of_one_record_all_succeed(backend: Backend) {
    let server = server(backend, "concurrent_updates_of_one_record_all_succeed").await;
    server.ok("POST", "/pet", json!({"name": "Rex"})).await;
    let mut tasks = Vec::new();
    for index in 0..16 {
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": format!("Rex {index}")}).to_string();
            let headers = [("content-type", "application/json")];
            http(addr, "PATCH", "/pet/1", &headers, &body).await.0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let rex = server.ok("GET", "/pet/1", Value::Null).await;
    assert!(rex["name"].as_str().unwrap().starts_with("Rex "));
}

async fn shortcuts_take_values_from_the_query_string(backend: Backend) {
    let server = server(backend, "shortcuts_take_values_from_the_query_string").await;
    let bo = server
        .ok("GET", "/pet/create?name=Bo&species=7", Value::Null)
        .await;
    assert_eq!(
        (bo["id"].clone(), bo["species"].clone()),
        (json!(1), json!("7"))
    );
    assert_eq!(
        server.ok("GET", "/pet/find?name=Bo", Value::Null).await[0]["id"],
        1
    );
    assert_eq!(
        server.ok("GET", "/pet/find/1", Value::Null).await["name"],
        "Bo"
    );
    assert_eq!(
        server.ok("GET", "/pet/update/1?name=Cy", Value::Null).await["name"],
        "Cy"
    );
    server
        .ok("GET", "/user/create?name=Ann&pets=%5B1%5D", Value::Null)
        .await;
    assert_eq!(
        server.ok("GET", "/pet/1", Value::Null).await["owner"]["name"],
        "Ann"
    );
    server.ok("GET", "/user/1/pets/remove/1", Value::Null).await;
    server.ok("GET", "/user/1/pets/add/1", Value::Null).await;
    let ann = server
        .ok("GET", "/user/1/pets/replace?pets=%5B%5D", Value::Null)
        .await;
    assert_eq!(ann["pets"], json!([]));
    server.ok("GET", "/pet/destroy/1", Value::Null).await;
    assert_eq!(server.call("GET", "/pet/find/1", Value::Null).await.0, 404);
}

async fn the_apps_own_routes_win(backend: Backend) {
    let server = server(backend, "the_apps_own_routes_win").await;
    assert_eq!(
        server.ok("GET", "/pet/special", Value::Null).await,
        "the app's own"
    );
    assert_eq!(
        server.ok("GET", "/user", Value::Null).await,
        "the app's own users"
    );
    // Methods the app does not handle on its route still reach the blueprints.
    assert_eq!(
        server.ok("POST", "/user", json!({"name": "Ann"})).await["id"],
        1
    );
    assert_eq!(
        server.ok("GET", "/user/1", Value::Null).await["name"],
        "Ann"
    );
    assert_eq!(
        server.call("GET", "/nothing/here", Value::Null).await,
        (200, json!("a static file")),
        "the app's fallback answers what no route takes"
    );
    // A method no blueprint route takes is a 404 too, as in Sails.
    assert_eq!(server.call("PATCH", "/pet", json!({})).await.0, 404);
    assert_eq!(
        server.call("POST", "/user/1/pets/1", json!({})).await.0,
        404
    );
    // No add route for a `model` association: the path is the app fallback's.
    assert_eq!(
        server.ok("PUT", "/pet/1/owner/1", json!({})).await,
        "a static file"
    );
}

async fn settings_move_and_remove_routes(backend: Backend) {
    let server = start(backend, "settings_move_and_remove_routes", |blueprints| {
        blueprints
            .config(BlueprintsConfig {
                prefix: "/api".into(),
                pluralize: true,
                ..BlueprintsConfig::default()
            })
            .model(
                "user",
                ModelBlueprints {
                    shortcuts: Some(false),
                    rest_prefix: Some("/v1".into()),
                    ..ModelBlueprints::default()
                },
            )
    })
    .await;
    server.ok("POST", "/api/pets", json!({"name": "Rex"})).await;
    assert_eq!(
        server.ok("GET", "/api/pets/find/1", Value::Null).await["name"],
        "Rex"
    );
    // Not a blueprint route any more: the app's fallback answers.
    assert_eq!(server.ok("GET", "/pet", Value::Null).await, "a static file");
    server
        .ok("POST", "/api/v1/users", json!({"name": "Ann"}))
        .await;
    assert_eq!(
        server.ok("GET", "/api/users/find", Value::Null).await,
        "a static file",
        "no shortcuts for users"
    );
    assert_eq!(
        server.ok("GET", "/api/v1/users/1", Value::Null).await["name"],
        "Ann"
    );
}

async fn sockets_subscribe_watch_and_hear_what_others_change(backend: Backend) {
    let server = server(
        backend,
        "sockets_subscribe_watch_and_hear_what_others_change",
    )
    .await;
    let mut a = Client::connect(server.addr).await;
    let mut b = Client::connect(server.addr).await;
    let a_id = a.id().await;
    let b_id = b.id().await;

    // A finds (nothing yet) and so watches the class room.
    assert_eq!(
        ask(&mut a, "get", "/pet", json!({})).await,
        (200, json!([]))
    );
    assert_eq!(server.watchers("pet").await, std::slice::from_ref(&a_id));

    // B creates: A hears `created` and is introduced; B is subscribed, not told.
    let (status, rex) = ask(
        &mut b,
        "post",
        "/pet",
        json!({"name": "Rex", "species": "dog"}),
    )
    .await;
    assert_eq!(status, 200);
    let heard_now = heard(&mut [&mut a, &mut b], "pet").await;
    assert_eq!(
        heard_now[0],
        [json!({"verb": "created", "data": rex, "id": 1})]
    );
    assert!(heard_now[1].is_empty());
    let mut both = vec![a_id.clone(), b_id.clone()];
    both.sort();
    assert_eq!(server.subscribers("pet", json!(1)).await, both);
    assert_eq!(
        server.watchers("pet").await,
        std::slice::from_ref(&a_id),
        "the creator does not watch"
    );

    // B updates: A hears `updated` with `previous`.
    let (status, _) = ask(&mut b, "patch", "/pet/1", json!({"name": "Max"})).await;
    assert_eq!(status, 200);
    let heard_now = heard(&mut [&mut a, &mut b], "pet").await;
    assert_eq!(heard_now[0].len(), 1);
    let updated = &heard_now[0][0];
    assert_eq!(updated["verb"], "updated");
    assert_eq!(updated["id"], 1);
    assert_eq!(updated["data"]["name"], "Max");
    assert_eq!(updated["data"]["id"], 1);
    assert!(updated["data"]["updatedAt"].is_number());
    assert_eq!(updated["previous"]["name"], "Rex");
    assert!(heard_now[1].is_empty());

    // An HTTP update omits nobody.
    server
        .ok("PATCH", "/pet/1", json!({"species": "cat"}))
        .await;
    let heard_now = heard(&mut [&mut a, &mut b], "pet").await;
    assert_eq!(heard_now[0].len(), 1);
    assert_eq!(heard_now[1].len(), 1);
    assert_eq!(
        heard_now[1][0]["data"],
        json!({"species": "cat", "id": 1, "updatedAt": heard_now[1][0]["data"]["updatedAt"]})
    );

    // A destroys: B hears `destroyed` with `previous`; A leaves the room, B stays.
    let (status, destroyed) = ask(&mut a, "delete", "/pet/1", json!({})).await;
    assert_eq!(status, 200);
    let heard_now = heard(&mut [&mut a, &mut b], "pet").await;
    assert!(heard_now[0].is_empty());
    assert_eq!(
        heard_now[1],
        [json!({"verb": "destroyed", "id": 1, "previous": destroyed})]
    );
    assert_eq!(
        server.subscribers("pet", json!(1)).await,
        std::slice::from_ref(&b_id)
    );

    // Socket GET data is criteria.
    ask(&mut b, "post", "/pet", json!({"name": "Tom"})).await;
    ask(&mut b, "post", "/pet", json!({"name": "Kit"})).await;
    let (_, found) = ask(
        &mut a,
        "get",
        "/pet",
        json!({"where": {"name": {"startsWith": "K"}}}),
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, found) = ask(&mut a, "get", "/pet", json!({"name": "Tom"})).await;
    assert_eq!(found[0]["name"], "Tom");
    let (status, body) = ask(&mut a, "get", "/pet", json!({"where": "{bad"})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("E_INVALID_CRITERIA"))
    );
}

async fn associations_publish_added_to_removed_from_and_updated(backend: Backend) {
    let server = server(
        backend,
        "associations_publish_added_to_removed_from_and_updated",
    )
    .await;
    let mut a = Client::connect(server.addr).await;
    let mut c = Client::connect(server.addr).await;
    server.ok("POST", "/user", json!({"name": "Ann"})).await;
    server.ok("POST", "/user", json!({"name": "Bob"})).await;
    server.ok("POST", "/pet", json!({"name": "Rex"})).await;

    // A follows user 1 (and, through autoWatch, the pet class); C follows pet 1.
    assert_eq!(ask(&mut a, "get", "/user/1", json!({})).await.0, 200);
    assert_eq!(
        ask(&mut c, "get", "/pet/1?populate=false", json!({}))
            .await
            .0,
        200
    );
    assert!(server.watchers("pet").await.contains(&a.id().await));

    // Add over HTTP: user 1's room hears addedTo, pet 1's room `updated {owner}`.
    let ann = server.ok("PUT", "/user/1/pets/1", Value::Null).await;
    assert_eq!(ann["pets"][0]["name"], "Rex");
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(
        heard_users[0],
        [json!({"id": 1, "verb": "addedTo", "attribute": "pets", "addedId": 1})]
    );
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert_eq!(
        heard_pets[1],
        [json!({"verb": "updated", "data": {"owner": 1}, "id": 1})]
    );

    // Moving the pet to user 2 by update: removedFrom to user 1, updated to pet 1.
    server.ok("PATCH", "/pet/1", json!({"owner": 2})).await;
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(
        heard_users[0],
        [json!({"id": 1, "verb": "removedFrom", "attribute": "pets", "removedId": 1})]
    );
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert_eq!(heard_pets[1][0]["data"]["owner"], 2);
    assert_eq!(heard_pets[1][0]["previous"]["owner"]["name"], "Ann");

    // Replace user 1's pets with [1]: addedTo to user 1, the pet leaves user 2.
    let ann = server.ok("PUT", "/user/1/pets", json!([1])).await;
    assert_eq!(ann["pets"].as_array().unwrap().len(), 1);
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(heard_users[0][0]["verb"], "addedTo");
    // Remove: removedFrom to user 1, `updated {owner: null}` to pet 1.
    let ann = server.ok("DELETE", "/user/1/pets/1", Value::Null).await;
    assert_eq!(ann["pets"], json!([]));
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(
        heard_users[0],
        [json!({"id": 1, "verb": "removedFrom", "attribute": "pets", "removedId": 1})]
    );
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert_eq!(
        heard_pets[1].last().unwrap(),
        &json!({"verb": "updated", "data": {"owner": null}, "id": 1})
    );

    // A socket that creates a pet for user 1: user 1's room hears addedTo, the creator nothing.
    let (status, kit) = ask(&mut c, "post", "/pet", json!({"name": "Kit", "owner": 1})).await;
    assert_eq!(status, 200);
    assert_eq!(kit["owner"]["name"], "Ann");
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(
        heard_users[0],
        [json!({"id": 1, "verb": "addedTo", "attribute": "pets", "addedId": 2})]
    );
    assert!(heard_users[1].is_empty());
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert_eq!(heard_pets[0][0]["verb"], "created");

    // An update that sets user 2's pets tells each child that came or left.
    server.ok("PATCH", "/user/2", json!({"pets": [1]})).await;
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert!(
        heard_pets[1].contains(&json!({"verb": "updated", "data": {"owner": 2}, "id": 1})),
        "{heard_pets:?}"
    );
    server.ok("PATCH", "/user/2", json!({"pets": []})).await;
    let heard_pets = heard(&mut [&mut a, &mut c], "pet").await;
    assert!(heard_pets[1].contains(&json!({"verb": "updated", "data": {"owner": null}, "id": 1})));

    // Destroying user 1 unlinks Kit; Kit's room hears `updated {owner: null}`.
    server.ok("DELETE", "/user/1", Value::Null).await;
    assert_eq!(
        server.ok("GET", "/pet/2", Value::Null).await["owner"],
        Value::Null
    );
    let heard_users = heard(&mut [&mut a, &mut c], "user").await;
    assert_eq!(heard_users[0][0]["verb"], "destroyed");
}

async fn replace_moves_children_and_tells_every_side(backend: Backend) {
    let server = server(backend, "replace_moves_children_and_tells_every_side").await;
    let mut a = Client::connect(server.addr).await;
    let mut b = Client::connect(server.addr).await;
    let mut c = Client::connect(server.addr).await;
    server.ok("POST", "/user", json!({"name": "Ann"})).await;
    server.ok("POST", "/user", json!({"name": "Bob"})).await;
    server
        .ok("POST", "/pet", json!({"name": "Rex", "owner": 1}))
        .await;
    server.ok("POST", "/pet", json!({"name": "Tom"})).await;
    // A: user 1 and its pet 1; B: user 2; C: pet 2 and user 1.
    assert_eq!(ask(&mut a, "get", "/user/1", json!({})).await.0, 200);
    assert_eq!(ask(&mut b, "get", "/user/2", json!({})).await.0, 200);
    assert_eq!(
        ask(&mut c, "get", "/pet/2?populate=false", json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        ask(&mut c, "get", "/user/1?populate=false", json!({}))
            .await
            .0,
        200
    );

    let (status, bob) = ask(&mut b, "put", "/user/2/pets", json!([1, 2])).await;
    assert_eq!(status, 200, "{bob}");
    let owners: Vec<&Value> = bob["pets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pet| &pet["owner"])
        .collect();
    assert_eq!(owners, [&json!(2), &json!(2)]);
    let left_ann = json!({"id": 1, "verb": "removedFrom", "attribute": "pets", "removedId": 1});
    let pets = heard(&mut [&mut a, &mut b, &mut c], "pet").await;
    let users = heard(&mut [&mut a, &mut b, &mut c], "user").await;
    assert_eq!(
        pets[0],
        [json!({"verb": "updated", "data": {"owner": 2}, "id": 1})]
    );
    assert_eq!(users[0], std::slice::from_ref(&left_ann));
    assert!(
        pets[1].is_empty() && users[1].is_empty(),
        "the requester is left out"
    );
    assert_eq!(
        pets[2],
        [json!({"verb": "updated", "data": {"owner": 2}, "id": 2})]
    );
    assert_eq!(users[2], [left_ann]);
    let b_id = b.id().await;
    assert!(server.subscribers("pet", json!(1)).await.contains(&b_id));

    // Emptying the collection over HTTP: each child left, in order.
    let bob = server.ok("PUT", "/user/2/pets", json!([])).await;
    assert_eq!(bob["pets"], json!([]));
    let users = heard(&mut [&mut a, &mut b, &mut c], "user").await;
    let pets = heard(&mut [&mut a, &mut b, &mut c], "pet").await;
    assert_eq!(
        users[1],
        [
            json!({"id": 2, "verb": "removedFrom", "attribute": "pets", "removedId": 1}),
            json!({"id": 2, "verb": "removedFrom", "attribute": "pets", "removedId": 2}),
        ]
    );
    assert_eq!(
        pets[1],
        [
            json!({"verb": "updated", "data": {"owner": null}, "id": 1}),
            json!({"verb": "updated", "data": {"owner": null}, "id": 2}),
        ]
    );
    assert_eq!(
        server.ok("GET", "/pet/1?populate=false", Value::Null).await["owner"],
        Value::Null
    );
}

/// One change of the scenario below, made through a blueprint route or by
/// app code.
#[derive(Clone, Copy)]
enum Change {
    CreateUser,
    CreatePet,
    RenamePet,
    AddPetToUser,
    RemovePetFromUser,
    DestroyPet,
}

const CHANGES: [Change; 6] = [
    Change::CreateUser,
    Change::CreatePet,
    Change::RenamePet,
    Change::AddPetToUser,
    Change::RemovePetFromUser,
    Change::DestroyPet,
];

/// `value` with every timestamp replaced by `"<now>"`.
fn without_times(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| match key.as_str() {
                    "createdAt" | "updatedAt" => (key, json!("<now>")),
                    _ => (key, without_times(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_times).collect()),
        other => other,
    }
}

/// What a socket that found pets and users hears while the scenario's
/// changes are made, by blueprint routes (`from_code` false) or by app code
/// through `Records::publishing`; and what each change answered.
async fn heard_while_changing(backend: Backend, from_code: bool) -> Vec<(Value, Vec<Value>)> {
    let name = format!("changes_from_code_{from_code}");
    let server = server(backend, &name).await;
    let mut watcher = Client::connect(server.addr).await;
    assert_eq!(ask(&mut watcher, "get", "/pet", json!({})).await.0, 200);
    // `/user` is an app route here; the shortcut finds users.
    assert_eq!(
        ask(&mut watcher, "get", "/user/find", json!({})).await.0,
        200
    );
    let pets = server
        .store
        .records("pet")
        .unwrap()
        .publishing(&server.sails);
    let users = server
        .store
        .records("user")
        .unwrap()
        .publishing(&server.sails);
    let mut transcript = Vec::new();
    for change in CHANGES {
        let answer = if from_code {
            match change {
                Change::CreateUser => users.create(&json!({"name": "Ann"})).await,
                Change::CreatePet => pets.create(&json!({"name": "Rex"})).await,
                Change::RenamePet => pets.update(&json!(1), &json!({"name": "Max"})).await,
                Change::AddPetToUser => users.add_to(&json!(1), "pets", &json!(1)).await,
                Change::RemovePetFromUser => users.remove_from(&json!(1), "pets", &json!(1)).await,
                Change::DestroyPet => pets.destroy(&json!(1)).await,
            }
            .expect("the change is made")
        } else {
            let (method, path, body) = match change {
                Change::CreateUser => ("POST", "/user", json!({"name": "Ann"})),
                Change::CreatePet => ("POST", "/pet", json!({"name": "Rex"})),
                Change::RenamePet => ("PATCH", "/pet/1", json!({"name": "Max"})),
                Change::AddPetToUser => ("PUT", "/user/1/pets/1", Value::Null),
                Change::RemovePetFromUser => ("DELETE", "/user/1/pets/1", Value::Null),
                Change::DestroyPet => ("DELETE", "/pet/1", Value::Null),
            };
            server.ok(method, path, body).await
        };
        watcher.sync().await;
        let mut messages = watcher.take_events("user");
        messages.extend(watcher.take_events("pet"));
        transcript.push((
            without_times(answer),
            messages.into_iter().map(without_times).collect(),
        ));
    }
    transcript
}

async fn changes_from_app_code_publish_as_blueprint_changes_do(backend: Backend) {
    let by_blueprints = heard_while_changing(backend, false).await;
    let by_code = heard_while_changing(backend, true).await;
    for ((change, blueprint), code) in [
        "create a user",
        "create a pet",
        "rename it",
        "add it to the user",
        "remove it",
        "destroy it",
    ]
    .iter()
    .zip(&by_blueprints)
    .zip(&by_code)
    {
        assert!(!blueprint.1.is_empty(), "{change}: the watcher heard of it");
        assert_eq!(blueprint, code, "{change}");
    }
}

async fn changes_from_code_for_a_socket_leave_it_out_and_subscribe_it(backend: Backend) {
    let server = server(backend, "changes_from_code_for_a_socket").await;
    let mut watcher = Client::connect(server.addr).await;
    let mut requester = Client::connect(server.addr).await;
    assert_eq!(ask(&mut watcher, "get", "/pet", json!({})).await.0, 200);
    assert_eq!(ask(&mut requester, "get", "/pet", json!({})).await.0, 200);
    let requester_id = requester.id().await;
    let pets = server
        .store
        .records("pet")
        .unwrap()
        .publishing(&server.sails);
    let for_requester = pets
        .clone()
        .requested_by(requester_id.parse().expect("a socket id"), false);
    let rex = for_requester.create(&json!({"name": "Rex"})).await.unwrap();
    let heard_now = heard(&mut [&mut watcher, &mut requester], "pet").await;
    assert_eq!(
        heard_now[0],
        [json!({"verb": "created", "data": rex, "id": 1})]
    );
    assert!(heard_now[1].is_empty(), "the requester is left out");
    assert!(
        server
            .subscribers("pet", json!(1))
            .await
            .contains(&requester_id)
    );
    // Mirrored, or without a requester, everyone in the room hears it.
    for publishing in [
        pets.clone()
            .requested_by(requester_id.parse().unwrap(), true),
        pets,
    ] {
        publishing
            .update(&json!(1), &json!({"species": "dog"}))
            .await
            .unwrap();
        for verbs in heard(&mut [&mut watcher, &mut requester], "pet").await {
            assert_eq!(verbs.len(), 1);
            assert_eq!(verbs[0]["verb"], "updated");
        }
    }
    // Bad input is the model API's error, and nothing is published.
    assert!(matches!(
        for_requester
            .update(&json!(99), &json!({"name": "Bo"}))
            .await,
        Err(sails_models::ModelError::NotFound)
    ));
    assert!(matches!(
        for_requester.add_to(&json!(1), "nothing", &json!(1)).await,
        Err(sails_models::ModelError::UnknownCollection { .. })
    ));
    for verbs in heard(&mut [&mut watcher, &mut requester], "pet").await {
        assert!(verbs.is_empty(), "{verbs:?}");
    }
}
