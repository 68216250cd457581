// Runs right after the wasm-bindgen glue, inside the same closure: `wasm_bindgen`
// is the glue's init function, and holds the module's exports once it resolves.
//
// sails.io.js pages expect `io`, `io.sails` and `io.socket` as soon as the script
// tag has run, but the wasm module loads asynchronously. So this defines them at
// once: `io.sails` with Sails' defaults and the script tag's attributes, and
// stand-in sockets that record every call. When the module is ready, each
// stand-in hands its calls over to a real socket and forwards from then on.
var script = document.currentScript;
var io = (globalThis.io = globalThis.io || {});
if (io.sails) {
  throw new Error("The socket.io client (`io`) has already been augmented into a Sails socket SDK instance. Is sails.io.js loaded twice?");
}
var src = (script && script.src) || "";
var locals = globalThis.SAILS_LOCALS || {};
var sails = (io.sails = {
  autoConnect: true,
  reconnection: false,
  useCORSRouteToGetCookie: true,
  transports: ["websocket"],
  environment: /#production|\.min\.js/.test(src) || /^(staging|production)$/.test(locals._environment)
    ? "production"
    : "development",
  sdk: {
    version: "1.2.1",
    language: "javascript",
    platform: "browser",
    versionString: "__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=browser&__sails_io_sdk_language=javascript",
  },
});

// Script-tag settings: `data-<key>` wins over `<key>`; values are JSON when they parse.
var expected = { autoConnect: "boolean", environment: "string", headers: "object", url: "string" };
["autoConnect", "reconnection", "environment", "headers", "url", "transports", "path"].forEach(function (key) {
  var raw = script && (script.getAttribute("data-" + key) || script.getAttribute(key));
  if (raw === null || raw === undefined) return;
  var value = raw;
  try { value = JSON.parse(raw); } catch (e) { /* a bare string */ }
  if (key === "autoConnect" && value === "") value = true;
  var type = expected[key];
  if (type && (typeof value !== type || (type === "object" && (!value || Array.isArray(value))))) {
    throw new Error("sails.io.js :: Unexpected/invalid configuration for `" + key + "` provided in script tag: `" + raw + "`");
  }
  sails[key] = value;
});

var REQUESTS = ["get", "post", "put", "patch", "delete", "request"];
// A socket's settings, as the module's option table names them (a test keeps the two alike).
var OPTIONS = ["useCORSRouteToGetCookie", "url", "multiplex", "transports", "query", "path", "headers",
  "initialConnectionHeaders", "reconnection", "reconnectionAttempts", "reconnectionDelay",
  "reconnectionDelayMax", "rejectUnauthorized", "randomizationFactor", "timeout", "eio", "resubscribe"];
var CHAINED = ["on", "off", "removeAllListeners", "disconnect", "reconnect"];
var standIns = [];

function report(error) {
  setTimeout(function () { throw error; });
}

// A socket that records calls until `adopt(real)`, then forwards them.
function standIn(autoConnecting) {
  var calls = [];
  var real;
  var socket = {};
  function forward(name) {
    return function () {
      return real[name].apply(real, arguments);
    };
  }
  REQUESTS.forEach(function (name) {
    socket[name] = function () {
      if (real) return real[name].apply(real, arguments);
      var args = arguments;
      var last = args[args.length - 1];
      if (typeof last === "function") {
        calls.push([name, args]);
        return undefined;
      }
      return new Promise(function (resolve, reject) {
        calls.push([name, args, resolve, reject]);
      });
    };
  });
  CHAINED.forEach(function (name) {
    socket[name] = function () {
      if (real) return real[name].apply(real, arguments);
      calls.push([name, arguments]);
      return socket;
    };
  });
  socket.isConnected = function () { return real ? real.isConnected() : false; };
  socket.isConnecting = function () { return real ? real.isConnecting() : false; };
  socket.mightBeAboutToAutoConnect = function () {
    return real ? real.mightBeAboutToAutoConnect() : autoConnecting;
  };
  var methods = Object.keys(socket);
  function adopt(socketFromWasm) {
    real = socketFromWasm;
    // Properties the page set meanwhile (options, or its own flags).
    Object.keys(socket).forEach(function (key) {
      if (methods.indexOf(key) < 0) real[key] = socket[key];
    });
    methods.forEach(function (name) { socket[name] = forward(name); });
    calls.forEach(function (call) {
      try {
        var result = real[call[0]].apply(real, call[1]);
        if (call[2]) result.then(call[2], call[3]);
      } catch (error) {
        if (call[3]) call[3](error);
        else report(error);
      }
    });
    calls = [];
    return real;
  }
  return { socket: socket, adopt: adopt };
}

