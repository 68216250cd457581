// The one-script-tag client frees the sockets a page disconnects and drops:
// `io.socket` once deleted, and the sockets of `io.sails.connect()`, so that a
// page connecting and disconnecting per view does not grow. A page of its own
// (only the client's tag), served with the built client by our server, in
// Chromium with `gc()` exposed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, recordErrors } from "./harness.mjs";

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>sockets freed</title><link rel="icon" href="data:,"></head>
<body><script src="/js/sails.io.js"></script></body>
</html>
`;
const WARM_UP = 300;
const CYCLES = 1000;
const BOUND = 128 * 1024;

let www;
let server;
let browser;
let page;
let errors;

before(async () => {
  www = await mkdtemp(join(tmpdir(), "sails-memory-"));
  await cp(join(process.env.SAILS_WWW, "js"), join(www, "js"), { recursive: true });
  await writeFile(join(www, "memory.html"), PAGE);
  server = await startServer({ www });
  browser = await launchBrowser({ args: ["--js-flags=--expose-gc"] });
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  errors = recordErrors(page);
  // The module's memory, kept aside as the page instantiates the client.
  await page.addInitScript(() => {
    for (const name of ["instantiate", "instantiateStreaming"]) {
      const original = WebAssembly[name];
      WebAssembly[name] = async function (...args) {
        const result = await original.apply(this, args);
        const exports = (result.instance || result).exports;
        window.clientMemory = Object.values(exports).find((value) => value instanceof WebAssembly.Memory);
        return result;
      };
    }
  });
  await page.goto(`${server.url}/memory.html`);
  await page.evaluate(async () => {
    io.sails.environment = "production"; // no console notice per socket
    await io.sails.ready;
    // What the tests below share; every wait has a time limit.
    window.within = (promise, what, ms = 10_000) => {
      let timer;
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), ms);
      });
      return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
    };
    // How many of the sockets each test handed to `watch` are not collected yet.
    window.pending = {};
    const registry = new FinalizationRegistry((test) => pending[test]--);
    window.watch = (test, socket) => {
      pending[test] = (pending[test] || 0) + 1;
      registry.register(socket, test);
    };
    // A full collection, once finalizers have had their turn (a sentinel's ran).
    window.collectGarbage = () => {
      let done = false;
      const sentinel = new FinalizationRegistry(() => (done = true));
      sentinel.register({}, null);
      const collected = new Promise((resolve) => {
        const check = () => {
          gc();
          // (The registry must live until it calls back.)
          if (done && sentinel) resolve();
          else setTimeout(check, 10);
        };
        check();
      });
      return within(collected, "a garbage collection");
    };
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (www) await rm(www, { recursive: true, force: true });
});

/**
 * Waits until every socket `test` watched is collected. A page call of its
 * own: the frames of a call still running may hold on to what they touched.
 */
function allCollected(test) {
  return page.evaluate(async (test) => {
    const deadline = Date.now() + 10_000;
    while (pending[test] > 0) {
      if (Date.now() > deadline) throw new Error(`${pending[test]} socket(s) not collected within 10 s`);
      await collectGarbage();
    }
  }, test);
}

test("io.socket is collected once disconnected and deleted", async () => {
  await page.evaluate(async () => {
    const socket = io.socket;
    if (!socket.isConnected()) {
      await within(new Promise((resolve) => socket.on("connect", resolve)), "io.socket to connect");
    }
    watch("io.socket", socket);
    socket.disconnect();
    delete io.socket;
  });
  await allCollected("io.socket");
  assert.deepEqual(errors, []);
});

test("io.sails.connect() sockets connected and disconnected over and over leave the memory flat", async () => {
  // `count` cycles, collecting every 100; the module's memory size after.
  const cycles = (count) =>
    page.evaluate(async (count) => {
      async function cycle() {
        const socket = io.sails.connect();
        await within(new Promise((resolve) => socket.on("connect", resolve)), "a socket to connect");
        // A listener that refers to its socket, and a request left queued.
        socket.on("message", () => socket.get("/hello"));
        socket.disconnect();
        socket.get("/hello", () => {});
        watch("connect", socket);
      }
      for (let i = 1; i <= count; i++) {
        await cycle();
        if (i % 100 === 0) await collectGarbage();
      }
      await collectGarbage();
      return clientMemory.buffer.byteLength;
    }, count);
  const before = await cycles(WARM_UP);
  const after = await cycles(CYCLES);
  console.log(`client wasm memory: ${before} B after ${WARM_UP} warm-up cycles, ${after} B after ${CYCLES} more`);
  assert.ok(after - before <= BOUND, `the memory grew by ${after - before} B over ${CYCLES} cycles (bound ${BOUND} B)`);
  await allCollected("connect");
  assert.deepEqual(errors, []);
});
