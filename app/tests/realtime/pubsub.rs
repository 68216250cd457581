use sails_server::{SocketId, SocketsError};
use serde_json::json;

use crate::support::{Client, demo_with_handle};

#[tokio::test]
async fn pets_publish_sails_v1_payloads() {
    let (addr, _) = demo_with_handle().await;
    let mut creator = Client::connect(addr).await;
    let mut watcher = Client::connect(addr).await;
    creator.request("put", "/pets/watch", json!({})).await;
    watcher.request("put", "/pets/watch", json!({})).await;

    let created = creator
        .request("post", "/pets", json!({"id": 7, "name": "Rex"}))
        .await;
    assert_eq!(created["statusCode"], 201);
    assert_eq!(created["body"], json!({"id": 7, "name": "Rex"}));
    assert_eq!(
        watcher.next_event("pet").await,
        json!({"verb": "created", "id": 7, "data": {"id": 7, "name": "Rex"}})
    );
    creator.sync().await;
    assert!(
        creator.take_events("pet").is_empty(),
        "the creator is omitted"
    );

    // Watchers were introduced into the new pet's room.
    let updated = creator
        .request("patch", "/pets/7", json!({"name": "Max"}))
        .await;
    assert_eq!(updated["body"], json!({"id": 7, "name": "Max"}));
    assert_eq!(
        watcher.next_event("pet").await,
        json!({"verb": "updated", "id": 7, "data": {"id": 7, "name": "Max"}, "previous": {"id": 7, "name": "Rex"}})
    );

    creator
        .request("post", "/pets/7/message", json!({"data": {"hello": "pet"}}))
        .await;
    assert_eq!(watcher.next_event("pet").await, json!({"hello": "pet"}));
    assert_eq!(creator.next_event("pet").await, json!({"hello": "pet"}));

    let destroyed = creator.request("delete", "/pets/7", json!({})).await;
    assert_eq!(destroyed["body"], json!({"id": 7, "name": "Max"}));
    assert_eq!(
        watcher.next_event("pet").await,
        json!({"verb": "destroyed", "id": 7, "previous": {"id": 7, "name": "Max"}})
    );
    assert_eq!(
        creator.request("delete", "/pets/7", json!({})).await["statusCode"],
        404
    );
    assert_eq!(
        creator.request("patch", "/pets/7", json!({})).await["statusCode"],
        404
    );
}

#[tokio::test]
async fn subscribe_unsubscribe_and_unwatch() {
    let (addr, sails) = demo_with_handle().await;
    let mut owner = Client::connect(addr).await;
    let mut fan = Client::connect(addr).await;
    owner
        .request("post", "/pets", json!({"id": "a1", "name": "Tom"}))
        .await;
    fan.request("put", "/pets/a1/subscribe", json!({})).await;
    let pets = sails.pubsub("Pet");
    let fan_id: SocketId = fan.id().await.parse().expect("a socket id");
    assert_eq!(pets.subscribers("a1").await.unwrap(), vec![fan_id]);
    assert_eq!(pets.room("a1"), "sails_model_pet_a1:pet");
    assert_eq!(pets.room(7), "sails_model_pet_7:pet");
    assert_eq!(pets.class_room(), "sails_model_create_pet");

    owner.request("patch", "/pets/a1", json!({"age": 3})).await;
    assert_eq!(fan.next_event("pet").await["verb"], "updated");
    fan.request("put", "/pets/a1/unsubscribe", json!({})).await;
    owner.request("patch", "/pets/a1", json!({"age": 4})).await;
    fan.sync().await;
    assert!(fan.take_events("pet").is_empty());

    fan.request("put", "/pets/watch", json!({})).await;
    fan.request("put", "/pets/unwatch", json!({})).await;
    owner.request("post", "/pets", json!({"id": "b2"})).await;
    fan.sync().await;
    assert!(fan.take_events("pet").is_empty());
}

#[tokio::test]
async fn the_rest_of_the_pubsub_api() {
    let (addr, sails) = demo_with_handle().await;
    let mut client = Client::connect(addr).await;
    let id: SocketId = client.id().await.parse().expect("a socket id");
    let users = sails.pubsub("user");
    users.subscribe(id, [1, 2]).await.unwrap();

    users.publish_add(1, "pets", 9).await.unwrap();
    assert_eq!(
        client.next_event("user").await,
        json!({"id": 1, "verb": "addedTo", "attribute": "pets", "addedId": 9})
    );
    users.publish_remove(1, "pets", 9).await.unwrap();
    assert_eq!(
        client.next_event("user").await,
        json!({"id": 1, "verb": "removedFrom", "attribute": "pets", "removedId": 9})
    );
    users.message(2, &json!({"x": 1})).await.unwrap();
    assert_eq!(
        client.next_event("user").await,
        json!({"verb": "messaged", "id": 2, "data": {"x": 1}})
    );

    // One message per id.
    users.publish([1, 2], &"both").await.unwrap();
    assert_eq!(client.next_event("user").await, "both");
    assert_eq!(client.next_event("user").await, "both");

    // The requesting socket is omitted when given.
    users.message(2, &0).except(id).await.unwrap();
    client.sync().await;
    assert!(client.take_events("user").is_empty());

    // retire empties an instance room.
    users.retire(1).await.unwrap();
    assert!(users.subscribers(1).await.unwrap().is_empty());

    // A record without a usable id is refused, and nothing is sent.
    assert!(matches!(
        users.publish_create(&json!({"name": "no id"})).await,
        Err(SocketsError::MissingId)
    ));
    assert!(matches!(
        users.publish_create(&json!({"id": null})).await,
        Err(SocketsError::MissingId)
    ));

    // The v0.9 envelope on `message`, opt-in.
    let legacy = sails.pubsub("user").with_legacy_envelope();
    legacy.watch(id).await.unwrap();
    legacy
        .publish_create(&json!({"id": 3, "name": "Randy"}))
        .await
        .unwrap();
    assert_eq!(
        client.next_event("message").await,
        json!({"model": "user", "verb": "create", "id": 3, "data": {"id": 3, "name": "Randy"}})
    );
    legacy
        .publish_update(3, &json!({"name": "Amanda"}))
        .await
        .unwrap();
    assert_eq!(
        client.next_event("message").await,
        json!({"model": "user", "verb": "update", "id": 3, "data": {"name": "Amanda"}})
    );
    legacy.publish_destroy(3).await.unwrap();
    assert_eq!(
        client.next_event("message").await,
        json!({"model": "user", "verb": "destroy", "id": 3})
    );
}
