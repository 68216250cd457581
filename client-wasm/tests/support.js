// Browser-test scenarios, written against the client's JS API exactly as a page
// uses it. Each one resolves when its checks pass and rejects (with the failed
// check) otherwise; every wait has a timeout.
//
// `api` is `{ connect, createSocket, sails }` from the wasm module.

const WAIT_MS = 5000;

function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
}

// JSON with sorted keys, so that key order does not matter.
function canonical(value) {
  return JSON.stringify(value, (key, inner) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.keys(inner).sort().map((k) => [k, inner[k]]))
      : inner,
  );
}

function same(actual, expected, message) {
  const a = canonical(actual);
  const e = canonical(expected);
  check(a === e, `${message}: got ${a}, expected ${e}`);
}

function within(promise, what, ms = WAIT_MS) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition()` holds, checking every 5 ms; fails after `ms`. */
async function until(condition, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(5);
  }
}

function once(socket, event, what) {
  return within(
    new Promise((resolve) => {
      const handler = (...args) => {
        socket.off(event, handler);
        resolve(args);
      };
      socket.on(event, handler);
    }),
    what || event,
  );
}

// `socket[verb](url, data, cb)` as a promise of `[body, jwr]`.
function ask(socket, verb, url, data) {
  return within(
    new Promise((resolve) => {
      const cb = (body, jwr) => resolve([body, jwr]);
      if (data === undefined) socket[verb](url, cb);
      else socket[verb](url, data, cb);
    }),
    `${verb} ${url}`,
  );
}

async function connected(api, url, opts = {}) {
  const socket = api.connect(url, opts);
  if (!socket.isConnected()) await once(socket, "connect", "connect to " + url);
  return socket;
}

function throws(fn, pattern, what) {
  try {
    fn();
  } catch (error) {
    check(pattern.test(String(error.message)), `${what}: wrong message ${error.message}`);
    return;
  }
  throw new Error(`check failed: ${what} did not throw`);
}

// ---- against the interop server ------------------------------------------

export async function verbsAndJwr(api, url) {
  const socket = await connected(api, url);
  check(socket.isConnected() && !socket.isConnecting(), "connected state");
  const [body, jwr] = await ask(socket, "get", "/hello");
  same(body, "ok!", "GET /hello body");
  same([jwr.statusCode, typeof jwr.headers, jwr.error], [200, "object", undefined], "JWR of /hello");
  same(jwr.toPOJO(), { body: "ok!", headers: jwr.headers, statusCode: 200 }, "toPOJO");
  check(String(jwr).startsWith("[ResponseFromSails]  -- Status: 200"), "toString");
  check(jwr.pipe() instanceof Error, "pipe returns an Error");
  same(Object.keys(jwr), ["body", "headers", "statusCode"], "the JWR's own properties, as sails.io.js's");
  same(JSON.parse(JSON.stringify(jwr)), { body: "ok!", headers: jwr.headers, statusCode: 200 }, "JSON of the JWR");
  for (const verb of ["post", "put", "patch", "delete"]) {
    const [echo] = await ask(socket, verb, "/echo", { n: 1, verb });
    same([echo.method, echo.body, echo.isSocket], [verb.toUpperCase(), { n: 1, verb }, true], verb);
  }
  const [query] = await ask(socket, "get", "/echo?a=1", { b: 2 });
  same([query.method, query.query.a], ["GET", "1"], "GET with params");
  const [noData] = await ask(socket, "post", "/echo");
  same(noData.body, {}, "POST without data sends {}");
  const [bad, badJwr] = await ask(socket, "get", "/status/404");
  same([bad, badJwr.statusCode], [{ code: 404 }, 404], "404 JWR");
  check(badJwr.error instanceof Error, "error on 404");
  same(Object.keys(badJwr), ["body", "headers", "statusCode", "error"], "a failed JWR's own properties");
  check(badJwr.error.message.startsWith("Server responded with a 404 status code:"), "404 message");
  const [, redirect] = await ask(socket, "get", "/redirect");
  same(redirect.statusCode, 302, "redirect status");
  const [body2, viaRequest] = await within(
    new Promise((resolve) =>
      socket.request({ url: "/echo", method: "PUT", data: [1, 2], headers: { "x-one": "1" } }, (b, j) => resolve([b, j])),
    ),
    "request()",
  );
  same([body2.method, body2.body, body2.headers["x-one"], viaRequest.statusCode], ["PUT", [1, 2], "1", 200], "request()");
  socket.disconnect();
}

export async function promises(api, url) {
  const socket = await connected(api, url);
  const { body, jwr } = await within(socket.get("/hello"), "promise get");
  same([body, jwr.statusCode], ["ok!", 200], "resolved {body, jwr}");
  const posted = await within(socket.post("/echo", { a: 1 }), "promise post");
  same(posted.body.body, { a: 1 }, "promise post body");
  const rejected = await within(
    socket.get("/status/500").then(
      () => null,
      (error) => error,
    ),
    "promise rejection",
  );
  check(rejected instanceof Error, "rejects with an Error");
  same([rejected.jwr.statusCode, rejected.body], [500, { code: 500 }], "rejection carries the JWR");
  const viaRequest = await within(socket.request({ url: "/hello" }), "request() promise");
  same(viaRequest.body, "ok!", "request() promise");
  socket.disconnect();
}

export async function validation(api, url) {
  const socket = api.connect(url, {});
  throws(() => socket.request({}), /^Invalid or missing URL!/, "request without url");
  throws(() => socket.request("x"), /^Invalid or missing URL!/, "request with a string");
  throws(() => socket.request({ url: "/x" }, 5), /^Invalid callback function!/, "bad callback");
  throws(() => socket.request({ url: "/x", method: 3 }), /^Invalid `method`/, "bad method");
  throws(() => socket.request({ url: "/x", headers: "h" }), /^Invalid `headers`/, "bad headers");
  throws(() => socket.request({ url: "/x", params: "p" }), /^Invalid `params`/, "bad params");
  throws(() => socket.request({ url: "/x", data: 1 }), /^Invalid `data`/, "bad data");
  throws(() => socket.request({ url: "/x", params: {}, data: { a: 1 } }), /^Cannot specify both `params` and `data`/, "both");
  throws(() => socket.get(7, () => {}), /^Invalid or missing URL!/, "get with a number");
  await once(socket, "connect");
  throws(() => socket.reconnect(), /^Cannot connect- socket is already connected/, "reconnect while connected");
  throws(() => { socket.url = "http://elsewhere"; }, /^Cannot change value of `url` while socket is connected\.$/, "url setter");
  throws(() => { socket.reconnection = true; }, /^Cannot change value of `reconnection`/, "reconnection setter");
  socket.url = url; // the same value is fine
  socket.headers = { "x-later": "1" }; // headers may change at any time
  socket.disconnect();
  throws(() => socket.disconnect(), /^Cannot disconnect- socket is already disconnected$/, "second disconnect");
  socket.query = "changed=1";
  same(socket.query, "changed=1", "setters work while disconnected");
}

export async function headersPrecedence(api, url) {
  const socket = await connected(api, url, { headers: { "x-a": "socket", "x-b": "socket" } });
  const [echo] = await within(
    new Promise((resolve) =>
      socket.request({ url: "/echo", headers: { "x-b": "request", "x-a": undefined } }, (b, j) => resolve([b, j])),
    ),
    "echo headers",
  );
  same([echo.headers["x-a"], echo.headers["x-b"]], [undefined, "request"], "request headers win; undefined removes");
  socket.disconnect();
}

export async function queueBeforeConnect(api, url) {
  const socket = api.createSocket({ url });
  check(socket.mightBeAboutToAutoConnect(), "mightBeAboutToAutoConnect before _connect");
  check(!socket.isConnected(), "not connected yet");
  const order = [];
  const first = ask(socket, "get", "/echo?n=1").then(([b]) => order.push(b.query.n));
  const second = ask(socket, "post", "/echo?n=2", { x: 1 }).then(([b]) => order.push(b.query.n));
  const third = within(socket.get("/hello"), "queued promise");
  const connect = once(socket, "connect");
  socket._connect();
  check(!socket.mightBeAboutToAutoConnect(), "no longer about to autoconnect");
  check(socket.isConnecting(), "isConnecting after _connect");
  // A socket connects once: `_connect()` again is refused, as `reconnect()` is.
  throws(() => socket._connect(), /^Cannot connect- socket is already connecting$/, "_connect() while connecting");
  await connect;
  throws(() => socket._connect(), /^Cannot connect- socket is already connected$/, "_connect() while connected");
  await Promise.all([first, second, third]);
  // (The server may answer in any order; the order they are sent in is
  // checked against the fake server and in the native session tests.)
  same(order.sort(), ["1", "2"], "both replayed");
  // Requests made while disconnected wait for the next connection.
  socket.disconnect();
  const later = ask(socket, "get", "/hello");
  check(!socket.isConnected() && !socket.isConnecting(), "queued while disconnected");
  socket.reconnect();
  same((await later)[0], "ok!", "request made while disconnected");
  socket.disconnect();
}

export async function inFlightOnDisconnect(api, url) {
  const socket = await connected(api, url);
  const answer = within(
    new Promise((resolve) => socket.get("/slow?ms=3000", (...args) => resolve(args))),
    "in-flight callback",
  );
  const promised = socket.get("/slow?ms=3000").then(
    () => null,
    (error) => error,
  );
  const disconnected = once(socket, "disconnect");
  socket.disconnect();
  const [error, response] = await answer;
  check(error instanceof Error, "callback gets an Error");
  same(error.message, "The socket disconnected before the request completed.", "message");
  same(response, { body: null, statusCode: 0, headers: {} }, "empty response");
  const rejected = await within(promised, "in-flight promise");
  same([rejected.message, rejected.jwr.statusCode], ["The socket disconnected before the request completed.", 0], "promise rejects");
  same((await disconnected)[0], "io client disconnect", "disconnect reason");
  check(!socket.isConnected(), "disconnected");
}

export async function listenersSurviveReconnect(api, url) {
  const socket = await connected(api, url);
  let connects = 0;
  socket.on("connect", () => connects++);
  const heard = [];
  socket.on("hey", (data) => heard.push(data));
  const chained = socket.on("noop", () => {});
  check(chained === socket, "on() chains to the same object");
  for (let round = 0; round < 3; round++) {
    socket.disconnect();
    const again = once(socket, "connect");
    socket.reconnect();
    await again;
  }
  same(connects, 3, "one connect call per reconnection");
  const { body: me } = await within(socket.get("/me"), "GET /me");
  const got = once(socket, "hey");
  await within(socket.post(`/sockets/${me.id}/emit`, { event: "hey", data: { n: 1 } }), "emit");
  same((await got)[0], { n: 1 }, "listener added after connect survives reconnect");
  same(heard, [{ n: 1 }], "heard once");
  // removeAllListeners drops the page's listeners only.
  socket.removeAllListeners();
  const still = await within(socket.get("/hello"), "request after removeAllListeners");
  same(still.body, "ok!", "client still works");
  const pending = new Promise((resolve) => socket.get("/slow?ms=3000", (error) => resolve(error)));
  socket.disconnect();
  same((await within(pending, "in-flight after removeAllListeners")).message, "The socket disconnected before the request completed.", "internal handlers kept");
}

export async function serverEvents(api, url) {
  const a = await connected(api, url);
  const b = await connected(api, url);
  const heardA = once(a, "news", "blast to a");
  const heardB = once(b, "news", "blast to b");
  await within(a.post("/blast", { event: "news", data: { hi: 1 } }), "blast");
  same([(await heardA)[0], (await heardB)[0]], [{ hi: 1 }, { hi: 1 }], "blast reaches both");
  await within(b.put("/rooms/r1/join"), "join");
  const inRoom = once(b, "message", "broadcast");
  await within(a.post("/rooms/r1/broadcast", { data: { text: "to room" } }), "broadcast");
  same((await inRoom)[0], { text: "to room" }, "default event name is message");
  // Resourceful pubsub.
  await within(b.put("/pets/watch"), "watch");
  const created = once(b, "pet", "pet created");
  await within(a.post("/pets", { id: 7, name: "Rex" }), "create pet");
  same((await created)[0], { verb: "created", id: 7, data: { id: 7, name: "Rex" } }, "created payload");
  let off = 0;
  const counter = () => off++;
  b.on("pet", counter);
  b.off("pet", counter);
  const updated = once(b, "pet", "pet updated");
  await within(a.patch("/pets/7", { name: "Max" }), "update pet");
  same((await updated)[0].verb, "updated", "updated payload");
  same(off, 0, "off() removed the listener");
  a.disconnect();
  b.disconnect();
}

export async function sessions(api, url) {
  const a = await connected(api, url);
  const first = await within(a.get("/count"), "count 1");
  const second = await within(a.get("/count"), "count 2");
  same([first.body, second.body], [first.body, first.body + 1], "one session per socket");
  a.disconnect();
}

export async function engineIo4(api, url) {
  const socket = await connected(api, url, { eio: 4 });
  same((await within(socket.get("/hello"), "EIO4 request")).body, "ok!", "EIO4 works");
  socket.disconnect();
}

export async function queryAndPath(api, url) {
  const socket = await connected(api, url, { query: "?token=abc" });
  socket.disconnect();
  socket.reconnect();
  await once(socket, "connect");
  same(socket.query, "?token=abc", "query does not grow");
  socket.disconnect();
  const wrongPath = api.connect(url, { path: "/nowhere", timeout: 3000 });
  const [error] = await once(wrongPath, "connect_error", "connect_error on a wrong path");
  check(error instanceof Error, "connect_error carries an Error");
  check(!wrongPath.isConnecting(), "gave up");
}

export async function configFallback(api, url) {
  const sails = api.sails();
  same([sails.autoConnect, sails.reconnection, sails.useCORSRouteToGetCookie, sails.transports], [true, false, true, ["websocket"]], "defaults");
  same(sails.sdk.version, "1.2.1", "sdk version");
  sails.headers = { "x-global": "yes" };
  try {
    const socket = await connected(api, url);
    const echo = await within(socket.get("/echo"), "echo");
    same(echo.body.headers["x-global"], "yes", "io.sails.headers apply");
    socket.disconnect();
  } finally {
    delete sails.headers;
  }
}

// ---- against a fake server (a stand-in WebSocket) --------------------------

// Replaces `WebSocket` for `ws://fake.test…` URLs while `body(server)` runs
// (other URLs, e.g. the interop server's, still get a real WebSocket, and fake
// servers take turns, so tests may run concurrently). `server.next()` resolves
// to the next socket the client opens; `socket.serve(data)` delivers a frame.
let fakeServerTurn = Promise.resolve();

