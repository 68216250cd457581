//! A virtual request event's JSON text (`["get",{"url":…,…}]`), parsed as
//! the server parses it and turned into the router's request: no panic; a
//! request that reaches the router has a content type and exactly the
//! socket's origin, and the socket's cookie unless it asked for no session;
//! one that does not gets a 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_server::fuzzing;
use sails_server::virtual_request::ParseErrorBody;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = std::str::from_utf8(data) else {
        return;
    };
    match fuzzing::virtual_request(event) {
        Ok(Ok(request)) => {
            let headers = request.headers();
            assert!(headers.contains_key("content-type"));
            let origins: Vec<_> = headers.get_all("origin").iter().collect();
            assert_eq!(origins, [fuzzing::SOCKET_ORIGIN]);
            let cookies: Vec<_> = headers.get_all("cookie").iter().collect();
            if headers.contains_key("nosession") {
                assert!(cookies.is_empty());
            } else {
                assert_eq!(cookies, [fuzzing::SOCKET_COOKIE]);
            }
            assert!(request.uri().path().starts_with('/'));
        }
        Ok(Err(refusal)) => assert!(refusal.status().is_client_error()),
        Err(error) => {
            let body = ParseErrorBody::from(&error);
            assert!(serde_json::to_string(&body).is_ok());
        }
    }
});
