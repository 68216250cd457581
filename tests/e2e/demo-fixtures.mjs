// Fixtures for the demo-page tests: one independent browser context per
// visitor, console errors recorded, screenshots into tests/artifacts/.
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

export const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));

/**
 * The longest a change made in one page may take to reach another (pushed:
 * the demo pages never poll). Generous on purpose: the tests check that it
 * arrives; how fast is for `cargo xtask bench` to measure.
 */
export const PUSH_TIMEOUT_MS = 10_000;

/** The real sails.io.js 1.2.1 browser bundle (socket.io-client 2.0.3 inside). */
export const REAL_CLIENT = require.resolve("sails.io.js-dist/sails.io.js");

/**
 * A visitor: a fresh browser context (own cookies, own socket) with one page at
 * `url`. With `client: "sails.io.js"` the page's `/js/sails.io.js` is the real
 * sails.io.js instead of ours, to tell a page bug from a client bug.
 */
export async function visit(browser, url, { client = "ours" } = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
  if (client === "sails.io.js") {
    await context.route("**/js/sails.io.js", (route) => route.fulfill({ path: REAL_CLIENT, contentType: "application/javascript" }));
  }
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  const consoleLines = [];
  page.on("console", (message) => {
    consoleLines.push(`${message.type()}: ${message.text()}`);
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  // The socket's frames, to tell a lost event from an unanswered request when a page hangs.
  const frames = [];
  page.on("websocket", (socket) => {
    socket.on("framesent", (frame) => frames.push(`>> ${String(frame.payload).slice(0, 160)}`));
    socket.on("framereceived", (frame) => frames.push(`<< ${String(frame.payload).slice(0, 160)}`));
    socket.on("close", () => frames.push("closed"));
  });
  await page.goto(url);
  if (client === "sails.io.js" && (await page.evaluate(() => "ready" in io.sails))) {
    throw new Error("the page runs our client, not the real sails.io.js");
  }
  try {
    await page.locator('#status[data-state="connected"]').waitFor();
  } catch (error) {
    await screenshot(page, `not-connected-${Date.now()}`).catch(() => {});
    const state = await page
      .evaluate(() => ({
        status: document.getElementById("status").textContent,
        error: document.getElementById("error").textContent,
        connected: io.socket && io.socket.isConnected(),
      }))
      .catch((reason) => String(reason));
    throw new Error(
      `${url} (${client} client) did not connect: ${JSON.stringify(state)}; page errors: ${JSON.stringify(errors)}; console: ${JSON.stringify(consoleLines)}; frames: ${JSON.stringify(frames)}`,
      { cause: error },
    );
  }
  return { page, errors, close: () => context.close() };
}

/** Saves a full-page screenshot of `page` as tests/artifacts/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Runs `body`; when it throws, saves a screenshot of every page in `visitors()` first. */
export async function withScreenshotsOnFailure(name, visitors, body) {
  try {
    await body();
  } catch (error) {
    await Promise.all(
      visitors().map((visitor, index) => screenshot(visitor.page, `${name}-failure-${index + 1}`).catch(() => {})),
    );
    throw error;
  }
}

/** Polls `read()` until it deep-equals `expected` (JSON), or fails after `ms` with the last value. */
export async function eventually(read, expected, what, ms = 5_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: expected ${JSON.stringify(expected)} within ${ms} ms, last saw ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The chat page's actions (www/chat.html).
export async function setName(page, name) {
  await page.fill("#name", name);
  await page.press("#name", "Enter");
}

export async function join(page, room) {
  await page.fill("#room", room);
  await page.press("#room", "Enter");
  await page.locator(`#rooms button[data-room="${room}"][aria-pressed="true"]`).waitFor();
}

export async function say(page, text) {
  await page.fill("#message", text);
  await page.press("#message", "Enter");
}

// The pets page's row of a pet, and adding one (www/pets.html).
export const petRow = (page, name) => page.locator("#pets li", { has: page.locator(".pet-name", { hasText: name }) });

export async function addPet(page, name, species) {
  await page.fill("#pet-name", name);
  await page.fill("#pet-species", species);
  await page.press("#pet-species", "Enter");
  await petRow(page, name).waitFor();
}