function withFakeServer(body) {
  const turn = fakeServerTurn.then(() => runFakeServer(body));
  fakeServerTurn = turn.catch(() => {});
  return turn;
}

async function runFakeServer(body) {
  const RealWebSocket = globalThis.WebSocket;
  const opened = [];
  const waiting = [];
  let latest = null;
  class FakeWebSocket {
    constructor(url) {
      if (!url.startsWith("ws://fake.test")) return new RealWebSocket(url);
      latest = this;
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.binaryType = "blob";
      setTimeout(() => {
        this.readyState = 1;
        (waiting.shift() || ((s) => opened.push(s)))(this);
      });
    }
    send(frame) {
      this.sent.push(frame);
    }
    close() {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      setTimeout(() => this.onclose && this.onclose({ code: 1000 }));
    }
    serve(data) {
      this.onmessage && this.onmessage({ data });
    }
    drop() {
      this.readyState = 3;
      this.onclose && this.onclose({ code: 1006 });
    }
  }
  FakeWebSocket.CONNECTING = 0;
  FakeWebSocket.OPEN = 1;
  FakeWebSocket.CLOSING = 2;
  FakeWebSocket.CLOSED = 3;
  globalThis.WebSocket = FakeWebSocket;
  const server = {
    next: () => within(new Promise((resolve) => (opened.length ? resolve(opened.shift()) : waiting.push(resolve))), "a WebSocket"),
    // The socket the client opened last, at once (it is still handed to `next()`).
    latest: () => latest,
  };
  try {
    await body(server);
  } finally {
    globalThis.WebSocket = RealWebSocket;
  }
}

