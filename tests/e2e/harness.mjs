// Shared fixtures for the browser tests: the server binary on a free port and
// Debian's headless Chromium, each with a time limit on every wait.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts the server binary (on a free port unless `port` is given) and resolves
 * once it prints its ready line.
 */
export async function startServer({ bin = process.env.SAILS_SERVER_BIN, www = process.env.SAILS_WWW, port = 0 } = {}) {
  if (!bin || !www) throw new Error("SAILS_SERVER_BIN and SAILS_WWW must be set (cargo xtask test sets them)");
  const child = spawn(bin, ["--port", String(port), "--www", www], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`server exited early with ${code}`)));
    lines.on("line", (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Launches Debian's Chromium headless (no browser download). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    timeout: READY_TIMEOUT_MS,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Opens a page that records console errors and uncaught exceptions. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url);
  return { page, errors };
}
