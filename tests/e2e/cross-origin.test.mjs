// A page served by one server connects its socket to another origin
// (`io.sails.url`): the client loads `/__getcookie` from it first, so the
// socket shares that server's session from one page load to the next.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { visit, withScreenshotsOnFailure } from "./demo-fixtures.mjs";

let pages;
let api;
let browser;

before(async () => {
  pages = await startServer();
  api = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.stop();
  await api?.stop();
});

test("a cross-origin socket gets its session through /__getcookie and keeps it", async () => {
  assert.notEqual(pages.url, api.url);
  const visitor = await visit(browser, `${pages.url}/cross-origin.html?api=${encodeURIComponent(api.url)}`);
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