const OPEN = '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":60000}';

export async function badServerInput(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", { useCORSRouteToGetCookie: false });
    const ws = await server.next();
    check(ws.url.startsWith("ws://fake.test/socket.io/?__sails_io_sdk_version=1.2.1&"), "handshake URL " + ws.url);
    check(ws.url.endsWith("&EIO=3&transport=websocket"), "EIO3 by default");
    ws.serve(OPEN);
    const connect = once(socket, "connect");
    ws.serve("40");
    await connect;
    const errors = [];
    socket.on("error", (error) => errors.push(error.message));
    for (const garbage of ["", "9", "4", "4x", "42", '42{"a":1}', "42[not json", "0nope", "431[{}]"]) {
      ws.serve(garbage);
    }
    ws.serve(new Uint8Array([4, 1, 2]).buffer);
    same(errors.length, 9, "every bad frame reported (the unknown ack is ignored): " + errors.join(" | "));
    check(errors.every((m) => m.startsWith("Unexpected data from the server")), "error messages");
    check(socket.isConnected(), "still connected");
    // A request, its frame, and its ack.
    const reply = ask(socket, "post", "/x", { a: 1 });
    const frame = ws.sent[ws.sent.length - 1];
    same(frame, '420["post",{"method":"post","headers":{},"data":{"a":1},"url":"/x"}]', "request frame");
    ws.serve('430[{"body":{"ok":true},"statusCode":201,"headers":{"x":"y"}}]');
    const [body, jwr] = await reply;
    same([body, jwr.statusCode, jwr.headers], [{ ok: true }, 201, { x: "y" }], "ack");
    // A listener that throws does not break the client.
    socket.on("boom", () => {
      throw new Error("listener failure");
    });
    let thrown = null;
    try {
      ws.serve('42["boom"]');
    } catch (error) {
      thrown = error;
    }
    check(thrown && thrown.message === "listener failure", "listener exception surfaces after dispatch");
    // Binary ack: attachments replace the placeholders.
    const file = ask(socket, "get", "/file");
    ws.serve('461-1[{"body":{"_placeholder":true,"num":0},"statusCode":200}]');
    ws.serve(new Uint8Array([4, 9, 8]).buffer);
    const [bytes] = await file;
    check(bytes instanceof ArrayBuffer, "binary body is an ArrayBuffer");
    same(Array.from(new Uint8Array(bytes)), [9, 8], "attachment bytes");
    // The server goes away mid-request.
    const pending = new Promise((resolve) => socket.get("/slow", (...args) => resolve(args)));
    const gone = once(socket, "disconnect");
    ws.drop();
    same((await gone)[0], "transport close", "disconnect reason");
    const [error, response] = await within(pending, "in-flight after a drop");
    same([error.message, response.statusCode], ["The socket disconnected before the request completed.", 0], "in-flight error");
  });
}

