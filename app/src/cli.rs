//! The command line shared by the `sails-server` binary and the `interop`
//! example: flags, an optional TOML config file (`--config FILE`, flags win
//! over it), production mode, then the ready line and serve.
//!
//! | flag | config file key | what |
//! |---|---|---|
//! | `--host H` | `host` | address to bind (`127.0.0.1`) |
//! | `--port P` | `port` | port to bind (`1337`; `0` picks a free one) |
//! | `--www DIR` | `www` | directory served as static files (in the file: relative to the file's folder) |
//! | `--allow-origin ORIGIN`, repeatable | `allow_origins = [...]` | pages of these origins may open a socket too (Sails' `onlyAllowOrigins`) |
//! | `--any-origin` | `any_origin = true` | pages of any origin may open a socket: development only |
//! | `--cookie-secure true\|false` | `cookie_secure` | the session cookie's `Secure` flag (default: on in production, off otherwise) |
//! | `--session-lifetime 30m\|12h\|7d` | `session_lifetime` | a session ends this long after its last change (default: when the browser closes) |
//! | `--production` | `production = true` | production mode, also when `NODE_ENV` or `SAILS_ENV` is `production` |
//! | `--models FILE` | `models` (relative to the file) | the models, in TOML, each with Sails' blueprint routes (default: the demo's `user` and `pet`) |
//! | `--database URL` | `database` | where records are kept: `sqlite://FILE` (created when missing), `sqlite::memory:` (the default: empty at each start) or `postgres://…` |
//! | `--redis URL` | `redis` | one of many servers sharing rooms, broadcasts, socket lookups and sessions over the Redis at URL (`redis://HOST:PORT`, Redis 7 or later) |
//! | `--csrf` | `csrf = true` | CSRF protection (Sails' `security.csrf`): POST, PUT, PATCH and DELETE need a token from `GET /csrfToken` |
//! | `--recovery-window 2m\|90s\|0s` | `recovery_window` | how long a disconnected socket's rooms and missed broadcasts wait for a client that reconnects (`2m`; `0s` turns recovery off) |
//!
//! In production mode the server refuses to start unless the origins are
//! configured (`--allow-origin`) or any origin is explicitly allowed
//! (`--any-origin`), as Sails refuses to lift without `onlyAllowOrigins`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;

use sails_server::{OriginPolicy, SessionCookie};

use sails_models::Models;

use crate::ServerConfig;

/// Where records are kept unless told: in memory, empty at each start.
pub const DEFAULT_DATABASE: &str = "sqlite::memory:";

/// The longest session lifetime accepted: 400 days, the most browsers keep a cookie.
const MAX_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// What a program built on this command line starts from when neither a
/// flag nor the config file says otherwise.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The directory served when no `--www` is given.
    pub www: PathBuf,
    /// The origin policy when no origin is configured: the server's own
    /// origin for `sails-server`, any origin for the interop app.
    pub origins: OriginPolicy,
}

impl Defaults {
    /// Serves `www`, to pages of the server's own origin only.
    pub fn new(www: impl Into<PathBuf>) -> Self {
        Self {
            www: www.into(),
            origins: OriginPolicy::SameOrigin,
        }
    }
}

/// The config file (`--config FILE`): every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    host: Option<String>,
    port: Option<u16>,
    www: Option<PathBuf>,
    allow_origins: Option<Vec<String>>,
    any_origin: Option<bool>,
    cookie_secure: Option<bool>,
    session_lifetime: Option<String>,
    production: Option<bool>,
    csrf: Option<bool>,
    models: Option<PathBuf>,
    database: Option<String>,
    redis: Option<String>,
    recovery_window: Option<String>,
}

/// What the flags say; `None` (or empty) where they say nothing.
#[derive(Debug, Default)]
struct Flags {
    host: Option<String>,
    port: Option<u16>,
    www: Option<PathBuf>,
    config: Option<PathBuf>,
    allow_origins: Vec<String>,
    any_origin: bool,
    cookie_secure: Option<bool>,
    session_lifetime: Option<Duration>,
    production: bool,
    csrf: bool,
    models: Option<PathBuf>,
    database: Option<String>,
    redis: Option<String>,
    recovery_window: Option<Duration>,
}

