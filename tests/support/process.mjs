// Starting a server process for a test: every server of the project (and the
// real Sails app) prints `listening on http://127.0.0.1:<PORT>` once ready.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const READY_TIMEOUT_MS = 30_000;

/**
 * Runs `bin args…` and resolves with `{url, stop}` once it prints its ready
 * line; rejects (and kills it) if it exits or stays silent for 30 s.
 */
export async function startListening(bin, args, name) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`${name} exited early with ${code}`)));
    child.once("error", reject);
    lines.on("line", (line) => {
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  let url;
  try {
    url = await ready;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url,
    async stop() {
      // Stopped already (a signal leaves `exitCode` null): nothing to wait for.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