export async function heartbeatsAndEngineIo4(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", { eio: 4, useCORSRouteToGetCookie: false });
    const ws = await server.next();
    check(ws.url.endsWith("&EIO=4&transport=websocket"), "EIO4 query");
    ws.serve('0{"sid":"s","upgrades":[],"pingInterval":100,"pingTimeout":100}');
    same(ws.sent, ["40"], "EIO4 client opens the namespace");
    const connect = once(socket, "connect");
    ws.serve('40{"sid":"x"}');
    await connect;
    ws.serve("2");
    same(ws.sent[ws.sent.length - 1], "3", "answers the server's ping");
    const lost = once(socket, "disconnect", "ping timeout");
    same((await lost)[0], "ping timeout", "no ping within interval + timeout");
  });
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", { useCORSRouteToGetCookie: false });
    const ws = await server.next();
    ws.serve('0{"sid":"s","upgrades":[],"pingInterval":50,"pingTimeout":100}');
    ws.serve("40");
    await until(() => ws.sent.includes("2"), "an EIO3 ping after pingInterval");
    same(ws.sent.filter((f) => f === "2").length, 1, "EIO3 client pings after pingInterval");
    ws.serve("3");
    const lost = once(socket, "disconnect", "pong timeout");
    same((await lost)[0], "ping timeout", "closes without a pong");
  });
}