fn usage(program: &str) -> String {
    format!(
        "usage: {program} [--host 127.0.0.1] [--port 1337] [--www DIR] [--config FILE]\n\
         \x20      [--allow-origin ORIGIN]... [--any-origin] [--production] [--csrf]\n\
         \x20      [--models FILE] [--database sqlite://FILE|sqlite::memory:|postgres://…]\n\
         \x20      [--redis redis://HOST:PORT] [--recovery-window 2m|90s|0s]\n\
         \x20      [--cookie-secure true|false] [--session-lifetime 30m|12h|7d]"
    )
}

/// Reads the flags; `--name=value` works as well as `--name value`.
fn read_flags(program: &str, args: impl Iterator<Item = String>) -> Result<Flags, String> {
    let mut flags = Flags::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.into())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match name.as_str() {
            "--host" => flags.host = Some(value()?),
            "--port" => flags.port = Some(parse_port(&value()?, "--port")?),
            "--www" => flags.www = Some(PathBuf::from(value()?)),
            "--config" => flags.config = Some(PathBuf::from(value()?)),
            "--models" => flags.models = Some(PathBuf::from(value()?)),
            "--database" => flags.database = Some(value()?),
            "--redis" => flags.redis = Some(value()?),
            "--recovery-window" => {
                flags.recovery_window = Some(parse_window(&value()?, "--recovery-window")?);
            }
            "--allow-origin" => flags.allow_origins.push(value()?),
            "--cookie-secure" => flags.cookie_secure = Some(parse_bool(&value()?, &name)?),
            "--session-lifetime" => {
                flags.session_lifetime = Some(parse_lifetime(&value()?, &name)?);
            }
            "--any-origin" | "--production" | "--csrf" if inline.is_some() => {
                return Err(format!("{name} takes no value"));
            }
            "--any-origin" => flags.any_origin = true,
            "--production" => flags.production = true,
            "--csrf" => flags.csrf = true,
            "-h" | "--help" => return Err(usage(program)),
            other => return Err(format!("unknown argument `{other}`\n{}", usage(program))),
        }
    }
    Ok(flags)
}

fn parse_port(text: &str, what: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{what}: `{text}` is not a port number"))
}

fn parse_bool(text: &str, what: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{what}: `{text}` is neither true nor false")),
    }
}

/// A whole number and one of `units` (a suffix and its length in seconds):
/// `90s`, `30m`; `bad` when it is not.
fn parse_duration(
    text: &str,
    units: &[(&str, u64)],
    bad: impl Fn() -> String,
) -> Result<Duration, String> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(&bad)?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let (_, seconds) = units
        .iter()
        .find(|(suffix, _)| *suffix == unit)
        .ok_or_else(&bad)?;
    Ok(Duration::from_secs(number.saturating_mul(*seconds)))
}

const SECONDS: (&str, u64) = ("s", 1);
const MINUTES: (&str, u64) = ("m", 60);
const HOURS: (&str, u64) = ("h", 60 * 60);
const DAYS: (&str, u64) = ("d", 24 * 60 * 60);

/// A session lifetime: `90s`, `30m`, `12h`, `7d`.
fn parse_lifetime(text: &str, what: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{what}: `{text}` is not a duration (a whole number and s, m, h or d: 30m, 12h, 7d)"
        )
    };
    let lifetime = parse_duration(text, &[SECONDS, MINUTES, HOURS, DAYS], bad)?;
    if lifetime.is_zero() {
        return Err(format!(
            "{what}: `{text}`: a session must last longer than that"
        ));
    }
    if lifetime > MAX_LIFETIME {
        return Err(format!(
            "{what}: `{text}` is longer than browsers keep a cookie (400 days)"
        ));
    }
    Ok(lifetime)
}

/// The recovery window: a whole number of seconds, minutes or hours
/// (`90s`, `2m`, `1h`), at most a day; `0s` turns recovery off.
fn parse_window(text: &str, what: &str) -> Result<Duration, String> {
    let bad =
        || format!("{what}: `{text}` is not a duration (a whole number and s, m or h: 90s, 2m)");
    let window = parse_duration(text, &[SECONDS, MINUTES, HOURS], bad)?;
    if window > Duration::from_secs(24 * 60 * 60) {
        return Err(format!(
            "{what}: `{text}` is longer than a day: a disconnected socket holds memory for that long"
        ));
    }
    Ok(window)
}