sails.connect = function (url, opts) {
  var pending = standIn(false);
  standIns.push([pending, url, opts]);
  return pending.socket;
};

var auto = standIn(true);
io.socket = auto.socket;
// The settings the stand-in took from `io.sails` on the tick below, by name.
var inherited = {};

// As sails.io.js, `io.sails.autoConnect` is read on the tick after this script ran (so
// the page's next script may still turn it off); turned off, `io.socket` goes then.
var settled = new Promise(function (resolve) {
  setTimeout(function () {
    if (sails.autoConnect === false || sails.autoconnect === false) {
      if (io.socket === auto.socket) delete io.socket;
      auto = null;
    } else {
      // As sails.io.js does when it starts connecting on this tick, the socket
      // takes `io.sails` settings it lacks as its own (`io.socket.url`, …).
      OPTIONS.forEach(function (name) {
        if (auto.socket[name] === undefined && sails[name] !== undefined) {
          auto.socket[name] = inherited[name] = sails[name];
        }
      });
    }
    resolve();
  }, 0);
});

// The module: inside the script in the one-file build (`inlineWasm`, base64,
// defined by the build before the glue), so that a page asks for nothing more;
// otherwise beside the script, found as wasm-bindgen finds it but without the
// script URL's query or fragment: `sails.io.lean.js#production` (Sails' way to
// ask for the production environment) still loads `sails.io.lean_bg.wasm`.
function decodeBase64(text) {
  var binary = atob(text);
  var bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
var wasmModule = inlineWasm
  ? { module_or_path: decodeBase64(inlineWasm) }
  : src
    ? { module_or_path: src.replace(/[?#].*$/, "").replace(/\.js$/, "_bg.wasm") }
    : undefined;
// The parser may yield between the script tag and the page's next scripts, so
// their `io.sails` settings can come after the tick above, even after the module
// is ready (it is inside this script in the one-file build). The automatic
// socket connects no sooner than the tick after the document is parsed; until
// then, what it took from `io.sails` follows `io.sails`.
var parsed = new Promise(function (resolve) {
  function nextTick() {
    setTimeout(resolve, 0);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", nextTick);
  else nextTick();
});

function startAutomaticSocket() {
  if (!auto) return;
  Object.keys(inherited).forEach(function (name) {
    if (auto.socket[name] === inherited[name] && sails[name] !== undefined) auto.socket[name] = sails[name];
  });
  var socket = auto.adopt(wasm_bindgen.createSocket());
  if (io.socket === auto.socket) io.socket = socket;
  // From now on only the page refers to `io.socket`: once it is disconnected
  // and dropped (`delete io.socket`), the browser may free it.
  auto = null;
  try {
    socket._connect();
  } catch (error) {
    report(error);
  }
}

sails.ready = Promise.all([wasm_bindgen(wasmModule), settled])
  .then(function () {
    wasm_bindgen.install(io);
    standIns.forEach(function (entry) {
      try {
        entry[0].adopt(wasm_bindgen.connect(entry[1], entry[2]));
      } catch (error) {
        report(error);
      }
    });
    standIns = [];
    return auto && parsed.then(startAutomaticSocket);
  })
  .then(function () {
    return sails;
  });
sails.ready.catch(function (error) {
  console.error("sails.io.js: the client module could not start:", error);
});
