//! The SDK metadata a Sails client announces in its handshake query.
//!
//! A Sails server reads `__sails_io_sdk_version`, `__sails_io_sdk_platform` and
//! `__sails_io_sdk_language` and refuses virtual requests from clients whose
//! version it does not support.

/// The sails.io.js version this implementation is compatible with.
pub const SDK_VERSION: &str = "1.2.1";
/// The platform a browser client announces.
pub const SDK_PLATFORM_BROWSER: &str = "browser";
/// The language a browser client announces.
pub const SDK_LANGUAGE: &str = "javascript";

/// Query keys, in the order sails.io.js sends them.
pub const VERSION_KEY: &str = "__sails_io_sdk_version";
/// Query key of the platform.
pub const PLATFORM_KEY: &str = "__sails_io_sdk_platform";
/// Query key of the language.
pub const LANGUAGE_KEY: &str = "__sails_io_sdk_language";

/// The SDK part of the handshake query string, as sails.io.js sends it
/// (`__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=browser&…`).
pub fn handshake_query(platform: &str) -> String {
    let mut query = String::with_capacity(96);
    for (key, value) in [
        (VERSION_KEY, SDK_VERSION),
        (PLATFORM_KEY, platform),
        (LANGUAGE_KEY, SDK_LANGUAGE),
    ] {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(key);
        query.push('=');
        query.push_str(value);
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_query_matches_sails_io_js() {
        assert_eq!(
            handshake_query(SDK_PLATFORM_BROWSER),
            "__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=browser&__sails_io_sdk_language=javascript"
        );
    }
}