fn read_file(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("--config: cannot read `{}`: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

/// The origin policy one source (the flags or the file) asks for, if it says anything.
fn origin_policy(
    origins: &[String],
    any_origin: bool,
    source: &str,
) -> Result<Option<OriginPolicy>, String> {
    match (origins.is_empty(), any_origin) {
        (true, false) => Ok(None),
        (true, true) => Ok(Some(OriginPolicy::AnyOrigin)),
        (false, true) => Err(format!(
            "{source}: allowed origins and any origin together; choose one"
        )),
        (false, false) => OriginPolicy::only_allow_origins(origins)
            .map(Some)
            .map_err(|error| format!("{source}: {error}")),
    }
}

/// Whether the environment asks for production, as Sails reads it.
pub fn production_from_env(env: impl Fn(&str) -> Option<String>) -> bool {
    ["NODE_ENV", "SAILS_ENV"]
        .into_iter()
        .any(|name| env(name).is_some_and(|value| value == "production"))
}

/// Production mode needs an explicit origin policy: configured origins, or
/// any origin chosen on purpose. `Err` says what to do.
pub fn check_production(config: &ServerConfig) -> Result<(), String> {
    if config.production && config.origins == OriginPolicy::SameOrigin {
        return Err(
            "refusing to start in production mode without an origin policy: name the origins \
             whose pages may open a socket with --allow-origin https://app.example (repeatable) \
             or `allow_origins = [...]` in the config file, or allow any origin with \
             --any-origin (not recommended)"
                .into(),
        );
    }
    Ok(())
}

/// Reads the flags, then the config file they name (flags win), then the
/// environment (`NODE_ENV`/`SAILS_ENV=production`, through `env`); checks
/// every value and production mode. `Err` is the message to print.
pub fn parse_args(
    program: &str,
    defaults: Defaults,
    args: impl Iterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ServerConfig, String> {
    let flags = read_flags(program, args)?;
    let (file, file_dir) = match &flags.config {
        Some(path) => (
            read_file(path)?,
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ),
        None => (FileSettings::default(), PathBuf::new()),
    };
    let config_name = flags
        .config
        .as_ref()
        .map_or_else(String::new, |path| path.display().to_string());

    let host = flags
        .host
        .or(file.host)
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = flags.port.or(file.port).unwrap_or(1337);
    let www = flags
        .www
        .or_else(|| file.www.map(|www| file_dir.join(www)))
        .unwrap_or(defaults.www);
    let origins = match origin_policy(&flags.allow_origins, flags.any_origin, "flags")? {
        Some(policy) => policy,
        None => origin_policy(
            file.allow_origins.as_deref().unwrap_or_default(),
            file.any_origin.unwrap_or(false),
            &config_name,
        )?
        .unwrap_or(defaults.origins),
    };
    let production = flags.production || file.production == Some(true) || production_from_env(env);
    let lifetime = match (flags.session_lifetime, file.session_lifetime) {
        (Some(lifetime), _) => Some(lifetime),
        (None, Some(text)) => Some(parse_lifetime(
            &text,
            &format!("{config_name}: session_lifetime"),
        )?),
        (None, None) => None,
    };
    let secure = flags
        .cookie_secure
        .or(file.cookie_secure)
        .unwrap_or(production);
    let session = SessionCookie::default().secure(secure).lifetime(lifetime);

    let models = match flags
        .models
        .or_else(|| file.models.map(|path| file_dir.join(path)))
    {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|err| format!("--models: cannot read `{}`: {err}", path.display()))?;
            Models::from_toml(&text)
                .map_err(|err| format!("--models: `{}`: {err}", path.display()))?
        }
        None => crate::demo::models(),
    };

    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| format!("--host: `{host}` is not an IP address"))?;
    if !www.is_dir() {
        return Err(format!("--www: `{}` is not a directory", www.display()));
    }
    let config = ServerConfig {
        addr,
        www,
        origins,
        session,
        production,
        csrf: flags.csrf || file.csrf == Some(true),
        models,
        database: flags
            .database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
        redis: flags.redis.or(file.redis),
        recovery_window: match (flags.recovery_window, file.recovery_window) {
            (Some(window), _) => window,
            (None, Some(text)) => parse_window(&text, &format!("{config_name}: recovery_window"))?,
            (None, None) => sails_server::RecoveryConfig::default().window,
        },
    };
    check_production(&config)?;
    Ok(config)
}

