// In place of `sails/lib/app` (the Sails constructor), for the suite's
// queueing cases: an app whose `lift` and `lower` start and stop the server
// under test (server.cjs).
'use strict';

module.exports = require('./server.cjs').App;
