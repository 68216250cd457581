// Three servers on one Redis (a redis-server of the test's own) and one
// PostgreSQL store (a temporary server of the tests' own), each page on its own server: the chat and pets pages work across
// them with our client and with the real sails.io.js; a server killed under
// a page sends it, through a round-robin balancer, to another that goes on.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { petRow, addPet, setName, join, say, visit, withScreenshotsOnFailure, eventually, PUSH_TIMEOUT_MS } from "./demo-fixtures.mjs";
import { postgresDatabase, postgresMissing } from "../support/postgres.mjs";
import { startRedis } from "../support/redis.mjs";
import { startRoundRobin } from "../support/round-robin.mjs";

const memberNames = (page) => page.locator("#members li").allTextContents().then((names) => names.sort());

describe("three servers on one Redis and one PostgreSQL", { skip: postgresMissing() }, () => {
  let redis;
  let nodes = [];
  let browser;
  const visitors = [];

  before(async () => {
    redis = await startRedis();
    const database = await postgresDatabase("cluster_pages");
    for (let i = 0; i < 3; i += 1) {
      nodes.push(await startServer({ args: ["--redis", redis.url, "--database", database] }));
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await Promise.all(visitors.map((visitor) => visitor.close().catch(() => {})));
    await browser?.close();
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.stop();
  });

  async function visitor(url, client) {
    const visited = await visit(browser, url, { client });
    visitors.push(visited);
    return visited;
  }

  test("chat: our client on one server, the real sails.io.js on another", async () => {
    const alice = await visitor(`${nodes[0].url}/chat.html`, "ours");
    const bob = await visitor(`${nodes[1].url}/chat.html`, "sails.io.js");
    await withScreenshotsOnFailure("cluster-chat", () => [alice, bob], async () => {
      await setName(alice.page, "alice");
      await setName(bob.page, "bob");
      await join(alice.page, "lobby");
      await join(bob.page, "lobby");
      await eventually(() => memberNames(alice.page), ["alice (you)", "bob"], "alice sees bob");
      await eventually(() => memberNames(bob.page), ["alice", "bob (you)"], "bob sees alice");
      await say(alice.page, "hello from server one");
      await bob.page.locator("#log li", { hasText: "hello from server one" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
      await say(bob.page, "hello from server two");
      await alice.page.locator("#log li", { hasText: "hello from server two" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
      assert.deepEqual(alice.errors, []);
      assert.deepEqual(bob.errors, []);
    });
  });

  test("pets: a change made through one server shows up live on the others", async () => {
    const first = await visitor(`${nodes[1].url}/pets.html`, "ours");
    const second = await visitor(`${nodes[2].url}/pets.html`, "sails.io.js");
    await withScreenshotsOnFailure("cluster-pets", () => [first, second], async () => {
      await addPet(first.page, "Rex", "dog");
      await petRow(second.page, "Rex").waitFor({ timeout: PUSH_TIMEOUT_MS });
      await addPet(second.page, "Tom", "cat");
      await petRow(first.page, "Tom").waitFor({ timeout: PUSH_TIMEOUT_MS });
      assert.deepEqual(first.errors, []);
      assert.deepEqual(second.errors, []);
    });
  });

  test("a server killed under a page: the page reconnects to another and goes on", async () => {
    const balancer = await startRoundRobin(nodes.map((node) => node.url));
    try {
      const carol = await visitor(`${balancer.url}/chat.html`, "ours");
      // The server holding carol's socket: where the balancer sent her page's WebSocket.
      const socketOf = (connections) => connections.filter(({ request }) => /socket\.io\/.*transport=websocket/.test(request)).at(-1);
      const victim = nodes.find((node) => node.url === socketOf(balancer.connections)?.backend);
      assert.ok(victim, `carol's socket went to one of the servers: ${JSON.stringify(balancer.connections)}`);
      const dave = await visitor(`${nodes.find((node) => node !== victim).url}/chat.html`, "sails.io.js");
      await withScreenshotsOnFailure("cluster-failover", () => [carol, dave], async () => {
        await setName(carol.page, "carol");
        await setName(dave.page, "dave");
        await join(carol.page, "after");
        await join(dave.page, "after");
        await eventually(() => memberNames(dave.page), ["carol", "dave (you)"], "dave sees carol");

        await victim.stop();
        nodes = nodes.filter((node) => node !== victim);

        await carol.page.locator('#status[data-state="connected"]').waitFor({ timeout: 20_000 });
        // The page joined its rooms again on the new server. Its join returns
        // once every server has applied it, and the page then says hello: a
        // broadcast sent before that may miss it, one sent after may not.
        await dave.page.locator("#log li", { hasText: "carol joined" }).waitFor({ timeout: 20_000 });
        await eventually(() => memberNames(dave.page), ["carol", "dave (you)"], "dave sees carol again", 10_000);
        await say(dave.page, "still here?");
        await carol.page.locator("#log li", { hasText: "still here?" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
        await say(carol.page, "yes, on another server");
        await dave.page.locator("#log li", { hasText: "yes, on another server" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.deepEqual(dave.errors, []);
        // The only console errors allowed are the browser's own failed connection attempts.
        assert.deepEqual(carol.errors.filter((text) => !text.startsWith("WebSocket connection to")), []);
      });
    } finally {
      await balancer.close();
    }
  });
});
