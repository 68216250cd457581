// The server under test, in place of the Sails app that sails.io.js's suite
// lifts in its own process: `lift` starts it, `lower` stops it. Which server
// is SAILSIO_SUITE_SERVER's: `ours` (the binary SAILSIO_SUITE_BIN, the
// `sailsio_suite` example) or `sails` (./sails-app.cjs on a real Sails).
// Every start after the first reuses the first one's port, which the suite's
// files name (see redirect.cjs): a client reconnecting after a restart finds
// the server where it was, as with the suite's fixed port.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const READY_TIMEOUT_MS = 30_000;
const BLAST_TIMEOUT_MS = 10_000;

/** The paths the servers answer; a test binding another one would test nothing. */
const SERVED_PATHS = new Set([
  '/hello', '/someJSON', '/someNull', '/someZero', '/someError', '/headers', '/headersOverride',
  '/headersRemove', '/count', '/ok', '/auth', '/foo', '/bar', '/canikickit',
]);

const kind = process.env.SAILSIO_SUITE_SERVER;
let port = 0;
let running = null;
/** How many times the server was started: a blast the server's stop cut short is no failure. */
let starts = 0;

function command({ socketPath, transports }) {
  const portArgs = ['--port', String(port)];
  if (kind === 'ours') {
    // Our app answers at every path of the suite, on both transports, at once.
    return [process.env.SAILSIO_SUITE_BIN, portArgs];
  }
  if (kind === 'sails') {
    const args = [path.join(__dirname, 'sails-app.cjs'), ...portArgs];
    if (socketPath) args.push('--path', socketPath);
    if (transports) args.push('--transports', transports.join(','));
    return [process.execPath, args];
  }
  throw new Error(`SAILSIO_SUITE_SERVER must be \`ours\` or \`sails\`, not \`${kind}\``);
}

/** Starts the server (stopping one still running) and resolves with its port once it is ready. */
async function start(options = {}) {
  await stop();
  const [bin, args] = command(options);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  starts += 1;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  running = { child, exited };
  const lines = readline.createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${kind} server exited early with ${code}`)); });
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    lines.on('line', (line) => {
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
  }).catch(async (error) => { await stop(); throw error; });
  port = ready;
  return port;
}

/** Stops the server if it runs, and resolves once it has exited. */
async function stop() {
  if (!running) return;
  const { child, exited } = running;
  running = null;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

/**
 * Sails' `sails.sockets.blast(event, data)`, through the app's `POST /blast`.
 * A case may stop the server as soon as its sockets heard the blast, before
 * the answer to `POST /blast` arrives: that is no failure.
 */
async function blast(event, data) {
  const startedAs = starts;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/blast`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event, data }),
      signal: AbortSignal.timeout(BLAST_TIMEOUT_MS),
    });
    if (response.status !== 200) throw new Error(`POST /blast answered ${response.status}`);
  } catch (error) {
    const stillUp = startedAs === starts && running !== null;
    if (stillUp) throw error;
  }
}

function checkServed(address) {
  const routePath = String(address).replace(/^[a-z]+\s+/i, '');
  if (!SERVED_PATHS.has(routePath)) throw new Error(`the server under test has no route ${routePath}`);
}

/**
 * What the suite uses of a Sails app (`new Sails()`, and the `sails` global):
 * `lift`, `lower`, `config.port`, `router.bind` and `get` (the routes are the
 * server's own, so binding one only checks that the server has it; the page
 * at `/` of the browser cases is kept for browser.cjs to serve),
 * `sockets.blast`, and `beforeConnect`, which browser.cjs applies to the
 * page's socket.
 */
class App {
  constructor() {
    this.config = { port: null };
    this.pages = new Map();
    this.beforeConnect = null;
    this.router = {
      bind: (address, handler) => {
        if (address === '/') this.pages.set('/', handler);
        else checkServed(address);
      },
    };
    this.sockets = {
      blast: (event, data) => {
        blast(event, data).catch((error) => console.error(`sails.sockets.blast: ${error.stack}`));
      },
    };
  }

  lift(config, cb) {
    const sockets = config.sockets || {};
    this.beforeConnect = sockets.beforeConnect || null;
    start({ socketPath: sockets.path, transports: sockets.transports }).then((listening) => {
      this.config.port = listening;
      global.sails = this;
      cb(null);
    }, cb);
  }

  get(address) {
    checkServed(address);
  }

  lower(options, cb) {
    const done = typeof options === 'function' ? options : cb;
    stop().then(() => done && done(), (error) => done && done(error));
  }
}

module.exports = { App, start, stop, port: () => port };