export async function refusedAndReconnection(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", { useCORSRouteToGetCookie: false });
    const ws = await server.next();
    ws.serve(OPEN);
    const refused = once(socket, "connect_error", "refusal");
    ws.serve('44{"message":"not allowed"}');
    same((await refused)[0], { message: "not allowed" }, "connect_error payload");
    check(!socket.isConnected() && !socket.isConnecting(), "gave up");
  });
  await withFakeServer(async (server) => {
    const events = [];
    const socket = api.connect("http://fake.test", {
      useCORSRouteToGetCookie: false,
      reconnection: true,
      reconnectionAttempts: 2,
      reconnectionDelay: 10,
      reconnectionDelayMax: 20,
    });
    for (const name of ["connect", "connect_error", "disconnect", "reconnect", "reconnect_attempt", "reconnecting", "reconnect_error", "reconnect_failed"]) {
      socket.on(name, (arg) => events.push(arg === undefined ? name : `${name}:${typeof arg === "object" ? "err" : arg}`));
    }
    let ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    ws.drop();
    const request = within(socket.get("/after"), "request replayed after reconnect");
    ws = await server.next();
    ws.drop(); // the first attempt fails
    ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    const replayed = ws.sent.find((f) => f.includes('"/after"'));
    check(replayed, "the request made while disconnected goes out on the new connection: " + ws.sent);
    ws.serve(replayed.replace(/^42(\d+).*$/, '43$1[{"body":"late","statusCode":200}]'));
    same((await request).body, "late", "answered");
    same(
      events.join(","),
      "connect,disconnect:transport close,reconnect_attempt:1,reconnecting:1,connect_error:err,reconnect_error:err,reconnect_attempt:2,reconnecting:2,reconnect:2,connect",
      "event order",
    );
    // Now let every attempt fail.
    events.length = 0;
    const failed = once(socket, "reconnect_failed");
    ws.drop();
    (await server.next()).drop();
    (await server.next()).drop();
    await failed;
    check(events.includes("reconnect_failed"), "gives up after reconnectionAttempts");
  });
}

