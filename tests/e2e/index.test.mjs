// The demo index page loads the one-script-tag client and the wasm module in Chromium.
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

test("index page loads the wasm client from the script tag", async () => {
  const { page, errors } = await openPage(browser, `${server.url}/`);
  const status = page.locator("#client-status");
  await status.filter({ hasText: "ready" }).waitFor();
  assert.match(await status.textContent(), /__sails_io_sdk_version=1\.2\.1&/);
  assert.deepEqual(errors, []);
});
