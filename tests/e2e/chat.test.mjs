// The chat demo (www/chat.html) in two independent browser contexts, on our
// server and on the real Sails app: messages, presence, leaving.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { setName, join, say, visit, screenshot, withScreenshotsOnFailure, eventually, PUSH_TIMEOUT_MS } from "./demo-fixtures.mjs";
import { sailsAppMissing, startSailsApp } from "../conformance/servers.mjs";

const targets = [
  { name: "our server", start: () => startServer(), skip: false, shots: true },
  { name: "Sails 1.5.18", start: () => startSailsApp(), skip: sailsAppMissing(), shots: false },
  // The page with the real sails.io.js on our server: the page's logic, not our client.
  { name: "our server with the real sails.io.js", start: () => startServer(), skip: false, shots: false, client: "sails.io.js" },
];

// ----- find -----
const memberNames = (page) => page.locator("#members li").allTextContents();
const messages = (page) => page.locator("#log li:not(.notice)").allTextContents();
const notices = (page) => page.locator("#log li.notice").allTextContents();

// ----- act -----
/** Counts `chat` events at the socket itself, below the page's own filtering. */
function countChatEvents(page) {
  return page.evaluate(() => {
    window.chatEventsSeen = [];
    io.socket.on("chat", (message) => window.chatEventsSeen.push(message.text));
  });
}

for (const target of targets) {
  describe(`chat page on ${target.name}`, { skip: target.skip }, () => {
    let server;
    let browser;
    let alice;
    let bob;
    const visitors = () => [alice, bob].filter(Boolean);

    before(async () => {
      server = await target.start();
      browser = await launchBrowser();
      alice = await visit(browser, `${server.url}/chat.html`, target);
      bob = await visit(browser, `${server.url}/chat.html`, target);
      await setName(alice.page, "alice");
      await setName(bob.page, "bob");
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test("both see each other in the room; a message reaches the other, and its sender once", () =>
      withScreenshotsOnFailure("chat", visitors, async () => {
        await join(alice.page, "lobby");
        await join(bob.page, "lobby");
        await eventually(() => memberNames(alice.page).then((names) => names.sort()), ["alice (you)", "bob"], "alice's member list");
        await eventually(() => memberNames(bob.page).then((names) => names.sort()), ["alice", "bob (you)"], "bob's member list");
        await eventually(() => notices(alice.page), ["bob joined"], "alice is told bob joined");

        await say(alice.page, "hello bob");
        await bob.page.locator("#log li", { hasText: "hello bob" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.deepEqual(await messages(bob.page), ["alicehello bob"]);

        // Bob's answer arriving at alice's page means alice's own message had its chance to echo.
        await say(bob.page, "hi alice");
        await alice.page.locator("#log li", { hasText: "hi alice" }).waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.deepEqual(await messages(alice.page), ["alicehello bob", "bobhi alice"]);
        assert.equal(await alice.page.locator("#log li.mine").count(), 1);
        if (target.shots) await screenshot(alice.page, "chat");
      }));

    test("a visitor who leaves drops out of the member list and stops receiving", () =>
      withScreenshotsOnFailure("chat-leave", visitors, async () => {
        await countChatEvents(bob.page);
        await say(alice.page, "still there?");
        await eventually(() => bob.page.evaluate(() => window.chatEventsSeen), ["still there?"], "bob hears alice");

        await bob.page.click("#leave");
        await bob.page.locator("#no-rooms").waitFor();
        await eventually(() => memberNames(alice.page), ["alice (you)"], "alice's member list after bob left");
        await eventually(() => notices(alice.page), ["bob joined", "bob left"], "alice is told bob left");

        await say(alice.page, "gone?");
        await alice.page.locator("#log li.mine", { hasText: "gone?" }).waitFor();
        // A round trip of bob's socket after alice's broadcast went out.
        await join(bob.page, "side");
        assert.deepEqual(await bob.page.evaluate(() => window.chatEventsSeen), ["still there?"]);
        await eventually(() => memberNames(bob.page), ["bob (you)"], "bob alone in the new room");
        assert.deepEqual(alice.errors, []);
        assert.deepEqual(bob.errors, []);
      }));

    test("a visitor who vanishes without a word drops out of the member list on the next refresh", () =>
      withScreenshotsOnFailure("chat-vanish", visitors, async () => {
        const carol = await visit(browser, `${server.url}/chat.html`, target);
        await setName(carol.page, "carol");
        await join(carol.page, "lobby");
        await eventually(() => memberNames(alice.page).then((names) => names.sort()), ["alice (you)", "carol"], "alice sees carol");
        await carol.close();
        // No `bye`: the page's periodic refresh (every 4 s) notices the socket is gone.
        await eventually(() => memberNames(alice.page), ["alice (you)"], "alice's list without carol", 8_000);
      }));
  });
}
