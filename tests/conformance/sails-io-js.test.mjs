// The real sails.io.js 1.2.1 client (socket.io-client 2.0.3, EIO3) against the
// interop app: verbs, JWRs, headers, sessions, queueing, rooms, broadcasts,
// pub/sub and disconnect cleanup.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startInterop, sailsIo, connect, connected, request, nextEvent, collect, close, within } from "./harness.mjs";

const require = createRequire(import.meta.url);
let server;
let io;
const sockets = [];

async function open(options) {
  const socket = await connect(io, server.url, options);
  sockets.push(socket);
  return socket;
}

async function idOf(socket) {
  const { body } = await request(socket, { method: "get", url: "/echo" });
  return body.socketId;
}

before(async () => {
  server = await startInterop();
  io = sailsIo();
});

after(async () => {
  sockets.forEach(close);
  await server?.stop();
});

test("every verb reaches the handler with its method, url, query and body", async () => {
  const socket = await open();
  const id = await idOf(socket);
  for (const method of ["get", "post", "put", "patch", "delete", "options"]) {
    const { body, jwr } = await request(socket, { method, url: "/echo?x=1", data: { a: 1 } });
    assert.equal(jwr.statusCode, 200, method);
    assert.equal(body.method, method.toUpperCase());
    assert.equal(body.url, "/echo?x=1");
    assert.equal(body.path, "/echo");
    assert.deepEqual(body.query, { x: "1" });
    assert.deepEqual(body.body, { a: 1 });
    assert.equal(body.isSocket, true);
    assert.equal(body.socketId, id);
  }
  const head = await request(socket, { method: "head", url: "/echo" });
  assert.equal(head.jwr.statusCode, 200);
  // The shorthand methods, `get` sending `params`.
  const viaGet = await within(new Promise((resolve) => socket.get("/echo", { q: 2 }, resolve)), "get");
  assert.deepEqual(viaGet.body, { q: 2 });
  const viaPost = await within(new Promise((resolve) => socket.post("/echo", { p: 3 }, resolve)), "post");
  assert.deepEqual(viaPost.body, { p: 3 });
  const viaPut = await within(new Promise((resolve) => socket.put("/echo", resolve)), "put without data");
  assert.equal(viaPut.method, "PUT");
});

test("JWR shapes and status codes", async () => {
  const socket = await open();
  let { body, jwr } = await request(socket, { method: "get", url: "/hello" });
  assert.equal(body, "ok!");
  assert.equal(jwr.statusCode, 200);
  assert.equal(jwr.error, undefined);
  assert.equal(typeof jwr.headers, "object");
  assert.equal(jwr.headers["set-cookie"], undefined);

  ({ body, jwr } = await request(socket, { method: "get", url: "/status/404" }));
  assert.deepEqual(body, { code: 404 });
  assert.equal(jwr.statusCode, 404);
  assert.ok(jwr.error instanceof Error);

  ({ body, jwr } = await request(socket, { method: "get", url: "/status/201" }));
  assert.equal(jwr.statusCode, 201);

  ({ body, jwr } = await request(socket, { method: "get", url: "/no/such/route" }));
  assert.equal(body, "Not Found");
  assert.equal(jwr.statusCode, 404);

  ({ body, jwr } = await request(socket, { method: "get", url: "/redirect" }));
  assert.equal(jwr.statusCode, 302);
  assert.equal(jwr.headers.location, "/hello");

  ({ body, jwr } = await request(socket, { method: "post", url: "/echo", data: [1, null, 0] }));
  assert.deepEqual(body.body, [1, null, 0]);
  assert.deepEqual(Object.keys(jwr.toPOJO()).sort(), ["body", "headers", "statusCode"]);
});

test("per-request headers win over socket headers; undefined removes one", async () => {
  const socket = await open({ headers: { "x-a": "socket", "x-b": "socket" } });
  let { body } = await request(socket, { method: "get", url: "/echo", headers: { "x-a": "request" } });
  assert.equal(body.headers["x-a"], "request");
  assert.equal(body.headers["x-b"], "socket");
  ({ body } = await request(socket, { method: "get", url: "/echo", headers: { "x-b": undefined } }));
  assert.equal(body.headers["x-b"], undefined);
  assert.equal(body.headers["x-a"], "socket");
});

test("sessions: 1 then 2 on one socket, a new socket starts at 1", async () => {
  const first = await open();
  assert.equal((await request(first, { method: "get", url: "/count" })).body, 1);
  assert.equal((await request(first, { method: "get", url: "/count" })).body, 2);
  const second = await open();
  assert.equal((await request(second, { method: "get", url: "/count" })).body, 1);
  assert.equal((await request(first, { method: "get", url: "/count" })).body, 3);
});

