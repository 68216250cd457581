// A Redis server of a test's own: `redis-server` on a Unix socket in a
// temporary directory (no port to collide with), nothing saved; `stop()`
// kills it and removes the directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const READY_TIMEOUT_MS = 20_000;

/** Resolves once the server on `socket` answers PING, or rejects after the time limit. */
async function answersPing(socket) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const pong = await new Promise((resolve) => {
      const client = connect(socket);
      client.once("error", () => resolve(false));
      client.once("data", (data) => {
        client.destroy();
        resolve(String(data).startsWith("+PONG"));
      });
      client.once("connect", () => client.write("PING\r\n"));
    });
    if (pong) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** Starts `redis-server`; resolves with `{url, stop}` once it answers. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), "sails-redis-"));
  const socket = join(dir, "redis.sock");
  const child = spawn(
    "redis-server",
    ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const failed = new Promise((_, reject) => {
    child.once("error", (error) => reject(new Error(`cannot start redis-server (${error.message}): run cargo xtask setup`)));
    child.once("exit", (code) => reject(new Error(`redis-server exited early with ${code}`)));
  });
  try {
    await Promise.race([answersPing(socket), failed]);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis+unix://${socket}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
