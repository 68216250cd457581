// Shared fixtures for the browser tests: the server binary on a free port and
// Debian's headless Chromium, each with a time limit on every wait.
import { chromium } from "playwright-core";
import { startListening } from "../support/process.mjs";

/**
 * Starts the server binary (on a free port unless `port` is given), ready to
 * serve; `args` are more flags (`["--allow-origin", url]`).
 */
export function startServer({ bin = process.env.SAILS_SERVER_BIN, www = process.env.SAILS_WWW, port = 0, args = [] } = {}) {
  if (!bin || !www) throw new Error("SAILS_SERVER_BIN and SAILS_WWW must be set (cargo xtask test sets them)");
  return startListening(bin, ["--port", String(port), "--www", www, ...args], "server");
}

/** Launches Debian's Chromium headless (no browser download), with `args` added. */
export function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      ...args,
    ],
  });
}

/** The console errors and uncaught exceptions of `page`, as they come. */
export function recordErrors(page) {
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}

/** Opens a page that records console errors and uncaught exceptions. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const errors = recordErrors(page);
  await page.goto(url);
  return { page, errors };
}
