// The server goes away and comes back on the same port: the page shows it,
// reconnects by itself, answers what was asked while offline, and its
// listeners still fire.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { visit, withScreenshotsOnFailure } from "./demo-fixtures.mjs";

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

test("the console reconnects after a server restart and replays the offline request", async () => {
  const visitor = await visit(browser, `${server.url}/`);
  const { page, errors, close } = visitor;
  try {
    await withScreenshotsOnFailure("restart", () => [visitor], async () => {
      const port = Number(new URL(server.url).port);
      await server.stop();
      await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });

      // Asked while offline: queued, answered after the reconnection.
      await page.getByRole("button", { name: "GET /hello" }).click();
      assert.equal(await page.locator("#jwr").textContent(), "Waiting for the answer…");

      server = await startServer({ port });
      await page.locator('#status[data-state="connected"]').waitFor({ timeout: 15_000 });
      await page.locator("#jwr").filter({ hasText: '"body": "ok!"' }).waitFor();

      // The `message` listener bound at load time still fires.
      await page.getByRole("button", { name: "POST /blast" }).click();
      await page.locator("#events li").filter({ hasText: "hello everyone" }).waitFor({ timeout: 2_000 });
      // The only console errors allowed are the browser's own failed connection attempts.
      assert.deepEqual(errors.filter((text) => !text.startsWith("WebSocket connection to")), []);
    });
  } finally {
    await close();
  }
});