test("requests made before connect are queued and replayed", async () => {
  const socket = io.sails.connect(server.url, { multiplex: false });
  sockets.push(socket);
  assert.equal(socket.isConnected(), false);
  const pending = [
    request(socket, { method: "get", url: "/hello" }),
    request(socket, { method: "get", url: "/count" }),
  ];
  const [hello, count] = await Promise.all(pending);
  assert.equal(hello.body, "ok!");
  assert.equal(count.body, 1);
  assert.equal(socket.isConnected(), true);
});

test("in-flight requests fail when the socket disconnects", async () => {
  const socket = await open();
  const pending = within(new Promise((resolve) => socket.get("/slow?ms=3000", (body, jwr) => resolve({ body, jwr }))), "slow");
  socket.disconnect();
  const { body, jwr } = await pending;
  assert.ok(body instanceof Error);
  assert.equal(jwr.statusCode, 0);
});

test("rooms: join, members, me, leave", async () => {
  const a = await open();
  const b = await open();
  const [aId, bId] = [await idOf(a), await idOf(b)];
  assert.deepEqual((await request(a, { method: "put", url: "/rooms/lobby/join" })).body, { room: "lobby" });
  await request(b, { method: "put", url: "/rooms/lobby/join" });
  await request(b, { method: "put", url: "/rooms/other/join" });
  assert.deepEqual((await request(a, { method: "get", url: "/rooms/lobby/members" })).body, [aId, bId].sort());
  assert.deepEqual((await request(b, { method: "get", url: "/me" })).body, { id: bId, rooms: ["lobby", "other"] });
  await request(b, { method: "put", url: "/rooms/lobby/leave" });
  assert.deepEqual((await request(a, { method: "get", url: "/rooms/lobby/members" })).body, [aId]);
  const overHttp = await fetch(`${server.url}/rooms/lobby/join`, { method: "PUT" });
  assert.equal(overHttp.status, 400);
});

test("broadcast with and without the sender, and the default event", async () => {
  const sender = await open();
  const other = await open();
  await request(sender, { method: "put", url: "/rooms/r/join" });
  await request(other, { method: "put", url: "/rooms/r/join" });
  const senderNews = collect(sender, "news");

  const heard = nextEvent(other, "news");
  const own = nextEvent(sender, "news");
  await request(sender, { method: "post", url: "/rooms/r/broadcast", data: { event: "news", data: { n: 1 } } });
  assert.deepEqual(await heard, { n: 1 });
  assert.deepEqual(await own, { n: 1 });

  senderNews.length = 0;
  const omitted = nextEvent(other, "news");
  await request(sender, { method: "post", url: "/rooms/r/broadcast", data: { event: "news", data: 2, omitSender: true } });
  assert.equal(await omitted, 2);
  await request(sender, { method: "get", url: "/hello" });
  assert.deepEqual(senderNews, []);

  // No event name: `message`, and the sender is still omitted (Sails' three-argument
  // broadcast fails to omit it; we do not copy that bug).
  const senderMessages = collect(sender, "message");
  const plain = nextEvent(other, "message");
  await request(sender, { method: "post", url: "/rooms/r/broadcast", data: { data: "hi", omitSender: true } });
  assert.equal(await plain, "hi");
  await request(sender, { method: "get", url: "/hello" });
  assert.deepEqual(senderMessages, []);
});

test("blast reaches every socket, optionally not the sender; emit reaches one", async () => {
  const a = await open();
  const b = await open();
  const aSeen = collect(a, "all");
  const bGets = nextEvent(b, "all");
  await request(a, { method: "post", url: "/blast", data: { event: "all", data: 1 } });
  assert.equal(await bGets, 1);
  await request(a, { method: "get", url: "/hello" });
  assert.deepEqual(aSeen, [1]);

  const bAgain = nextEvent(b, "all");
  await request(a, { method: "post", url: "/blast", data: { event: "all", data: 2, omitSender: true } });
  assert.equal(await bAgain, 2);
  await request(a, { method: "get", url: "/hello" });
  assert.deepEqual(aSeen, [1]);

  const bId = await idOf(b);
  const direct = nextEvent(b, "dm");
  await request(a, { method: "post", url: `/sockets/${bId}/emit`, data: { event: "dm", data: "psst" } });
  assert.equal(await direct, "psst");
});

test("listeners bound before connect receive events", async () => {
  const listener = io.sails.connect(server.url, { multiplex: false });
  sockets.push(listener);
  const got = nextEvent(listener, "early");
  await connected(listener);
  const other = await open();
  await request(other, { method: "post", url: "/blast", data: { event: "early", data: "bird" } });
  assert.equal(await got, "bird");
});

