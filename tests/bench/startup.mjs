// Client start-up in headless Chromium: from navigation to the client's files
// downloaded, to the `connect` event, and to the answer of the first
// `io.socket.get('/hello')`, for our
// client on a page written for sails.io.js (the one-file www/js/sails.io.js)
// and on one with a preload hint (the lean www/js/sails.io.lean.js and its
// module, sails.io.lean_bg.wasm), and for
// sails.io.js-dist 1.2.1, all served by one interop server. Every page load
// gets a fresh browser context (nothing cached); the pages take turns, after
// one load each that is not counted (the browser's own first-page costs).
//
//   SAILS_INTEROP_BIN=… SAILS_WWW=www node tests/bench/startup.mjs [--runs 20]
//
// Prints `result {…}` on stdout: the `StartupRecord` of
// bench/record/src/lib.rs, as JSON (`cargo xtask bench` reads it); exits
// with 3 and the reason on stderr when Chromium, the npm packages or the
// built client are missing.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const NOT_AVAILABLE = 3;
const LOAD_TIMEOUT_MS = 15_000;
/** Loads of each client traced after the timed ones, to show where the time goes. */
const TRACED_RUNS = 5;

/**
 * One client: its files (site path → source file) and the page that times it.
 * `ours` is the one-file client, which a page written for sails.io.js takes
 * as it is; `hinted` the lean one on a page that also asks for its module up
 * front (`<link rel="preload">`), so that it downloads alongside the script
 * rather than after it: the one line a page may add for our client.
 */
const CLIENTS = [
  { key: "ours", name: "ours", page: "/startup-ours.html", script: "/js/sails.io.js" },
  {
    key: "hinted",
    name: "ours (lean), page with the preload hint",
    page: "/startup-hinted.html",
    script: "/js/sails.io.lean.js",
    head: '<link rel="preload" href="/js/sails.io.lean_bg.wasm" as="fetch" type="application/wasm" crossorigin>',
  },
  { key: "dist", name: "sails.io.js-dist 1.2.1", page: "/startup-dist.html", script: "/dist/sails.io.js" },
];

/** The page: the script tag, then a listener and a request made at once (all clients queue them). */
function page(script, head = "") {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>start-up</title><link rel="icon" href="data:,">${head}</head>
<body>
<script src="${script}"></script>
<script>
  var startup = {};
  io.socket.on("connect", function () {
    if (startup.connect === undefined) startup.connect = performance.now();
  });
  io.socket.get("/hello", function (body, jwr) {
    startup.answered = performance.now();
    startup.status = jwr.statusCode;
  });
</script>
</body>
</html>
`;
}

function notAvailable(why) {
  console.error(`not available: ${why}`);
  process.exit(NOT_AVAILABLE);
}

function parseRuns(args) {
  const at = args.indexOf("--runs");
  if (at === -1) return 20;
  const runs = Number(args[at + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: \`${args[at + 1]}\` is not a positive number`);
  return runs;
}

/** Median, min and max. */
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * The phases of one load, in ms after navigation start, from a Chromium
 * performance trace: when each of the client's files was requested and had
 * arrived, when its script ran, when the wasm module was compiled (ours),
 * when the WebSocket was opened and its handshake answered.
 */
function phases(trace) {
  const all = JSON.parse(trace.toString("utf8")).traceEvents;
  // The page's renderer only (the browser's own pages load meanwhile, in processes of their own).
  const navigation = all.find((e) => e.name === "navigationStart" && /^http/.test(e.args?.data?.documentLoaderURL || ""));
  if (!navigation) return null;
  const start = navigation.ts;
  const events = all.filter((e) => e.pid === navigation.pid);
  const at = (e) => (e.ts + (e.dur || 0) - start) / 1000;
  const begin = (e) => (e.ts - start) / 1000;
  const requests = new Map();
  for (const e of events) {
    const data = e.args?.data;
    if (e.name === "ResourceSendRequest" && /\/sails\.io/.test(data?.url)) requests.set(data.requestId, data.url);
  }
  const found = {};
  const first = (key, value) => {
    if (found[key] === undefined || value < found[key]) found[key] = value;
  };
  const last = (key, value) => {
    if (found[key] === undefined || value > found[key]) found[key] = value;
  };
  for (const e of events) {
    const data = e.args?.data;
    const url = requests.get(data?.requestId) || data?.url || "";
    const file = /\.wasm/.test(url) ? "wasm" : /\/sails\.io/.test(url) ? "script" : null;
    if (e.name === "ResourceSendRequest" && file) first(`${file}_requested`, begin(e));
    if (e.name === "ResourceFinish" && file) last(`${file}_arrived`, begin(e));
    if (e.name === "EvaluateScript" && file === "script") last("script_ran", at(e));
    if (e.name === "wasm.FinishStreaming") last("wasm_compiled", at(e));
    if (e.name === "WebSocketCreate") first("websocket_opened", begin(e));
    if (e.name === "WebSocketReceiveHandshakeResponse") first("websocket_answered", begin(e));
  }
  return found;
}

const TRACE_CATEGORIES = ["devtools.timeline", "blink.user_timing", "v8.wasm", "loading"];

/**
 * Loads `url` in a fresh context; resolves with the navigation-relative
 * times, and with the load's `phases` when `trace` is set (the trace itself
 * is written to `trace`).
 */
