// The reference app on a real Sails 1.5.18: it lifts on a free port with one
// ready line, keeps its logs off stdout, serves www/, and answers the interop
// routes over HTTP and over the real sails.io.js client with Sails' own rooms.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { sailsIo, connect, request, nextEvent, close, within } from "./harness.mjs";
import { SAILS_APP_BIN, sailsAppMissing, startSailsApp } from "./servers.mjs";

const skip = sailsAppMissing();
let server;
let io;
const sockets = [];

async function open() {
  const socket = await connect(io, server.url);
  sockets.push(socket);
  return socket;
}

before(async () => {
  if (skip) return;
  server = await startSailsApp();
  io = sailsIo();
});

after(async () => {
  sockets.forEach(close);
  await server?.stop();
});

test("prints only the ready line on stdout, even when Sails logs", { skip }, async () => {
  const child = spawn(SAILS_APP_BIN, ["--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const url = await within(
      new Promise((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
        child.stdout.on("data", (chunk) => {
          stdout += chunk;
          const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
          if (match) resolve(match[1]);
        });
      }),
      "ready line",
      30_000,
    );
    // A 404 and a bad request make Sails log; none of it may reach stdout.
    assert.equal((await fetch(`${url}/no/such/route`)).status, 404);
    assert.equal((await fetch(`${url}/me`)).status, 400);
    assert.match(stderr, /lifted in \d+ ms/);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  assert.equal(stdout.split("\n").filter(Boolean).length, 1, `stdout: ${stdout}`);
});

test("HTTP: routes, the socket-only ones refused, www served as static files", { skip }, async () => {
  const hello = await fetch(`${server.url}/hello`);
  assert.equal(await hello.text(), "ok!");
  const echo = await (await fetch(`${server.url}/echo?x=1`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ a: 1 }),
  })).json();
  assert.deepEqual(
    { method: echo.method, url: echo.url, path: echo.path, query: echo.query, body: echo.body, isSocket: echo.isSocket, socketId: echo.socketId },
    { method: "POST", url: "/echo?x=1", path: "/echo", query: { x: "1" }, body: { a: 1 }, isSocket: false, socketId: null },
  );
  assert.equal((await fetch(`${server.url}/rooms/a/join`, { method: "PUT" })).status, 400);
  const redirect = await fetch(`${server.url}/redirect`, { redirect: "manual" });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get("location"), "/hello");
  const page = await fetch(`${server.url}/chat.html`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="\/js\/sails\.io\.js"><\/script>/);
});

test("sails.io.js: a socket has its own session and sees its own id", { skip }, async () => {
  const socket = await open();
  assert.equal((await request(socket, { method: "get", url: "/count" })).body, 1);
  assert.equal((await request(socket, { method: "get", url: "/count" })).body, 2);
  const { body } = await request(socket, { method: "patch", url: "/echo?y=2", data: { b: [1] } });
  assert.equal(body.method, "PATCH");
  assert.deepEqual(body.query, { y: "2" });
  assert.deepEqual(body.body, { b: [1] });
  assert.equal(body.isSocket, true);
  assert.equal(typeof body.socketId, "string");
  assert.deepEqual((await request(socket, { method: "get", url: "/me" })).body, { id: body.socketId, rooms: [] });
});

test("pets use Sails' own room names and v1 payloads", { skip }, async () => {
  const watcher = await open();
  const creator = await open();
  await request(watcher, { method: "put", url: "/pets/watch" });
  const created = nextEvent(watcher, "pet");
  const answer = await request(creator, { method: "post", url: "/pets", data: { id: 7, name: "Rex" } });
  assert.equal(answer.jwr.statusCode, 201);
  assert.deepEqual(await created, { verb: "created", id: 7, data: { id: 7, name: "Rex" } });
  // `_introduce` put the watcher into the new record's room.
  assert.deepEqual((await request(watcher, { method: "get", url: "/me" })).body.rooms, [
    "sails_model_create_pet",
    "sails_model_pet_7:pet",
  ]);
  const destroyed = nextEvent(watcher, "pet");
  await request(creator, { method: "delete", url: "/pets/7" });
  assert.deepEqual(await destroyed, { verb: "destroyed", id: 7, previous: { id: 7, name: "Rex" } });
  // `_retire` emptied the record's room.
  assert.deepEqual((await request(watcher, { method: "get", url: "/me" })).body.rooms, ["sails_model_create_pet"]);
});
