// Shared fixtures for the conformance tests: the interop app on a free port,
// the real sails.io.js 1.2.1 client (in Node, over socket.io-client 2.0.3),
// and promise helpers with a time limit on every wait.
import { createRequire } from "node:module";
import { before, after } from "node:test";
import { startListening } from "../support/process.mjs";

const require = createRequire(import.meta.url);
export const WAIT_MS = 5_000;

/** Starts the interop app (ours by default) with `--port 0`, ready to serve. */
export function startInterop({ bin = process.env.SAILS_INTEROP_BIN, www = process.env.SAILS_WWW, args = [] } = {}) {
  if (!bin) throw new Error("SAILS_INTEROP_BIN must be set (cargo xtask test sets it)");
  return startListening(bin, ["--port", "0", ...(www ? ["--www", www] : []), ...args], "interop app");
}

/** The real sails.io.js 1.2.1, augmenting socket.io-client 2.0.3; no autoconnect, quiet. */
export function sailsIo() {
  const io = require("sails.io.js")(require("socket.io-client"));
  io.sails.autoConnect = false;
  io.sails.environment = "production";
  io.sails.reconnection = false;
  return io;
}

/** Rejects when `promise` takes longer than `ms`. */
export function within(promise, what, ms = WAIT_MS) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Resolves with the next `event` on a sails.io.js socket (or a socket.io socket). */
export function nextEvent(socket, event, ms = WAIT_MS) {
  return within(
    new Promise((resolve) => {
      const handler = (data) => {
        socket.off(event, handler);
        resolve(data);
      };
      socket.on(event, handler);
    }),
    `event ${event}`,
    ms,
  );
}

/** Collects every `event` on `socket` into an array, for checks that nothing arrived. */
export function collect(socket, event) {
  const seen = [];
  socket.on(event, (data) => seen.push(data));
  return seen;
}

/** A sails.io.js request as a promise of `{body, jwr}`. */
export function request(socket, options) {
  return within(
    new Promise((resolve) => socket.request(options, (body, jwr) => resolve({ body, jwr }))),
    `${options.method} ${options.url}`,
  );
}

/** Connects a new sails.io.js socket and resolves once it is connected. */
export async function connect(io, url, options = {}) {
  const socket = io.sails.connect(url, { multiplex: false, ...options });
  await connected(socket);
  return socket;
}

/** Resolves once `socket` is connected. */
export function connected(socket) {
  if (socket.isConnected()) return Promise.resolve();
  return within(
    new Promise((resolve, reject) => {
      socket.on("connect", resolve);
      socket.on("connect_error", reject);
    }),
    "connect",
  );
}

/** Disconnects a socket if it is still connected. */
export function close(socket) {
  if (socket?.isConnected()) socket.disconnect();
}

/**
 * For the current suite: starts a server with `start()` before its tests and stops it
 * after them. `open()` connects a sails.io.js socket of `io` to it; every socket opened
 * is closed after the tests.
 */
export function serverWithSockets(io, start) {
  const sockets = [];
  const fixture = {
    server: undefined,
    async open() {
      const socket = await connect(io, fixture.server.url);
      sockets.push(socket);
      return socket;
    },
  };
  before(async () => {
    fixture.server = await start();
  });
  after(async () => {
    sockets.forEach(close);
    await fixture.server?.stop();
  });
  return fixture;
}