/// Installs a log subscriber writing to stderr (the ready line alone goes to
/// stdout), and makes a panic one log line: a handler that panics is
/// answered 500 by the realtime layer, and each such request should not
/// print a report of its own.
pub fn install_logging() {
    // Another subscriber already installed (by an embedding program) stays.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    std::panic::set_hook(Box::new(|panic| {
        let location = panic
            .location()
            .map(|at| format!(" at {}:{}", at.file(), at.line()))
            .unwrap_or_default();
        let message = panic
            .payload()
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!("panic{location}: {message}");
    }));
}

/// Parses the process arguments and serves the demo application until
/// ctrl-c: exit code 2 for bad arguments or a refused production start, 1
/// if the server fails.
pub async fn main(program: &str, defaults: Defaults) -> ExitCode {
    let args = std::env::args().skip(1);
    let config = match parse_args(program, defaults, args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{program}: {message}");
            return ExitCode::from(2);
        }
    };
    install_logging();
    match crate::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[path = "../tests/common/config_file.rs"]
mod config_file;

#[cfg(test)]
mod tests {
    use super::config_file::ConfigFile;
    use super::*;

    fn www() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn parse_in(args: &[&str], env: &[(&str, &str)]) -> Result<ServerConfig, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        parse_args(
            "test",
            Defaults::new(www()),
            args.iter().map(|arg| (*arg).to_owned()),
            move |name| {
                env.iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            },
        )
    }

    fn parse(args: &[&str]) -> Result<ServerConfig, String> {
        parse_in(args, &[])
    }

    #[test]
    fn explains_each_bad_argument() {
        for (args, message) in [
            (&["--port", "x"][..], "`x` is not a port number"),
            (&["--host", "nowhere"], "not an IP address"),
            (&["--www", "/no/such/dir"], "is not a directory"),
            (&["--port"], "--port needs a value"),
            (&["--bogus"], "usage: test"),
            (
                &["--allow-origin", "app.example"],
                "`app.example` is not an origin",
            ),
            (&["--allow-origin", "http://a.example/x"], "no path"),
            (
                &["--allow-origin", "http://a.example", "--any-origin"],
                "choose one",
            ),
            (&["--any-origin=yes"], "takes no value"),
            (
                &["--cookie-secure", "yes"],
                "`yes` is neither true nor false",
            ),
            (&["--session-lifetime", "10"], "`10` is not a duration"),
            (&["--session-lifetime", "10w"], "`10w` is not a duration"),
            (&["--session-lifetime", "0h"], "longer than that"),
            (&["--session-lifetime", "401d"], "400 days"),
            (&["--config", "/no/such/file.toml"], "cannot read"),
        ] {
            let error = parse(args).expect_err(&format!("{args:?} is refused"));
            assert!(error.contains(message), "{args:?}: {error}");
        }
    }

    #[test]
    fn reads_origins_and_session_flags() {
        let config = parse(&[
            "--allow-origin",
            "https://app.example",
            "--allow-origin=http://localhost:3000",
            "--cookie-secure",
            "true",
            "--session-lifetime=12h",
        ])
        .expect("valid flags");
        assert_eq!(
            config.origins,
            OriginPolicy::only_allow_origins(["https://app.example", "http://localhost:3000"])
                .unwrap()
        );
        assert_eq!(
            config.session,
            SessionCookie::default()
                .secure(true)
                .lifetime(Some(Duration::from_secs(12 * 3600)))
        );
        assert_eq!(
            parse(&["--any-origin"]).unwrap().origins,
            OriginPolicy::AnyOrigin
        );
        assert_eq!(
            parse(&["--session-lifetime", "90s"])
                .unwrap()
                .session
                .lifetime,
            Some(Duration::from_secs(90))
        );
    }

    #[test]
    fn a_config_file_is_read_and_flags_win_over_it() {
        let file = ConfigFile::new(
            "file",
            "port = 8080\n\
             www = \".\"\n\
             allow_origins = [\"https://app.example\"]\n\
             cookie_secure = true\n\
             session_lifetime = \"7d\"\n\
             csrf = true\n",
        );
        let config = parse(&["--config", file.arg()]).expect("valid file");
        assert_eq!(config.addr.port(), 8080);
        assert!(config.csrf);
        assert_eq!(config.www, file.dir().join("."));
        assert_eq!(
            config.origins,
            OriginPolicy::only_allow_origins(["https://app.example"]).unwrap()
        );
        assert!(config.session.secure);
        assert_eq!(
            config.session.lifetime,
            Some(Duration::from_secs(7 * 24 * 3600))
        );

        let config = parse(&[
            "--config",
            file.arg(),
            "--port",
            "9090",
            "--any-origin",
            "--cookie-secure",
            "false",
            "--session-lifetime",
            "1h",
        ])
        .expect("valid flags over the file");
        assert_eq!(config.addr.port(), 9090);
        assert_eq!(config.origins, OriginPolicy::AnyOrigin);
        assert!(!config.session.secure);
        assert_eq!(config.session.lifetime, Some(Duration::from_secs(3600)));

        assert!(!parse(&[]).expect("no flags").csrf);
        assert!(parse(&["--csrf"]).expect("--csrf").csrf);
        assert!(parse(&["--csrf=true"]).is_err());
    }

    #[test]
    fn explains_a_bad_config_file() {
        for (text, message) in [
            (
                "allow_origins = [\"app.example\"]",
                "`app.example` is not an origin",
            ),
            (
                "session_lifetime = \"soon\"",
                "session_lifetime: `soon` is not a duration",
            ),
            ("cookie_secure = \"yes\"", "cookie_secure"),
            (
                "any_origin = true\nallow_origins = [\"http://a.example\"]",
                "choose one",
            ),
            ("origins = []", "unknown field `origins`"),
            (
                "recovery_window = \"2 minutes\"",
                "recovery_window: `2 minutes` is not a duration",
            ),
            ("port = ", "server.toml"),
        ] {
            let file = ConfigFile::new(&format!("bad-{}", text.len()), text);
            let error = parse(&["--config", file.arg()]).expect_err(text);
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn the_recovery_window_is_a_duration_of_at_most_a_day() {
        let window = |args: &[&str]| parse(args).map(|config| config.recovery_window);
        assert_eq!(window(&[]), Ok(Duration::from_secs(120)));
        assert_eq!(
            window(&["--recovery-window", "90s"]),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(window(&["--recovery-window=0s"]), Ok(Duration::ZERO));
        assert_eq!(
            window(&["--recovery-window", "24h"]),
            Ok(Duration::from_secs(86_400))
        );
        for bad in ["2", "2d", "-1s", "1.5m", "25h", ""] {
            let error = window(&["--recovery-window", bad]).expect_err(bad);
            assert!(error.starts_with("--recovery-window: "), "{bad}: {error}");
        }
        let file = ConfigFile::new("recovery", "recovery_window = \"5m\"\n");
        assert_eq!(
            window(&["--config", file.arg()]),
            Ok(Duration::from_secs(300))
        );
        assert_eq!(
            window(&["--config", file.arg(), "--recovery-window", "1s"]),
            Ok(Duration::from_secs(1))
        );
    }

    #[test]
    fn production_needs_an_origin_policy() {
        for (args, env) in [
            (&["--production"][..], &[][..]),
            (&[], &[("NODE_ENV", "production")]),
            (&[], &[("SAILS_ENV", "production")]),
        ] {
            let error = parse_in(args, env).expect_err("refused in production");
            assert!(
                error.contains("refusing to start in production mode"),
                "{error}"
            );
            assert!(error.contains("--allow-origin"), "{error}");
        }
        let file = ConfigFile::new("production", "production = true\n");
        assert!(parse(&["--config", file.arg()]).is_err());

        assert!(parse_in(&[], &[("NODE_ENV", "development")]).is_ok());
        let config = parse(&["--production", "--allow-origin", "https://app.example"])
            .expect("origins configured");
        assert!(config.production);
        assert!(
            config.session.secure,
            "Secure cookie by default in production"
        );
        assert!(parse(&["--production", "--any-origin"]).is_ok());
        assert!(
            !parse(&["--production", "--any-origin", "--cookie-secure", "false"])
                .unwrap()
                .session
                .secure
        );
    }

    #[test]
    fn a_program_may_default_to_any_origin() {
        let defaults = Defaults {
            origins: OriginPolicy::AnyOrigin,
            ..Defaults::new(www())
        };
        let config = parse_args("interop", defaults.clone(), std::iter::empty(), |_| None).unwrap();
        assert_eq!(config.origins, OriginPolicy::AnyOrigin);
        let narrowed = parse_args(
            "interop",
            defaults,
            ["--allow-origin".to_owned(), "http://a.example".to_owned()].into_iter(),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            narrowed.origins,
            OriginPolicy::only_allow_origins(["http://a.example"]).unwrap()
        );
    }
}
