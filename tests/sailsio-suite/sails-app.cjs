#!/usr/bin/env node
// Run: `node tests/sailsio-suite/sails-app.cjs --port 0 [--path /socket.io] [--transports websocket,polling]`
//
// The app of sails.io.js 1.2.1's own suite on a real Sails 1.5.18
// (sails-hook-sockets 3.0.2, as installed in ../sails-app/): the routes its
// cases bind, written as they bind them, with Sails' sessions in memory. One
// Socket.IO path and one set of transports per process, as the suite lifts
// its app (our `sailsio_suite` example answers at every path at once). Lifts
// on 127.0.0.1 and prints `listening on http://127.0.0.1:<PORT>` once ready;
// Sails' logs go to stderr.
'use strict';

const { createRequire } = require('node:module');
const path = require('node:path');

const requireFromSailsApp = createRequire(path.join(__dirname, '..', 'sails-app', 'package.json'));
const { Sails } = requireFromSailsApp('sails');

const USAGE = 'usage: node sails-app.cjs [--port 1337] [--path /socket.io] [--transports websocket,polling]';
/** How long `GET /ok` waits before it answers (the suite's route: 100 ms; see the `sailsio_suite` example for why 150). */
const OK_DELAY_MS = 150;

function parseArgs(argv) {
  const options = { port: 1337, path: '/socket.io', transports: ['websocket'] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (i + 1 >= argv.length) throw new Error(`${arg} needs a value\n${USAGE}`);
    const value = argv[++i];
    if (arg === '--port') {
      options.port = Number(value);
      if (!/^\d+$/.test(value) || options.port > 65535) throw new Error(`--port: \`${value}\` is not a port number`);
    } else if (arg === '--path') {
      options.path = value;
    } else if (arg === '--transports') {
      options.transports = value.split(',');
    } else {
      throw new Error(`unknown argument \`${arg}\`\n${USAGE}`);
    }
  }
  return options;
}

/** A string from the socket's handshake, if the request came from a socket. */
function handshake(req, part, name) {
  return req.isSocket ? req.socket.handshake[part][name] : undefined;
}

const routes = {
  'GET /hello': (req, res) => res.send('ok!'),
  'DELETE /hello': (req, res) => res.send('deleted!'),
  'POST /hello': (req, res) => res.send('posted!'),
  'PUT /hello': (req, res) => res.send('putted!'),
  'PATCH /hello': (req, res) => res.send('patched!'),
  'GET /someJSON': (req, res) => res.send({ foo: 'bar' }),
  'GET /someNull': (req, res) => res.send(null),
  'GET /someZero': (req, res) => res.send(0),
  'GET /someError': (req, res) => res.status(501).send({ blah: 'blah' }),
  'GET /headers': (req, res) => res.send(req.headers['x-test-header-one']),
  'GET /headersOverride': (req, res) => res.send(req.headers['x-test-header-one']),
  'GET /headersRemove': (req, res) => res.send(req.headers['x-test-header-one']),
  'GET /count': (req, res) => {
    if (!req.session) return res.send('NOSESSION');
    const count = req.session.count || 1;
    req.session.count = count + 1;
    return res.status(200).send(count);
  },
  'GET /ok': (req, res) => setTimeout(() => res.send(req.param('x')), OK_DELAY_MS),
  'POST /auth': (req, res) => res.send(handshake(req, 'query', 'token')),
  'GET /foo': (req, res) => res.send('foo'),
  'GET /bar': (req, res) => res.send('bar'),
  'GET /canikickit': (req, res) => res.send(handshake(req, 'headers', 'canikickit')),
  'POST /blast': (req, res) => {
    req._sails.sockets.blast(req.body.event || 'message', req.body.data);
    return res.json({ sent: true });
  },
};

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const write = (...args) => console.error(...args);
  const logger = { log: write, crit: write, error: write, warn: write, debug: write, info: write, verbose: write, silly: write, blank: write };
  const sails = new Sails();
  sails.lift({
    appPath: __dirname,
    environment: 'development',
    // Sails replaces a falsy port with its default (1337); the string "0" still means "any free port".
    port: options.port === 0 ? '0' : options.port,
    explicitHost: '127.0.0.1',
    globals: false,
    log: { level: process.env.SAILS_LOG_LEVEL || 'error', custom: logger, inspect: false },
    hooks: {
      userconfig: false, userhooks: false, grunt: false, views: false, i18n: false, policies: false,
      services: false, helpers: false, orm: false, pubsub: false, blueprints: false,
      sockets: requireFromSailsApp('sails-hook-sockets'),
    },
    session: { secret: 'sails-io-js-suite' },
    security: { csrf: false },
    sockets: { path: options.path, transports: options.transports },
    routes,
  }, (error) => {
    if (error) {
      console.error('sails-app: lift failed:', error);
      process.exit(1);
    }
    const { port } = sails.hooks.http.server.address();
    console.log(`listening on http://127.0.0.1:${port}`);
  });
  const lower = () => sails.lower(() => process.exit(0));
  process.once('SIGINT', lower);
  process.once('SIGTERM', lower);
}

main();
