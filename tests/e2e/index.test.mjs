// The demo pages load the one-script-tag client and the wasm module in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openPage } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("index page loads the wasm client from one script tag and talks to the server", async () => {
  const { page, errors } = await openPage(browser, `${server.url}/`);
  const status = page.locator("#client-status");
  await status.filter({ hasText: "ready" }).waitFor();
  assert.match(await status.textContent(), /__sails_io_sdk_version=1\.2\.1&/);
  const hello = page.locator("#hello");
  await hello.filter({ hasText: "ok!" }).waitFor();
  assert.equal(await hello.textContent(), "ok! (200)");
  const header = page.locator("#header");
  await header.filter({ hasText: "from" }).waitFor();
  assert.equal(await header.textContent(), "from io.sails.headers");
  assert.equal(await page.locator("#events").textContent(), "connect ");
  assert.deepEqual(errors, []);
});

test("script-tag settings apply as with sails.io.js", async () => {
  const { page, errors } = await openPage(browser, `${server.url}/script-attributes.html`);
  const result = page.locator("#result");
  await result.filter({ hasText: "{" }).waitFor();
  assert.deepEqual(JSON.parse(await result.textContent()), {
    autoConnect: false,
    environment: "production",
    headers: { "x-from-tag": "yes" },
    reconnection: true,
    socketAtOnce: "function",
    socketGone: true,
    headerSent: "yes",
  });
  assert.deepEqual(errors, []);
});
