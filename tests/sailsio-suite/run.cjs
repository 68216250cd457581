#!/usr/bin/env node
// Run: `SAILSIO_SUITE_SERVER=ours SAILSIO_SUITE_BIN=<sailsio_suite binary> node tests/sailsio-suite/run.cjs`
// (or `SAILSIO_SUITE_SERVER=sails`, the same app on a real Sails 1.5.18).
//
// sails.io.js 1.2.1's own mocha suite, its test files as the package ships
// them, against a server in a process of its own instead of the Sails app it
// lifts in-process (see redirect.cjs for what is replaced), and the adapted
// copies of the cases left out as written (LEFT_OUT, with why). The server's
// port is chosen by its first start, on port 0. Exits non-zero if a case
// failed. Arguments: test file names, to run only those;
// SAILSIO_SUITE_DEBUG=1 prints the pages' console messages.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');
const redirect = require('./redirect.cjs');
const server = require('./server.cjs');
const { closeBrowser } = require('./browser.cjs');

/** The suite's own timeout per case (its `npm test` script). */
const CASE_TIMEOUT_MS = 10_000;

/** The package's cases left out, each with why; an adapted copy runs in their place. */
const LEFT_OUT = [
  {
    title: 'browser Setting `initialConnectionheaders` (polling only) should pass the header to the server with the initial connection',
    reason: 'its page sets io.sails.initialConnectionHeaders in a script Chromium runs after the socket started connecting, '
      + 'so no server gets the header; initial-connection-headers.suite.cjs runs it with the header set in time',
  },
];
/** Our own files: adapted copies of the cases left out. */
const ADAPTED = ['initial-connection-headers.suite.cjs'];

/**
 * With SAILSIO_SUITE_CLIENT_DIR (our client's build, `www/js/`), the browser
 * cases load that client instead of sails.io.js: only browser.attr.test.js
 * runs (the other files drive sails.io.js in Node; the adapted case needs
 * polling, which our client does not do).
 */
const OUR_CLIENT_FILES = ['browser.attr.test.js'];
const ourClient = Boolean(process.env.SAILSIO_SUITE_CLIENT_DIR);

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function main() {
  const port = await server.start();
  await server.stop();
  redirect.install(port);
  const leftOut = new RegExp(`^(${LEFT_OUT.map(({ title }) => escapeRegExp(title)).join('|')})$`);
  const mocha = new Mocha({
    timeout: CASE_TIMEOUT_MS,
    reporter: process.env.SAILSIO_SUITE_REPORTER || 'spec',
    grep: leftOut,
    invert: true,
  });
  for (const { title, reason } of LEFT_OUT) console.log(`left out: "${title}": ${reason}`);
  const only = ourClient ? OUR_CLIENT_FILES : process.argv.slice(2);
  const files = fs.readdirSync(redirect.SUITE_DIR).filter((file) => file.endsWith('.test.js')).sort()
    .map((file) => path.join(redirect.SUITE_DIR, file))
    .concat(ADAPTED.map((file) => path.join(__dirname, file)));
  for (const file of files) {
    if (only.length === 0 || only.includes(path.basename(file))) mocha.addFile(file);
  }
  const failures = await new Promise((resolve) => mocha.run(resolve));
  await server.stop();
  await closeBrowser();
  // Sockets the suite leaves open (it never disconnects some) would keep the process alive.
  process.exit(failures === 0 ? 0 : 1);
}

main().catch(async (error) => {
  console.error(error);
  await server.stop();
  process.exit(1);
});
