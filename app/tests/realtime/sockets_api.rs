use sails_server::{DEFAULT_EVENT, LeaveAllOptions, SocketId};
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
    let a_id: SocketId = a.id().await.parse().expect("a socket id");
    let b_id: SocketId = b.id().await.parse().expect("a socket id");
    let mut both = vec![a_id, b_id];
    both.sort_by(|x, y| x.as_str().cmp(y.as_str()));

    // A socket's own id is a room.
    assert_eq!(sockets.to(a_id).ids().await.unwrap(), vec![a_id]);
    assert_eq!(
        sockets.socket(a_id).rooms().await.unwrap(),
        vec![a_id.to_string()]
    );
    assert!(sockets.is_connected(a_id).await.expect("asked"));

    sockets.socket(a_id).join("x").await.unwrap();
    sockets.socket(b_id).join("x").await.unwrap();
    sockets.socket(a_id).join(["y"]).await.unwrap();
    assert_eq!(sockets.to("x").ids().await.unwrap(), both);
    let rooms = sockets.all().rooms().await.unwrap();
    for room in ["x", "y", a_id.as_str(), b_id.as_str()] {
        assert!(rooms.iter().any(|r| r == room), "{room} in {rooms:?}");
    }

    // Several rooms: each member hears the message once.
    sockets
        .to("x")
        .to("y")
        .emit("multi", &json!(1))
        .await
        .unwrap();
    a.sync().await;
    assert_eq!(a.take_events("multi"), vec![json!(1)]);
    assert_eq!(b.next_event("multi").await, 1);

    // No rooms: nobody, not everybody.
    sockets
        .to(Vec::<String>::new())
        .emit("nobody", &json!(1))
        .await
        .unwrap();
    // A room left out leaves out its members.
    sockets
        .to("x")
        .except("y")
        .emit("not-y", &json!(2))
        .await
        .unwrap();
    assert_eq!(b.next_event("not-y").await, 2);
    a.sync().await;
    b.sync().await;
    assert!(a.take_events("nobody").is_empty() && b.take_events("nobody").is_empty());
    assert!(a.take_events("not-y").is_empty());

    // addRoomMembersToRooms / removeRoomMembersFromRooms.
    sockets.to("x").join(["z", "w"]).await.unwrap();
    assert_eq!(sockets.to("z").ids().await.unwrap(), both);
    sockets.to("x").leave("z").await.unwrap();
    assert!(sockets.to("z").ids().await.unwrap().is_empty());

    // leaveAll: the members of x leave every room but their own.
    sockets
        .to("x")
        .leave_all(LeaveAllOptions::default())
        .await
        .unwrap();
    assert_eq!(
        sockets.socket(a_id).rooms().await.unwrap(),
        vec![a_id.to_string()]
    );
    assert_eq!(
        sockets.socket(b_id).rooms().await.unwrap(),
        vec![b_id.to_string()]
    );

    sockets
        .socket(b_id)
        .emit(DEFAULT_EVENT, &json!("direct"))
        .await
        .unwrap();
    assert_eq!(b.next_event("message").await, "direct");
    sockets
        .all()
        .except(a_id)
        .emit("bg", &json!(true))
        .await
        .unwrap();
    assert_eq!(b.next_event("bg").await, true);
    a.sync().await;
    assert!(a.take_events("bg").is_empty());

    // A socket that leaves is gone from every room.
    sockets.socket(b_id).join("x").await.unwrap();
    b.close();
    let sockets_for_wait = sockets.clone();
    eventually(move || {
        let sockets = sockets_for_wait.clone();
        async move {
            let gone = sockets.to("x").ids().await.unwrap().is_empty()
                && !sockets.is_connected(b_id).await.unwrap();
            gone.then_some(())
        }
    })
    .await;
    assert!(
        !sockets
            .all()
            .rooms()
            .await
            .unwrap()
            .contains(&b_id.to_string())
    );
}
