// Runs the suite's own test files from the sails.io.js package with the
// replacements of this folder: each `require` a file of the package's `test/`
// makes of a helper or of a package only the original lifecycle needs is
// answered with its replacement, and the port the files name (1577) is
// replaced by the server's as they load. Nothing else in them changes.
'use strict';

const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const SUITE_DIR = path.join(path.dirname(require.resolve('sails.io.js')), 'test') + path.sep;
const SUITE_PORT = '1577';

const REPLACEMENTS = {
  './helpers/lifecycle': 'lifecycle.cjs',
  './helpers/setupRoutes': 'setup-routes.cjs',
  './helpers/phantom': 'browser.cjs',
  'sails/lib/app': 'sails-lib-app.cjs',
  request: 'request.cjs',
};

/** Installs the redirections; `port` replaces the suite's fixed port. */
function install(port) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveReplaced(request, parent, ...rest) {
    const replacement = parent && parent.filename && parent.filename.startsWith(SUITE_DIR) && REPLACEMENTS[request];
    if (replacement) return path.join(__dirname, replacement);
    return resolve.call(this, request, parent, ...rest);
  };
  const load = Module._extensions['.js'];
  Module._extensions['.js'] = function loadWithPort(module, filename) {
    if (!filename.startsWith(SUITE_DIR)) return load(module, filename);
    const source = fs.readFileSync(filename, 'utf8').replaceAll(SUITE_PORT, String(port));
    return module._compile(source, filename);
  };
}

module.exports = { install, SUITE_DIR };