export async function recovery(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", {
      useCORSRouteToGetCookie: false,
      reconnection: true,
      reconnectionDelay: 10,
      reconnectionDelayMax: 20,
      resubscribe: true,
    });
    const events = [];
    socket.on("connect", () => events.push("connect"));
    socket.on("reconnect", (n, outcome) => events.push(["reconnect", n, outcome]));
    socket.on("m", (...args) => events.push(["m", ...args]));
    socket.on("sails:recovery", () => events.push("status reached the page"));
    same(socket.recovery, null, "no outcome before a reconnection");
    // First connection: opt in, no token.
    let ws = await server.next();
    check(ws.url.includes("&__sails_io_sdk_language=javascript&__sails_recover=1&EIO=3&"), "opt-in " + ws.url);
    check(!ws.url.includes("__sails_token"), "no token yet");
    ws.serve(OPEN);
    ws.serve("40");
    ws.serve('42["sails:recovery",{"token":"t 1","offset":41}]');
    same(socket.recovery, null, "a first connection is no reconnection");
    // A request that joins a room is kept once; one that does not is not kept.
    const answer = (frame, headers, status = 200) =>
      ws.serve(frame.replace(/^42(\d+).*$/, `43$1[{"body":"ok","statusCode":${status},"headers":${JSON.stringify(headers)}}]`));
    for (const [url, headers] of [["/join", { "x-sails-subscribed": "1" }], ["/join", { "x-sails-subscribed": "1" }], ["/other", {}]]) {
      const reply = ask(socket, "post", url, { room: "a" });
      answer(ws.sent[ws.sent.length - 1], headers);
      await reply;
    }
    // Broadcasts: the offset is taken off, a repeated or older one dropped.
    ws.serve('42["m",1,{"__sails_offset":42}]');
    ws.serve('42["m",1,{"__sails_offset":42}]');
    ws.serve('42["m",0,{"__sails_offset":40}]');
    ws.serve('42["m","plain"]');
    ws.serve('42["m",{"__sails_offset":"x"}]');
    same(events, ["connect", ["m", 1], ["m", "plain"], ["m", { __sails_offset: "x" }]], "first connection");
    // The connection drops; the next one is opened and answers the handshake.
    const reconnect = async () => {
      events.length = 0;
      ws.drop();
      ws = await server.next();
      const url = ws.url;
      ws.serve(OPEN);
      ws.serve("40");
      return url;
    };
    // Recovered: `reconnect` waits for the status, then the missed broadcast.
    let url = await reconnect();
    check(url.includes("&__sails_recover=1&__sails_token=t%201&__sails_offset=42&EIO=3&"), "token and offset " + url);
    same(events, ["connect"], "reconnect waits for the status");
    ws.serve('42["sails:recovery",{"token":"t2","recovered":true,"missed":1}]');
    ws.serve('42["m",2,{"__sails_offset":43}]');
    const recovered = { recovered: true, missed: 1 };
    same(events, ["connect", ["reconnect", 1, recovered], ["m", 2]], "recovered");
    same(socket.recovery, recovered, "socket.recovery");
    check(!ws.sent.some((f) => f.includes("/join")), "nothing replayed when recovered");
    // Not recovered: the offset is replaced, the room request replayed once, silently.
    url = await reconnect();
    check(url.includes("&__sails_token=t2&__sails_offset=43&"), "newest token " + url);
    ws.serve('42["sails:recovery",{"token":"t3","offset":7,"recovered":false,"reason":"expired"}]');
    const expired = { recovered: false, reason: "expired", missed: 0 };
    same(events, ["connect", ["reconnect", 1, expired]], "expired");
    same(socket.recovery, expired, "socket.recovery expired");
    const replayed = ws.sent.filter((f) => f.includes('"url":"/'));
    same(replayed.length, 1, "one replay: " + replayed);
    check(replayed[0].includes('"method":"post"') && replayed[0].includes('"/join"') && replayed[0].includes('{"room":"a"}'), replayed[0]);
    const warn = console.warn;
    const warned = [];
    console.warn = (...args) => warned.push(args);
    try {
      answer(replayed[0], {}, 403);
    } finally {
      console.warn = warn;
    }
    check(warned.length === 1 && String(warned[0][0]).includes("resubscribe"), "a failed replay is a warning");
    ws.serve('42["m",3,{"__sails_offset":8}]');
    same(events[events.length - 1], ["m", 3], "the status's offset replaced the current one");
    // A server that sends no status: `reconnect` does not wait for ever.
    url = await reconnect();
    check(url.includes("&__sails_token=t3&__sails_offset=8&"), "token " + url);
    ws.serve('42["m",4]');
    const unsupported = { recovered: false, reason: "unsupported", missed: 0 };
    same(events, ["connect", ["reconnect", 1, unsupported], ["m", 4]], "unsupported");
    check(!events.includes("status reached the page"), "the status is the client's own");
    socket.disconnect();
  });
}

