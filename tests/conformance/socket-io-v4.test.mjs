// A socket.io-client 4.x (Engine.IO 4) smoke test against the interop app:
// the same virtual requests, sessions and events as sails.io.js gets over EIO3.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startInterop, within, nextEvent } from "./harness.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client-v4");
const SDK_QUERY = { __sails_io_sdk_version: "1.2.1", __sails_io_sdk_platform: "node", __sails_io_sdk_language: "javascript" };

let server;
const sockets = [];

function open(query = SDK_QUERY) {
  const socket = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, query });
  sockets.push(socket);
  return within(new Promise((resolve, reject) => {
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", reject);
  }), "connect");
}

function send(socket, method, url, data = {}) {
  return within(socket.emitWithAck(method, { method, url, headers: {}, data }), `${method} ${url}`);
}

before(async () => {
  server = await startInterop();
});

after(async () => {
  sockets.forEach((socket) => socket.close());
  await server?.stop();
});

test("EIO4: virtual requests, sessions and broadcasts", async () => {
  const socket = await open();
  const hello = await send(socket, "get", "/hello");
  assert.deepEqual({ body: hello.body, statusCode: hello.statusCode }, { body: "ok!", statusCode: 200 });

  const echo = await send(socket, "post", "/echo?v=4", { a: 1 });
  assert.equal(echo.body.method, "POST");
  assert.deepEqual(echo.body.body, { a: 1 });
  assert.equal(echo.body.socketId, socket.id);

  assert.equal((await send(socket, "get", "/count")).body, 1);
  assert.equal((await send(socket, "get", "/count")).body, 2);

  const other = await open();
  await send(socket, "put", "/rooms/v4/join");
  const heard = nextEvent(socket, "ping-room");
  await send(other, "post", "/rooms/v4/broadcast", { event: "ping-room", data: "v4" });
  assert.equal(await heard, "v4");
});

test("EIO4: a client without SDK metadata gets the parse error", async () => {
  const socket = await open({});
  const answer = await send(socket, "get", "/hello");
  assert.equal(answer.code, "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ");
  assert.match(answer.details, /0\.9\.0/);
});