async function loadOnce(browser, url, trace) {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    if (trace) await browser.startTracing(tab, { path: trace, categories: TRACE_CATEGORIES });
    tab.setDefaultTimeout(LOAD_TIMEOUT_MS);
    const errors = [];
    tab.on("pageerror", (error) => errors.push(String(error)));
    await tab.goto(url, { timeout: LOAD_TIMEOUT_MS });
    const handle = await tab.waitForFunction(
      () => window.startup && window.startup.answered !== undefined && window.startup.connect !== undefined && window.startup,
      null,
      { timeout: LOAD_TIMEOUT_MS },
    );
    const times = await handle.jsonValue();
    // When the last of the client's files (script, wasm) had arrived.
    times.downloaded = await tab.evaluate(() =>
      Math.max(...performance.getEntriesByType("resource").filter((entry) => /\/sails\.io/.test(entry.name)).map((entry) => entry.responseEnd)),
    );
    if (trace) times.phases = phases(await browser.stopTracing());
    if (times.status !== 200) throw new Error(`GET /hello answered ${times.status}`);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    return times;
  } finally {
    await context.close();
  }
}

async function main() {
  const runs = parseRuns(process.argv.slice(2));
  const bin = process.env.SAILS_INTEROP_BIN;
  const www = process.env.SAILS_WWW;
  if (!bin || !www) throw new Error("SAILS_INTEROP_BIN and SAILS_WWW must be set (cargo xtask bench sets them)");
  const chromiumBin = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
  if (!existsSync(chromiumBin)) notAvailable(`${chromiumBin} is missing`);
  const ours = { "js/sails.io.js": join(www, "js/sails.io.js") };
  const lean = {
    "js/sails.io.lean.js": join(www, "js/sails.io.lean.js"),
    "js/sails.io.lean_bg.wasm": join(www, "js/sails.io.lean_bg.wasm"),
  };
  for (const file of [...Object.values(ours), ...Object.values(lean)]) {
    if (!existsSync(file)) notAvailable(`${file} is missing (cargo xtask build)`);
  }
  let dist;
  let harness;
  try {
    dist = { "dist/sails.io.js": createRequire(import.meta.url).resolve("sails.io.js-dist/sails.io.js") };
    harness = await import("../e2e/harness.mjs");
  } catch (error) {
    notAvailable(`the npm packages of tests/ are missing (npm ci in tests/): ${error.message}`);
  }
  const files = { ours, hinted: lean, dist };

  // One site for the clients and their pages, served by the interop server.
  const site = await mkdtemp(join(tmpdir(), "sails-startup-"));
  let server;
  let browser;
  try {
    await mkdir(join(site, "js"));
    await mkdir(join(site, "dist"));
    const bytes = {};
    for (const client of CLIENTS) {
      let raw = 0;
      let gzip = 0;
      for (const [path, source] of Object.entries(files[client.key])) {
        await copyFile(source, join(site, path));
        const content = await readFile(source);
        raw += content.length;
        gzip += gzipSync(content, { level: 9 }).length;
      }
      bytes[client.key] = { raw, gzip };
      await writeFile(join(site, client.page), page(client.script, client.head));
    }

    server = await harness.startServer({ bin, www: site });
    browser = await harness.launchBrowser();
    for (const client of CLIENTS) await loadOnce(browser, server.url + client.page);

    const times = Object.fromEntries(CLIENTS.map((client) => [client.key, []]));
    for (let run = 1; run <= runs; run++) {
      // Rotate which client goes first, so that none always follows another.
      const order = CLIENTS.map((_, i) => CLIENTS[(i + run) % CLIENTS.length]);
      for (const client of order) times[client.key].push(await loadOnce(browser, server.url + client.page));
    }

    // Three decimals, as the generator's records.
    const rounded = (value) => Number(value.toFixed(3));
    const record = { runs };
    for (const client of CLIENTS) {
      const lines = [`${client.name}:`];
      const figures = {};
      for (const figure of ["downloaded", "connect", "answered"]) {
        const { median, min, max } = summary(times[client.key].map((t) => t[figure]));
        figures[`${figure}_ms`] = { median: rounded(median), min: rounded(min), max: rounded(max) };
        lines.push(`${figure} ${median.toFixed(1)} ms (${min.toFixed(1)}–${max.toFixed(1)})`);
      }
      const { raw, gzip } = bytes[client.key];
      figures.bytes = raw;
      figures.gzip_bytes = gzip;
      record[client.key] = figures;
      lines.push(`${raw} bytes, ${gzip} gzip -9`);
      console.error(lines.join(" "));
    }
    console.log(`result ${JSON.stringify(record)}`);

    // Where the time goes: a few more loads of each client, traced.
    // The traces stay in tests/artifacts/startup/ (open them in Chromium's performance panel).
    const traces = fileURLToPath(new URL("../artifacts/startup/", import.meta.url));
    await mkdir(traces, { recursive: true });
    const traced = Object.fromEntries(CLIENTS.map((client) => [client.key, []]));
    for (let run = 1; run <= TRACED_RUNS; run++) {
      const order = CLIENTS.map((_, i) => CLIENTS[(i + run) % CLIENTS.length]);
      for (const client of order) {
        const trace = join(traces, `${client.key}-${run}.json`);
        const times = await loadOnce(browser, server.url + client.page, trace);
        if (times.phases) traced[client.key].push({ ...times.phases, answered: times.answered });
      }
    }
    const PHASES = ["script_requested", "script_arrived", "script_ran", "wasm_requested", "wasm_arrived", "wasm_compiled", "websocket_opened", "websocket_answered", "answered"];
    console.error(`where the time goes (median of ${TRACED_RUNS} traced loads each, ms after navigation start):`);
    for (const client of CLIENTS) {
      const line = PHASES.flatMap((phase) => {
        const values = traced[client.key].map((t) => t[phase]).filter((v) => v !== undefined);
        return values.length ? [`${phase} ${summary(values).median.toFixed(1)}`] : [];
      });
      console.error(`  ${client.name}: ${line.join(", ")}`);
    }
  } finally {
    await browser?.close();
    await server?.stop();
    await rm(site, { recursive: true, force: true });
  }
}

await main();
