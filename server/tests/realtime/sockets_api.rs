use sails_server::LeaveAllOptions;
use serde_json::json;

use crate::support::{Client, demo_with_handle, eventually};

#[tokio::test]
async fn join_leave_and_members_from_handlers() {
    let (addr, _) = demo_with_handle().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let (a_id, b_id) = (a.id().await, b.id().await);
    assert_eq!(
        a.request("put", "/rooms/lobby/join", json!({})).await["body"],
        json!({"room": "lobby"})
    );
    b.request("put", "/rooms/lobby/join", json!({})).await;
    b.request("put", "/rooms/other/join", json!({})).await;
    let mut expected = vec![a_id.clone(), b_id.clone()];
    expected.sort();
    assert_eq!(a.get_ok("/rooms/lobby/members").await, json!(expected));
    assert_eq!(
        b.get_ok("/me").await,
        json!({"id": b_id, "rooms": ["lobby", "other"]})
    );
    b.request("put", "/rooms/lobby/leave", json!({})).await;
    assert_eq!(a.get_ok("/rooms/lobby/members").await, json!([a_id]));
    // Over HTTP there is no socket to join.
    let jwr = crate::support::http(addr, "PUT", "/rooms/lobby/join", &[], "").await;
    assert_eq!(jwr.0, 400);
}

#[tokio::test]
async fn broadcast_with_and_without_the_sender() {
    let (addr, _) = demo_with_handle().await;
    let mut sender = Client::connect(addr).await;
    let mut other = Client::connect(addr).await;
    let mut outsider = Client::connect(addr).await;
    sender.request("put", "/rooms/r/join", json!({})).await;
    other.request("put", "/rooms/r/join", json!({})).await;

    let jwr = sender
        .request(
            "post",
            "/rooms/r/broadcast",
            json!({"event": "news", "data": {"n": 1}}),
        )
        .await;
    assert_eq!(jwr["body"], json!({"sent": true}));
    assert_eq!(sender.next_event("news").await, json!({"n": 1}));
    assert_eq!(other.next_event("news").await, json!({"n": 1}));

    sender
        .request(
            "post",
            "/rooms/r/broadcast",
            json!({"event": "news", "data": 2, "omitSender": true}),
        )
        .await;
    assert_eq!(other.next_event("news").await, 2);
    sender.sync().await;
    assert!(
        sender.take_events("news").is_empty(),
        "the sender was omitted"
    );

    // No event name: Sails' default `message`.
    sender
        .request("post", "/rooms/r/broadcast", json!({"data": "hi"}))
        .await;
    assert_eq!(other.next_event("message").await, "hi");

    outsider.sync().await;
    assert!(outsider.take_events("news").is_empty());
    assert!(outsider.take_events("message").is_empty());
}

#[tokio::test]
async fn blast_and_emit_to_one_socket() {
    let (addr, _) = demo_with_handle().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    a.request("post", "/blast", json!({"event": "all", "data": 1}))
        .await;
    assert_eq!(a.next_event("all").await, 1);
    assert_eq!(b.next_event("all").await, 1);
    a.request(
        "post",
        "/blast",
        json!({"event": "all", "data": 2, "omitSender": true}),
    )
    .await;
    assert_eq!(b.next_event("all").await, 2);
    a.sync().await;
    assert!(a.take_events("all").is_empty());

    let b_id = b.id().await;
    a.request(
        "post",
        &format!("/sockets/{b_id}/emit"),
        json!({"event": "dm", "data": "psst"}),
    )
    .await;
    assert_eq!(b.next_event("dm").await, "psst");
    a.sync().await;
    assert!(a.take_events("dm").is_empty());
}

#[tokio::test]
async fn the_api_works_outside_handlers() {
    let (addr, sails) = demo_with_handle().await;
    let sockets = sails.sockets();
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let (a_id, b_id) = (a.id().await, b.id().await);
    let mut both = vec![a_id.clone(), b_id.clone()];
    both.sort();

    // A socket's own id is a room.
    assert_eq!(
        sockets.subscribers(&a_id).await.unwrap(),
        vec![a_id.clone()]
    );
    assert_eq!(
        sockets.socket_rooms(&a_id).await.unwrap(),
        vec![a_id.clone()]
    );
    assert!(sockets.is_connected(&a_id));

    sockets.join(&a_id, "x").await.unwrap();
    sockets.join(&b_id, "x").await.unwrap();
    sockets.join(&a_id, "y").await.unwrap();
    assert_eq!(sockets.subscribers("x").await.unwrap(), both);
    let rooms = sockets.rooms().await.unwrap();
    for room in ["x", "y", a_id.as_str(), b_id.as_str()] {
        assert!(rooms.iter().any(|r| r == room), "{room} in {rooms:?}");
    }

    // Several rooms: each member hears the message once.
    sockets
        .broadcast(&["x", "y"], Some("multi"), &json!(1), None)
        .await
        .unwrap();
    a.sync().await;
    assert_eq!(a.take_events("multi"), vec![json!(1)]);
    assert_eq!(b.next_event("multi").await, 1);

    // addRoomMembersToRooms / removeRoomMembersFromRooms.
    sockets
        .add_room_members_to_rooms("x", &["z", "w"])
        .await
        .unwrap();
    assert_eq!(sockets.subscribers("z").await.unwrap(), both);
    sockets
        .remove_room_members_from_rooms("x", &["z"])
        .await
        .unwrap();
    assert!(sockets.subscribers("z").await.unwrap().is_empty());

    // leaveAll: the members of x leave every room but their own.
    sockets
        .leave_all("x", LeaveAllOptions::default())
        .await
        .unwrap();
    assert_eq!(
        sockets.socket_rooms(&a_id).await.unwrap(),
        vec![a_id.clone()]
    );
    assert_eq!(
        sockets.socket_rooms(&b_id).await.unwrap(),
        vec![b_id.clone()]
    );

    sockets.emit(&b_id, None, &json!("direct")).await.unwrap();
    assert_eq!(b.next_event("message").await, "direct");
    sockets
        .blast(Some("bg"), &json!(true), Some(&a_id))
        .await
        .unwrap();
    assert_eq!(b.next_event("bg").await, true);
    a.sync().await;
    assert!(a.take_events("bg").is_empty());

    // A socket that leaves is gone from every room.
    sockets.join(&b_id, "x").await.unwrap();
    b.close();
    let sockets_for_wait = sockets.clone();
    let b_for_wait = b_id.clone();
    eventually(move || {
        let (sockets, b_id) = (sockets_for_wait.clone(), b_for_wait.clone());
        async move {
            let gone =
                sockets.subscribers("x").await.unwrap().is_empty() && !sockets.is_connected(&b_id);
            gone.then_some(())
        }
    })
    .await;
    assert!(!sockets.rooms().await.unwrap().contains(&b_id));
}