export async function crossOriginCookie(api) {
  await withFakeServer(async (server) => {
    // The page's origin differs from fake.test: the client first loads
    // /__getcookie as a script and connects when it calls back (or fails).
    const socket = api.connect("http://fake.test:9", {});
    check(socket.isConnecting(), "connecting while fetching the cookie");
    const script = document.querySelector('script[src="http://fake.test:9/__getcookie"]');
    check(script, "the __getcookie script is in the page");
    check(typeof globalThis._sailsIoJSConnect === "function", "callback installed");
    globalThis._sailsIoJSConnect();
    const ws = await server.next();
    check(ws.url.startsWith("ws://fake.test:9/socket.io/"), "then connects");
    check(!document.querySelector('script[src="http://fake.test:9/__getcookie"]'), "script removed");
    socket.disconnect();
  });
}

export async function timeoutsAndListenerRemoval(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", { useCORSRouteToGetCookie: false, timeout: 50 });
    const events = [];
    const log = (name) => () => events.push(name);
    socket.on("connect_timeout", log("connect_timeout"));
    const failed = once(socket, "connect_error", "connect_error after the timeout");
    await server.next(); // never answers the handshake
    await failed;
    same(events, ["connect_timeout"], "connect_timeout first");
    check(!socket.isConnecting() && !socket.isConnected(), "gave up");
    // off(event) without a handler and removeAllListeners(event).
    const calls = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    socket.on("x", a).on("x", b).on("y", a).on("z", b);
    socket.off("x");
    socket.removeAllListeners("y");
    socket.reconnect();
    const ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    ws.serve('42["x"]');
    ws.serve('42["y"]');
    ws.serve('42["z"]');
    same(calls, ["b"], "only z's listener is left");
    socket.disconnect();
  });
}

export async function consoleNotices(api) {
  const sails = api.sails();
  const realLog = console.log;
  const logged = [];
  console.log = (...args) => logged.push(args.map(String).join(" "));
  const environment = sails.environment;
  try {
    for (const env of ["development", "production"]) {
      sails.environment = env;
      logged.length = 0;
      await withFakeServer(async (server) => {
        const socket = api.connect("http://fake.test", { useCORSRouteToGetCookie: false });
        const ws = await server.next();
        ws.serve(OPEN);
        ws.serve("40");
        ws.drop();
      });
      const text = logged.join("\n");
      if (env === "development") {
        check(text.includes("Now connected to http://fake.test"), "connect banner in development");
        check(text.includes("Socket was disconnected from Sails."), "disconnect notice in development");
      } else {
        same(logged, [], "silent in production");
      }
    }
  } finally {
    console.log = realLog;
    sails.environment = environment;
  }
}

export async function optionChangeStopsReconnection(api) {
  await withFakeServer(async (server) => {
    const socket = api.connect("http://fake.test", {
      useCORSRouteToGetCookie: false,
      reconnection: true,
      reconnectionDelay: 100,
      randomizationFactor: 0,
    });
    let ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    ws.drop();
    socket.headers = { "x-h": "1" }; // headers do not stop it
    socket.query = "v=2"; // any other option does
    let opened = false;
    server.next().then(() => (opened = true), () => {});
    // Three reconnection delays without a connection attempt: a bounded
    // window for something that must not happen.
    await sleep(300);
    check(!opened, "no reconnection after an option changed");
    socket.reconnect();
    await until(() => opened, "reconnect() to connect again");
    socket.disconnect();
  });
}

// ---- memory ------------------------------------------------------------------

// Runs a full garbage collection and waits until finalizers have had their
// turn (a sentinel's has run). Needs `--js-flags=--expose-gc` (webdriver.json).
async function collectGarbage() {
  check(typeof globalThis.gc === "function", "gc() is exposed (--js-flags=--expose-gc in webdriver.json)");
  let finalized = false;
  const sentinel = new FinalizationRegistry(() => (finalized = true));
  sentinel.register({}, null);
  await until(() => {
    globalThis.gc();
    // (The registry must live until it calls back.)
    return finalized && sentinel !== null;
  }, "a garbage collection");
}

