// Connection-state recovery in Chromium: a page whose connection is cut while
// broadcasts go on gets every one of them once, in order, with its listeners
// and rooms intact; a page that was away too long, or whose server restarted,
// is told so and, with `resubscribe`, gets its rooms back by replaying the
// requests that had put it in them.
//
// The cut is made by a TCP relay between the page and the server, which drops
// the page's connections on demand (both ends see them close) and, while
// paused, refuses new ones.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer, launchBrowser } from "./harness.mjs";
import { visit, withScreenshotsOnFailure, PUSH_TIMEOUT_MS } from "./demo-fixtures.mjs";

let browser;
const servers = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const server of servers) await server.stop();
});

async function server(args = []) {
  const started = await startServer({ args });
  servers.push(started);
  return started;
}

/** A relay on a free port to the server at `url`; `cut()` drops its connections. */
async function relay(url) {
  const target = Number(new URL(url).port);
  const pairs = new Set();
  let paused = false;
  const listener = net.createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${listener.address().port}`,
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    close: () => new Promise((resolve) => listener.close(resolve)),
  };
}

/**
 * Opens the demo page at `url` and makes `io.socket` record every `news`
 * event and every reconnection's outcome, then join `lobby`.
 */
async function receiver(url, { resubscribe = false } = {}) {
  const visitor = await visit(browser, `${url}/`);
  await visitor.page.evaluate(async (resubscribe) => {
    window.news = [];
    window.outcomes = [];
    io.socket.resubscribe = resubscribe;
    io.socket.on("news", (data) => window.news.push(data));
    io.socket.on("reconnect", (attempts, outcome) => window.outcomes.push(outcome));
    await new Promise((resolve) => io.socket.put("/rooms/lobby/join", {}, resolve));
  }, resubscribe);
  return visitor;
}

/** Broadcasts `news` with each of `values` to `lobby` from `page`, one after the other. */
function broadcast(page, values, pauseMs = 0) {
  return page.evaluate(
    async ({ values, pauseMs }) => {
      for (const data of values) {
        const jwr = await new Promise((resolve) =>
          io.socket.post("/rooms/lobby/broadcast", { event: "news", data }, (_, jwr) => resolve(jwr)),
        );
        if (jwr.statusCode !== 200) throw new Error(`broadcast answered ${jwr.statusCode}`);
        if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    },
    { values, pauseMs },
  );
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function outcomes(page, count) {
  await page.waitForFunction((count) => window.outcomes.length >= count, count, { timeout: PUSH_TIMEOUT_MS });
  return page.evaluate(() => window.outcomes);
}

async function newsUpTo(page, count) {
  await page.waitForFunction((count) => window.news.length >= count, count, { timeout: PUSH_TIMEOUT_MS });
  return page.evaluate(() => window.news);
}

/** Waits until `page`'s socket is connected again after a cut. */
function reconnected(page) {
  return page.waitForFunction(() => io.socket.isConnected(), null, { timeout: PUSH_TIMEOUT_MS });
}

// The only console errors allowed are the browser's own failed connection attempts.
function unexpected(errors) {
  return errors.filter((text) => !text.startsWith("WebSocket connection to"));
}

/** The outcome of a reconnection that got everything back. */
function assertRecovered(outcome) {
  assert.equal(outcome.recovered, true, JSON.stringify(outcome));
  assert.equal(outcome.reason, undefined);
  assert.equal(typeof outcome.missed, "number");
}

test("cut twice while broadcasts go on, a page gets every one once, in order", async () => {
  const { url } = await server();
  const cutter = await relay(url);
  const visitor = await receiver(cutter.url);
  const sender = await visit(browser, `${url}/`);
  try {
    await withScreenshotsOnFailure("recovery-cuts", () => [visitor, sender], async () => {
      const { page } = visitor;
      await broadcast(sender.page, range(1, 10));
      await newsUpTo(page, 10);

      // Sent while the page is away and while it comes back.
      cutter.cut();
      await broadcast(sender.page, range(11, 30), 20);
      const [first] = await outcomes(page, 1);
      assertRecovered(first);
      await broadcast(sender.page, range(31, 40));

      // Again, right away: the new connection's token works too.
      cutter.cut();
      await broadcast(sender.page, range(41, 60), 10);
      const [, second] = await outcomes(page, 2);
      assertRecovered(second);
      assert.ok(first.missed + second.missed > 0, "some broadcasts were sent while the page was away");

      assert.deepEqual(await newsUpTo(page, 60), range(1, 60));
      // The room is still the page's: a broadcast after all that arrives once.
      await broadcast(sender.page, [61]);
      assert.deepEqual(await newsUpTo(page, 61), range(1, 61));
      assert.deepEqual(await page.evaluate(() => io.socket.recovery), second);
      assert.deepEqual(unexpected(visitor.errors), []);
    });
  } finally {
    await visitor.close();
    await sender.close();
    await cutter.close();
  }
});

test("a cut before the page heard anything recovers too", async () => {
  const { url } = await server();
  const cutter = await relay(url);
  const visitor = await receiver(cutter.url);
  const sender = await visit(browser, `${url}/`);
  try {
    await withScreenshotsOnFailure("recovery-first-cut", () => [visitor, sender], async () => {
      cutter.cut();
      await broadcast(sender.page, ["while away"]);
      const [outcome] = await outcomes(visitor.page, 1);
      assertRecovered(outcome);
      assert.deepEqual(await newsUpTo(visitor.page, 1), ["while away"]);
    });
  } finally {
    await visitor.close();
    await sender.close();
    await cutter.close();
  }
});

test("away longer than the window, a page is told so, and resubscribe brings its room back", async () => {
  const { url } = await server(["--recovery-window", "1s"]);
  const cutter = await relay(url);
  const replaying = await receiver(cutter.url, { resubscribe: true });
  const plain = await receiver(cutter.url);
  const sender = await visit(browser, `${url}/`);
  try {
    await withScreenshotsOnFailure("recovery-expired", () => [replaying, plain, sender], async () => {
      cutter.pause();
      cutter.cut();
      await broadcast(sender.page, ["lost"]);
      // The cut must outlast the window (1 s): this wait is the scenario itself.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      cutter.resume();
      for (const { page } of [replaying, plain]) {
        const [outcome] = await outcomes(page, 1);
        assert.deepEqual(outcome, { recovered: false, reason: "expired", missed: 0 });
      }
      // The replayed join is answered before this broadcast is sent.
      await replaying.page.waitForFunction(
        () => new Promise((resolve) => io.socket.get("/me", (me) => resolve(me.rooms.includes("lobby")))),
        null,
        { timeout: PUSH_TIMEOUT_MS },
      );
      await broadcast(sender.page, ["after"]);
      assert.deepEqual(await newsUpTo(replaying.page, 1), ["after"]);
      // The page without resubscribe is in no room: a request answered after
      // the broadcast shows it did not get it.
      await reconnected(plain.page);
      assert.equal(
        await plain.page.evaluate(() => new Promise((resolve) => io.socket.get("/me", (me) => resolve(me.rooms.length)))),
        0,
      );
      assert.deepEqual(await plain.page.evaluate(() => window.news), []);
    });
  } finally {
    await replaying.close();
    await plain.close();
    await sender.close();
    await cutter.close();
  }
});

test("after a server restart a page is told so, and resubscribe brings its room back", async () => {
  let restarting = await server();
  const port = Number(new URL(restarting.url).port);
  const visitor = await receiver(restarting.url, { resubscribe: true });
  try {
    await withScreenshotsOnFailure("recovery-restart", () => [visitor], async () => {
      await restarting.stop();
      restarting = await startServer({ port });
      servers.push(restarting);
      const [outcome] = await outcomes(visitor.page, 1);
      assert.deepEqual(outcome, { recovered: false, reason: "restarted", missed: 0 });
      const sender = await visit(browser, `${restarting.url}/`);
      try {
        await visitor.page.waitForFunction(
          () => new Promise((resolve) => io.socket.get("/me", (me) => resolve(me.rooms.includes("lobby")))),
          null,
          { timeout: PUSH_TIMEOUT_MS },
        );
        await broadcast(sender.page, ["after the restart"]);
        assert.deepEqual(await newsUpTo(visitor.page, 1), ["after the restart"]);
      } finally {
        await sender.close();
      }
    });
  } finally {
    await visitor.close();
  }
});
