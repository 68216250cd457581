#!/usr/bin/env node
// Run: `node tests/sails-app/app.js --port 0 [--www DIR] [--redis redis://HOST:PORT]`
//
// The interop app on a real Sails 1.5.18 (sails-hook-sockets 3.0.2; the
// contract's models through sails-hook-orm, served by Sails' blueprints): the
// reference our Rust server is compared against. Same routes, same contract
// (see README.md). Lifts on 127.0.0.1 and prints exactly one line to stdout,
// `listening on http://127.0.0.1:<PORT>`, once it accepts sockets; every Sails
// log line goes to stderr.
'use strict';

const path = require('path');
const { Sails } = require('sails');
const routes = require('./routes');
const models = require('./models');

const USAGE = 'usage: node app.js [--port 1337] [--www DIR] [--redis redis://HOST:PORT]';

function parseArgs(argv) {
  const options = { port: 1337, www: path.resolve(__dirname, '../../www') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--port') {
      const raw = value();
      options.port = Number(raw);
      if (!/^\d+$/.test(raw) || options.port > 65535) throw new Error(`--port: \`${raw}\` is not a port number`);
    } else if (arg === '--www') {
      options.www = path.resolve(value());
    } else if (arg === '--redis') {
      // One of many servers sharing rooms and broadcasts over Redis, as Sails
      // documents it (socket.io-redis).
      options.redis = value();
    } else if (arg === '-h' || arg === '--help') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown argument \`${arg}\`\n${USAGE}`);
    }
  }
  return options;
}

/** Every Sails log level, written to stderr so stdout carries only the ready line. */
function stderrLogger() {
  const write = (...args) => console.error(...args);
  return { log: write, crit: write, error: write, warn: write, debug: write, info: write, verbose: write, silly: write, blank: write };
}

/** The whole Sails configuration: no config files, no api/ folder, no hooks beyond those the app needs. */
function sailsConfig({ port, www, redis }) {
  return {
    appPath: __dirname,
    environment: 'development',
    // Sails replaces a falsy port with its default (1337); the string "0" still means "any free port".
    port: port === 0 ? '0' : port,
    explicitHost: '127.0.0.1',
    globals: false,
    log: { level: process.env.SAILS_LOG_LEVEL || 'warn', custom: stderrLogger(), inspect: false },
    hooks: {
      // Configuration is all here: no config/ folder, no hooks from node_modules.
      userconfig: false,
      userhooks: false,
      // Not needed by the interop app.
      grunt: false,
      views: false,
      i18n: false,
      policies: false,
      services: false,
      helpers: false,
      // Realtime; the models (Waterline over sails-disk in memory), which the
      // core `blueprints` and `pubsub` hooks then serve and publish.
      sockets: require('sails-hook-sockets'),
      orm: require('sails-hook-orm'),
    },
    paths: { public: www },
    http: { cache: 0 },
    session: { secret: 'sails-interop-reference-app' },
    security: { csrf: false },
    sockets: {
      transports: ['websocket'],
      path: '/socket.io',
      onlyAllowOrigins: undefined,
      ...(redis ? { adapter: '@sailshq/socket.io-redis', url: redis } : {}),
    },
    routes,
    models: models.modelDefaults,
    datastores: models.datastores,
    orm: { moduleDefinitions: { models: models.definitions, adapters: { 'sails-disk': require('sails-disk') } } },
    // Sails 1.5's defaults, spelled out: the contract depends on them.
    blueprints: { rest: true, shortcuts: true, actions: false, prefix: '', pluralize: false, autoWatch: true },
  };
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }

  // Sails 1.5.18 throws from inside its socket.io listeners on some malformed
  // requests (e.g. `["get", null]`), which would end the process. A reference
  // server that dies takes every other test down with it, so log and go on:
  // the offending client just gets no answer.
  process.on('uncaughtException', (error) => {
    console.error('sails-app: uncaught exception (a real Sails process would exit here):', error);
  });

  const started = process.hrtime.bigint();
  const sails = new Sails();
  sails.lift(sailsConfig(options), (error) => {
    if (error) {
      console.error('sails-app: lift failed:', error);
      process.exit(1);
    }
    const { port } = sails.hooks.http.server.address();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.error(`sails-app: lifted in ${ms.toFixed(0)} ms`);
    console.log(`listening on http://127.0.0.1:${port}`);
  });

  const lower = () => sails.lower(() => process.exit(0));
  process.once('SIGINT', lower);
  process.once('SIGTERM', lower);
}

main();
