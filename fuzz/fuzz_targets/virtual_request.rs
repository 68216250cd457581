//! A virtual request event's JSON text (`["get",{"url":…,…}]`), parsed as
//! the server parses it and turned into the router's request: no panic, and
//! a request that reaches the router has a content type and an origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sails_server::fuzzing;
use sails_server::virtual_request::ParseErrorBody;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = std::str::from_utf8(data) else {
        return;
    };
    match fuzzing::virtual_request(event) {
        Ok(Some(request)) => {
            let headers = request.headers();
            assert!(headers.contains_key("content-type"));
            assert!(headers.contains_key("origin"));
            assert!(request.uri().path().starts_with('/'));
        }
        Ok(None) => {}
        Err(error) => {
            let body = ParseErrorBody::from(&error);
            assert!(serde_json::to_string(&body).is_ok());
        }
    }
});
