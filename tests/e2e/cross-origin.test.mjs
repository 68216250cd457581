// A page served by one server connects its socket to another origin
// (`io.sails.url`, another port of 127.0.0.1). A server accepts sockets from
// its own origin only unless started with `--allow-origin`: refused by
// default; allowed, the client loads `/__getcookie` from it first, so the
// socket shares that server's session from one page load to the next.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { visit, withScreenshotsOnFailure, screenshot } from "./demo-fixtures.mjs";

let pages;
let api;
let closed;
let browser;

before(async () => {
  pages = await startServer();
  api = await startServer({ args: ["--allow-origin", pages.url] });
  closed = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.stop();
  await api?.stop();
  await closed?.stop();
});

const crossOriginPage = (server) => `${pages.url}/cross-origin.html?api=${encodeURIComponent(server.url)}`;

test("a server refuses a socket from another origin by default", async () => {
  assert.notEqual(pages.url, closed.url);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const consoleLines = [];
  page.on("console", (message) => consoleLines.push(message.text()));
  try {
    await page.goto(crossOriginPage(closed));
    try {
      await page.locator('#status[data-state="refused"]').waitFor();
    } catch (error) {
      await screenshot(page, "cross-origin-refused-failure").catch(() => {});
      throw error;
    }
    assert.match(await page.locator("#status").textContent(), /Could not connect/);
    assert.equal(await page.evaluate(() => io.socket.isConnected()), false);
    // The browser says why: the server answered the handshake with 403.
    assert.ok(
      consoleLines.some((line) => line.includes(closed.url.replace("http", "ws")) && line.includes("403")),
      `a handshake refused with 403 in ${JSON.stringify(consoleLines)}`,
    );
    assert.equal(await page.locator("#count").textContent(), "…", "no request was answered");
  } finally {
    await context.close();
  }
});

test("a cross-origin socket to a server that allows the page's origin gets its session through /__getcookie and keeps it", async () => {
  assert.notEqual(pages.url, api.url);
  const visitor = await visit(browser, crossOriginPage(api));
  const { page, errors, close } = visitor;
  try {
    await withScreenshotsOnFailure("cross-origin", () => [visitor], async () => {
      const cookieRequests = [];
      page.on("request", (request) => {
        if (request.url().startsWith(`${api.url}/__getcookie`)) cookieRequests.push(request.url());
      });
      await page.locator("#count").filter({ hasText: "1" }).waitFor();

      // A new page load makes a new socket; the session, kept by the cookie, goes on counting.
      await page.reload();
      await page.locator('#status[data-state="connected"]').waitFor();
      await page.locator("#count").filter({ hasText: "2" }).waitFor();
      assert.equal(await page.locator("#count").textContent(), "2");
      assert.equal(cookieRequests.length, 1, "the reload fetched /__getcookie from the API origin");
      assert.deepEqual(errors, []);
    });
  } finally {
    await close();
  }
});
