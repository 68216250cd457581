// The two implementations of the interop app, for test cases that must pass on
// both: ours (SAILS_INTEROP_BIN) and the real Sails 1.5.18 app in ../sails-app.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startInterop } from "./harness.mjs";
import { postgresDatabase, postgresMissing } from "../support/postgres.mjs";
import { startRedis } from "../support/redis.mjs";
import { startRoundRobin } from "../support/round-robin.mjs";

const SAILS_APP_DIR = fileURLToPath(new URL("../sails-app/", import.meta.url));

/** The Sails app's entry point: an executable taking `--port 0 --www DIR` like ours. */
export const SAILS_APP_BIN = `${SAILS_APP_DIR}app.js`;

/** Why the Sails app cannot run here, or `false`. */
export function sailsAppMissing() {
  return existsSync(`${SAILS_APP_DIR}node_modules/sails/package.json`)
    ? false
    : "the Sails app's dependencies are not installed (run `npm ci` in tests/sails-app)";
}

/**
 * Three of our interop servers on one Redis (a redis-server of the test's
 * own) and one SQLite file, behind a round-robin balancer: successive
 * connections of a test land on different servers. Resolves with `{url, stop}`.
 */
export async function startInteropCluster({ nodes = 3 } = {}) {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "sails-interop-cluster-"));
  const servers = [];
  try {
    const args = ["--redis", redis.url, "--database", `sqlite://${join(dir, "records.db")}`];
    for (let i = 0; i < nodes; i += 1) servers.push(await startInterop({ args }));
    const balancer = await startRoundRobin(servers.map((server) => server.url));
    return {
      url: balancer.url,
      async stop() {
        await balancer.close();
        await Promise.all(servers.map((server) => server.stop()));
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Both servers, and ours as three servers on one Redis, each
 * `{name, kind, skip, start}`: `kind` is "ours" or "sails", `skip` a reason
 * not to run (or false), `start()` resolves with `{url, stop}`;
 * `perServerRecords` says why a test of the hand-written /pets routes cannot
 * pass on it, `artifacts` names its transcripts' folder.
 */
export function interopServers() {
  return [
    {
      name: "our interop app",
      kind: "ours",
      skip: process.env.SAILS_INTEROP_BIN ? false : "SAILS_INTEROP_BIN is not set",
      start: () => startInterop(),
    },
    {
      name: "Sails 1.5.18",
      kind: "sails",
      skip: sailsAppMissing(),
      start: () => startInterop({ bin: SAILS_APP_BIN }),
    },
    {
      name: "three of our interop servers on one Redis",
      kind: "ours",
      artifacts: "ours-cluster",
      // The hand-written /pets routes keep their records in each server's
      // memory (the blueprints' records are in the shared store).
      perServerRecords: "the hand-written /pets records live in each server's memory",
      skip: process.env.SAILS_INTEROP_BIN ? false : "SAILS_INTEROP_BIN is not set",
      start: () => startInteropCluster(),
    },
  ];
}

/**
 * Our interop app with its models on a fresh database of a temporary
 * PostgreSQL server at each start (`--database postgres://…`), as a server
 * like those of `interopServers()`; its transcripts go to `ours-postgres`.
 */
export function ourInteropOnPostgres() {
  let started = 0;
  return {
    name: "our interop app on PostgreSQL",
    kind: "ours",
    artifacts: "ours-postgres",
    skip: (process.env.SAILS_INTEROP_BIN ? false : "SAILS_INTEROP_BIN is not set") || postgresMissing(),
    start: async () => {
      started += 1;
      const url = await postgresDatabase(`interop_${started}`);
      return startInterop({ args: ["--database", url] });
    },
  };
}

/** Starts the Sails app (port 0, ready line with a time limit). */
export function startSailsApp({ www = process.env.SAILS_WWW } = {}) {
  return startInterop({ bin: SAILS_APP_BIN, www });
}
