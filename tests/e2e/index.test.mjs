// The request console (index.html) and the script-tag client, in its two
// forms, in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startServer, launchBrowser, openPage } from "./harness.mjs";
import { visit, screenshot, withScreenshotsOnFailure } from "./demo-fixtures.mjs";

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

/** The JWR the console shows once it has an answer. */
async function shownJwr(page) {
  const jwr = page.locator("#jwr");
  await jwr.filter({ hasText: "statusCode" }).waitFor();
  return JSON.parse(await jwr.textContent());
}

test("the console sends requests over the socket and shows the JWR", async () => {
  const visitor = await visit(browser, `${server.url}/`);
  const { page, errors, close } = visitor;
  try {
    await withScreenshotsOnFailure("index-console", () => [visitor], async () => {
      const status = page.locator("#client-status");
      await status.filter({ hasText: "ready" }).waitFor();
      assert.match(await status.textContent(), /__sails_io_sdk_version=1\.2\.1&/);

      await page.getByRole("button", { name: "GET /hello" }).click();
      const hello = await shownJwr(page);
      assert.deepEqual([hello.statusCode, hello.body], [200, "ok!"]);

      // A request typed in by hand; `io.sails.headers` set after the tag reaches the server.
      await page.locator("#method").selectOption("PUT");
      await page.locator("#url").fill("/echo?x=1");
      await page.locator("#body").fill('{"a": [1, 2]}');
      await page.locator("#headers").fill('{"x-typed": "yes"}');
      await page.locator("#send").click();
      const echo = await shownJwr(page);
      assert.equal(echo.statusCode, 200);
      assert.equal(echo.body.method, "PUT");
      assert.deepEqual(echo.body.query, { x: "1" });
      assert.deepEqual(echo.body.body, { a: [1, 2] });
      assert.equal(echo.body.isSocket, true);
      assert.equal(echo.body.headers["x-demo-page"], "console");
      assert.equal(echo.body.headers["x-typed"], "yes");

      await page.getByRole("button", { name: "GET /status/418" }).click();
      assert.equal((await shownJwr(page)).statusCode, 418);
      assert.deepEqual(errors, []);
    });
  } finally {
    await close();
  }
});

test("the console refuses a body that is not JSON, without sending it", async () => {
  const { page, errors, close } = await visit(browser, `${server.url}/`);
  try {
    await page.locator("#body").fill("{not json");
    await page.locator("#send").click();
    await page.locator("#request-error").filter({ hasText: "Body is not valid JSON" }).waitFor();
    assert.equal(await page.locator("#jwr").textContent(), "Nothing sent yet.");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a blast from one page shows in the event log of another", async () => {
  const alice = await visit(browser, `${server.url}/`);
  const bob = await visit(browser, `${server.url}/`);
  try {
    await withScreenshotsOnFailure("index-blast", () => [alice, bob], async () => {
      await alice.page.getByRole("button", { name: "POST /blast" }).click();
      await bob.page.locator("#events li").filter({ hasText: "hello everyone" }).waitFor({ timeout: 2_000 });
      const entry = await bob.page.locator("#events li").last().textContent();
      assert.equal(entry, 'message"hello everyone"');

      // An event name added by hand is listened to from then on.
      await bob.page.locator("#event-name").fill("custom");
      await bob.page.getByRole("button", { name: "Listen" }).click();
      await alice.page.locator("#method").selectOption("POST");
      await alice.page.locator("#url").fill("/blast");
      await alice.page.locator("#body").fill('{"event": "custom", "data": {"n": 7}}');
      await alice.page.locator("#send").click();
      await bob.page.locator("#events li").filter({ hasText: '{"n":7}' }).waitFor({ timeout: 2_000 });
      assert.deepEqual([...alice.errors, ...bob.errors], []);
      await screenshot(bob.page, "index");
    });
  } finally {
    await alice.close();
    await bob.close();
  }
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
    socketGoneNextTick: true,
    socketGone: true,
    headerSent: "yes",
  });
  assert.deepEqual(errors, []);
  await page.close();
});

test("settings a page makes after a parser pause still reach the autoconnecting socket", async () => {
  const { page, errors } = await openPage(browser, `${server.url}/late-settings.html`);
  const result = page.locator("#result");
  await result.filter({ hasText: "{" }).waitFor();
  assert.deepEqual(JSON.parse(await result.textContent()), { reconnection: true, header: "yes" });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the one-file client asks for nothing more; the lean one fetches its module once", async () => {
  /** The scripts and modules a page fetched, once its socket is connected. */
  async function clientFiles(path) {
    const { page, errors } = await openPage(browser, `${server.url}${path}`);
    await page.waitForFunction(() => io.socket && io.socket.isConnected && io.socket.isConnected());
    const files = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((entry) => new URL(entry.name).pathname)
        .filter((path) => path.startsWith("/js/")),
    );
    assert.deepEqual(errors, []);
    await page.close();
    return files.sort();
  }
  // The chat page includes the one-file client, the console the lean one
  // with a preload hint for its module.
  assert.deepEqual(await clientFiles("/chat.html"), ["/js/demo.js", "/js/sails.io.js"]);
  assert.deepEqual(await clientFiles("/"), ["/js/demo.js", "/js/sails.io.lean.js", "/js/sails.io.lean_bg.wasm"]);
});

test("the client's files go gzipped to clients that accept gzip, and as they are to others", async () => {
  const files = [
    ["sails.io.js", "text/javascript"],
    ["sails.io.lean.js", "text/javascript"],
    ["sails.io.lean_bg.wasm", "application/wasm"],
  ];
  for (const [name, type] of files) {
    const onDisk = await readFile(join(process.env.SAILS_WWW, "js", name));
    // Node's fetch asks for gzip and inflates the body itself.
    const gzipped = await fetch(`${server.url}/js/${name}`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(gzipped.status, 200);
    assert.equal(gzipped.headers.get("content-encoding"), "gzip", name);
    assert.equal(gzipped.headers.get("content-type"), type, name);
    assert.ok(Buffer.from(await gzipped.arrayBuffer()).equals(onDisk), `${name}: the same bytes once inflated`);
    const plain = await fetch(`${server.url}/js/${name}`, {
      headers: { "accept-encoding": "identity" },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(plain.headers.get("content-encoding"), null, name);
    assert.ok(Buffer.from(await plain.arrayBuffer()).equals(onDisk), `${name}: as it is on disk`);
  }
});
