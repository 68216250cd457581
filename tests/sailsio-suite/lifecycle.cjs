// In place of the suite's helpers/lifecycle.js, which lifts a Sails app in
// the test process: `setup(opts, cb)` starts the server under test
// (server.cjs) with the socket path and transports the case asks for, then
// makes a fresh sails.io.js client on socket.io-client 2.0.3 and sets the same
// `io.sails` options as the original (url `http://localhost:<port>`,
// production logging, no reconnection, then those of `opts`), as the globals
// `io`, `server` and `sails`; `teardown` disconnects `io.socket` and stops the
// server.
'use strict';

const { App, port } = require('./server.cjs');

const PASSED_ON = ['multiplex', 'transports', 'autoConnect', 'useCORSRouteToGetCookie', 'query', 'headers',
  'initialConnectionHeaders', 'path', 'reconnection'];

function setup(opts, cb) {
  if (typeof opts === 'function') {
    cb = opts;
    opts = {};
  }
  for (const modulePath of Object.keys(require.cache)) {
    if (/socket\.io-client/.test(modulePath)) delete require.cache[modulePath];
  }
  const socketIoClient = require('socket.io-client');
  const sailsIO = require('sails.io.js');
  const app = new App();
  app.lift({ sockets: { transports: opts.transports, path: opts.path, beforeConnect: opts.beforeConnect } }, (error) => {
    if (error) return cb(error);
    const io = sailsIO(socketIoClient);
    io.sails.url = opts.url || `http://localhost:${port()}`;
    io.sails.environment = opts.environment || 'production';
    io.sails.reconnection = false;
    for (const option of PASSED_ON) {
      if (typeof opts[option] !== 'undefined') io.sails[option] = opts[option];
    }
    global.server = app;
    global.io = io;
    return cb();
  });
}

function teardown(done) {
  if (global.io && global.io.socket && global.io.socket.isConnected()) global.io.socket.disconnect();
  global.server.lower(() => {
    delete global.server;
    delete global.io;
    done();
  });
}

module.exports = { setup, teardown };