// Sockets made and disconnected over and over, as a single-page app does per
// view, must not make the wasm memory grow: once disconnected and
// unreferenced, a socket (its listeners and pending requests too) is freed.
// `memory` is the module's `WebAssembly.Memory`; `report(text)` gets the figures.
export async function disconnectedSocketsAreFreed(api, memory, report) {
  const WARM_UP = 2000;
  const CYCLES = 10000;
  const BATCH = 250;
  const BOUND = 128 * 1024;
  const sails = api.sails();
  const environment = sails.environment;
  sails.environment = "production"; // no console notice per cycle
  try {
    await withFakeServer((server) => cyclesAgainst(server));
  } finally {
    sails.environment = environment;
  }
  async function cyclesAgainst(server) {
    const finalized = new Set();
    const registry = new FinalizationRegistry((n) => finalized.add(n));
    let made = 0;
    function cycle() {
      const n = made++;
      const opts = { useCORSRouteToGetCookie: false };
      // In turn io.socket's way (createSocket, then _connect) and io.sails.connect()'s.
      let socket;
      if (n % 2) {
        socket = api.connect("http://fake.test", opts);
      } else {
        socket = api.createSocket({ url: "http://fake.test", ...opts });
        socket._connect();
      }
      const ws = server.latest();
      ws.readyState = 1; // open at once
      ws.serve(OPEN);
      ws.serve("40");
      check(socket.isConnected(), "connected");
      // What a view leaves behind: a listener that refers to its socket, a
      // request in flight (failed by the disconnect) and one queued after it.
      let failed = null;
      socket.on("disconnect", () => socket.isConnected());
      socket.get("/in-flight", (error) => (failed = error));
      socket.disconnect();
      check(failed instanceof Error, "the in-flight request fails on disconnect");
      socket.get("/queued", () => {
        throw new Error("a request queued on a disconnected socket ran");
      });
      registry.register(socket, n);
    }
    async function cycles(count) {
      for (let i = 0; i < count; i++) {
        cycle();
        if ((i + 1) % BATCH === 0) await collectGarbage();
      }
      await collectGarbage();
      return memory.buffer.byteLength;
    }
    const before = await cycles(WARM_UP);
    const after = await cycles(CYCLES);
    report(`wasm memory after ${WARM_UP} warm-up cycles: ${before} B; after ${CYCLES} more: ${after} B`);
    check(after - before <= BOUND, `the wasm memory grew by ${after - before} B over ${CYCLES} cycles (bound ${BOUND} B)`);
    await until(() => {
      globalThis.gc();
      return finalized.size === made;
    }, "every disconnected socket to be collected");
  }
}

// Only disconnected sockets the page dropped are freed: one the page dropped
// but that is connected keeps hearing the server and reconnects; one the page
// keeps, disconnected, keeps its listeners and queued requests. Both are freed
// once disconnected with nothing referring to them.
export async function socketsInUseAreKept(api) {
  await withFakeServer(async (server) => {
    const finalized = new Set();
    const registry = new FinalizationRegistry((name) => finalized.add(name));
    const heard = [];
    (() => {
      const dropped = api.connect("http://fake.test", {
        useCORSRouteToGetCookie: false,
        reconnection: true,
        reconnectionDelay: 10,
        randomizationFactor: 0,
      });
      dropped.on("connect", () => heard.push("connect")).on("news", (data) => heard.push(data));
      registry.register(dropped, "dropped");
    })();
    let ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    await collectGarbage();
    ws.serve('42["news","first"]');
    ws.drop();
    await collectGarbage(); // while the reconnection is pending
    ws = await server.next();
    ws.serve(OPEN);
    ws.serve("40");
    ws.serve('42["news","second"]');
    same(heard, ["connect", "first", "connect", "second"], "a connected socket the page dropped");
    check(!finalized.has("dropped"), "a connected socket is not collected");

    let kept = api.connect("http://fake.test", { useCORSRouteToGetCookie: false });
    let keptWs = await server.next();
    keptWs.serve(OPEN);
    keptWs.serve("40");
    kept.on("news", function (data) {
      heard.push(this === kept ? data : "wrong this");
    });
    kept.disconnect();
    const queued = ask(kept, "get", "/queued");
    registry.register(kept, "kept");
    await collectGarbage();
    kept.reconnect();
    keptWs = await server.next();
    keptWs.readyState = 1;
    keptWs.serve(OPEN);
    keptWs.serve("40");
    const frame = keptWs.sent.find((f) => f.includes('"/queued"'));
    check(frame, "the queued request goes out after reconnect(): " + keptWs.sent);
    keptWs.serve(frame.replace(/^42(\d+).*$/, '43$1[{"body":"late","statusCode":200}]'));
    same((await queued)[0], "late", "the queued request is answered");
    keptWs.serve('42["news","third"]');
    same(heard.slice(4), ["third"], "the kept socket's listener, with the socket as `this`");

    // The server ends both connections; nothing refers to either any more.
    ws.serve("41");
    keptWs.serve("41");
    kept = null;
    await until(() => {
      globalThis.gc();
      return finalized.has("dropped") && finalized.has("kept");
    }, "both sockets to be collected once disconnected and dropped");
  });
}
