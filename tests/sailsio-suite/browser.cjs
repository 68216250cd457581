// In place of the suite's helpers/phantom.js, which opens a page in PhantomJS
// and runs `code` in it 100 ms after it loaded, the page's console messages
// being the runner's stdout: the same in Debian's Chromium, headless, through
// playwright-core. What a case needs and the server under test does not serve
// is served to the browser here: the page at `/`, as the case bound it, and
// the sails.io.js 1.2.1 browser build at `/sails.io.js` (the suite's lifecycle
// serves it from the package's `dist/`), or, when SAILSIO_SUITE_CLIENT_DIR
// names a directory, the client in it: its `sails.io.js` and any file beside
// it that the client asks for (our one-file client asks for none). Only `console.log` messages are
// passed on (PhantomJS passes the page's console calls; Chromium also reports
// network errors on the console). Chromium runs with its local network access
// checks off: a page the test itself serves has no address, so Chromium would
// take it for a public page and block its sockets to localhost (PhantomJS had
// no such check). A `beforeConnect` the case gave its lifecycle cannot run in
// a server of its own: it is applied once the page's socket is connected, to
// the handshake headers the server saw, which its `GET /canikickit` answers;
// if that fails it gets no headers, so the case's own check fails.
'use strict';

const { EventEmitter } = require('node:events');
const path = require('node:path');
const { chromium } = require('playwright-core');

const fs = require('node:fs');

/** Where the client served at `/sails.io.js` (and any file it loads beside itself) comes from. */
const CLIENT_DIR = process.env.SAILSIO_SUITE_CLIENT_DIR
  || path.join(path.dirname(require.resolve('sails.io.js')), 'dist');
const CONTENT_TYPES = { '.js': 'application/javascript', '.wasm': 'application/wasm' };

/** The client's file a request names, if it is one. */
function clientFile(pathname) {
  const name = path.basename(pathname);
  const file = path.join(CLIENT_DIR, name);
  return pathname === `/${name}` && CONTENT_TYPES[path.extname(name)] && fs.existsSync(file) ? file : null;
}
const HANDSHAKE_TIMEOUT_MS = 5_000;

let browser = null;

function sharedBrowser() {
  browser = browser || chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      '--disable-features=LocalNetworkAccessChecks'],
  });
  return browser;
}

async function closeBrowser() {
  if (browser) await (await browser).close();
  browser = null;
}

/** The page's socket asks the server for its handshake's `canikickit` header. */
function handshakeHeaders(page) {
  return page.evaluate((timeoutMs) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to GET /canikickit within ${timeoutMs} ms`)), timeoutMs);
    // Queued by sails.io.js until the socket connects.
    io.socket.get('/canikickit', (body) => {
      clearTimeout(timer);
      resolve({ canikickit: body });
    });
  }), HANDSHAKE_TIMEOUT_MS);
}

async function open(runner, url, code) {
  const app = global.sails;
  const origin = new URL(url).origin;
  const context = await (await sharedBrowser()).newContext();
  runner.context = context;
  if (runner.killed) return context.close();
  await context.route((requested) => requested.origin === origin && requested.pathname === '/', (route) => {
    const page = app.pages.get('/');
    if (!page) return route.fulfill({ status: 404, body: 'Not Found' });
    return page({}, { send: (html) => route.fulfill({ status: 200, contentType: 'text/html', body: html }) });
  });
  await context.route((requested) => requested.origin === origin && clientFile(requested.pathname) !== null,
    (route) => {
      const file = clientFile(new URL(route.request().url()).pathname);
      return route.fulfill({ status: 200, contentType: CONTENT_TYPES[path.extname(file)], path: file });
    });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (process.env.SAILSIO_SUITE_DEBUG) console.error('page console:', message.type(), message.text());
    if (message.type() === 'log') runner.stdout.emit('data', Buffer.from(message.text()));
  });
  page.on('pageerror', (error) => runner.stderr.emit('data', Buffer.from(String(error))));
  await page.goto(url);
  await page.evaluate(`setTimeout(function(){\n${code}\n}, 100)`);
  if (app.beforeConnect) {
    const headers = await handshakeHeaders(page).catch((error) => {
      console.error(`beforeConnect: ${error.message}`);
      return {};
    });
    app.beforeConnect({ headers, query: {} }, () => {});
  }
}

module.exports = function openPage(url, code) {
  const runner = {
    stdout: new EventEmitter(),
    stderr: new EventEmitter(),
    killed: false,
    context: null,
    opened: null,
    kill() {
      runner.killed = true;
      // A `beforeConnect` still under way finishes first.
      runner.opened.finally(() => runner.context && runner.context.close().catch(() => {}));
    },
  };
  runner.opened = open(runner, url, code).catch((error) => {
    runner.stderr.emit('data', Buffer.from(`browser: ${error.stack}`));
  });
  return runner;
};
module.exports.closeBrowser = closeBrowser;