test("pet pub/sub sends the Sails v1 payloads, sender omitted", async () => {
  const creator = await open();
  const watcher = await open();
  await request(creator, { method: "put", url: "/pets/watch" });
  await request(watcher, { method: "put", url: "/pets/watch" });
  const creatorSeen = collect(creator, "pet");

  let next = nextEvent(watcher, "pet");
  const created = await request(creator, { method: "post", url: "/pets", data: { id: 41, name: "Rex" } });
  assert.equal(created.jwr.statusCode, 201);
  assert.deepEqual(await next, { verb: "created", id: 41, data: { id: 41, name: "Rex" } });

  next = nextEvent(watcher, "pet");
  await request(creator, { method: "patch", url: "/pets/41", data: { name: "Max" } });
  assert.deepEqual(await next, { verb: "updated", id: 41, data: { id: 41, name: "Max" }, previous: { id: 41, name: "Rex" } });

  next = nextEvent(watcher, "pet");
  await request(creator, { method: "post", url: "/pets/41/message", data: { data: { hi: 1 } } });
  assert.deepEqual(await next, { hi: 1 });

  next = nextEvent(watcher, "pet");
  const destroyed = await request(creator, { method: "delete", url: "/pets/41" });
  assert.deepEqual(destroyed.body, { id: 41, name: "Max" });
  assert.deepEqual(await next, { verb: "destroyed", id: 41, previous: { id: 41, name: "Max" } });

  await request(creator, { method: "get", url: "/hello" });
  assert.deepEqual(creatorSeen, [{ hi: 1 }], "the creator only hears the plain publish");
  assert.equal((await request(creator, { method: "patch", url: "/pets/41", data: {} })).jwr.statusCode, 404);

  // Instance subscriptions with a string id.
  await request(creator, { method: "post", url: "/pets", data: { id: "s1" } });
  const fan = await open();
  await request(fan, { method: "put", url: "/pets/s1/subscribe" });
  next = nextEvent(fan, "pet");
  await request(creator, { method: "patch", url: "/pets/s1", data: { age: 2 } });
  assert.deepEqual(await next, { verb: "updated", id: "s1", data: { age: 2, id: "s1" }, previous: { id: "s1" } });
});

test("a disconnected socket leaves its rooms", async () => {
  const stayer = await open();
  const leaver = await open();
  const leaverId = await idOf(leaver);
  await request(leaver, { method: "put", url: "/rooms/bye/join" });
  assert.deepEqual((await request(stayer, { method: "get", url: "/rooms/bye/members" })).body, [leaverId]);
  leaver.disconnect();
  const deadline = Date.now() + 5_000;
  let members;
  do {
    members = (await request(stayer, { method: "get", url: "/rooms/bye/members" })).body;
  } while (members.length && Date.now() < deadline);
  assert.deepEqual(members, []);
});

test("malformed requests from a raw socket.io client get the parse error, not a crash", async () => {
  const rawIo = require("socket.io-client");
  const raw = rawIo(server.url, {
    transports: ["websocket"],
    forceNew: true,
    query: "__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=node&__sails_io_sdk_language=javascript",
  });
  try {
    await within(new Promise((resolve) => raw.on("connect", resolve)), "raw connect");
    const ack = await within(new Promise((resolve) => raw.emit("get", null, resolve)), "get null");
    assert.equal(ack.code, "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ");
    assert.equal(ack.status, 400);
    const noUrl = await within(new Promise((resolve) => raw.emit("post", { data: {} }, resolve)), "no url");
    assert.equal(noUrl.code, "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ");
    const event = within(new Promise((resolve) => raw.on("sails:parseError", resolve)), "parseError event");
    raw.emit("get", { url: 7 });
    assert.equal((await event).status, 400);
    const fine = await within(new Promise((resolve) => raw.emit("get", { url: "/hello" }, resolve)), "hello");
    assert.equal(fine.body, "ok!");
  } finally {
    raw.close();
  }
});

test("a non-semver SDK version gets the parse error (Sails crashes on it)", async () => {
  const rawIo = require("socket.io-client");
  const raw = rawIo(server.url, {
    transports: ["websocket"],
    forceNew: true,
    query: "__sails_io_sdk_version=not-a-version&__sails_io_sdk_platform=node&__sails_io_sdk_language=javascript",
  });
  try {
    await within(new Promise((resolve) => raw.on("connect", resolve)), "raw connect");
    const ack = await within(new Promise((resolve) => raw.emit("get", { url: "/hello" }, resolve)), "get");
    assert.equal(ack.code, "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ");
    assert.match(ack.details, /not-a-version/);
  } finally {
    raw.close();
  }
  // The server is still up for everyone else.
  const socket = await open();
  assert.equal((await request(socket, { method: "get", url: "/hello" })).body, "ok!");
});
