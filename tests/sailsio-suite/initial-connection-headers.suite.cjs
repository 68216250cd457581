// Adapted from sails.io.js 1.2.1's test/browser.attr.test.js, its last case,
// "Setting `initialConnectionheaders` (polling only)", which run.cjs leaves
// out of the package's file. Two changes, marked CHANGED (and the title):
// 1. The page sets `io.sails.initialConnectionHeaders` before its socket
//    connects. As written, it sets it in a second script, which Chromium runs
//    after sails.io.js's autoConnect tick (PhantomJS ran it before): the
//    socket then connects without the header, against Sails as against ours.
//    Here the script tag turns autoConnect off and the second script connects
//    `io.socket` on a tick of its own, after sails.io.js's.
// 2. The case passes once the header was checked (browser.cjs applies
//    `beforeConnect` to the headers the server saw), not after 1 s whatever
//    happened (the original never reads its `testFailed`).
'use strict';

var lifecycle = require('./lifecycle.cjs');
var phantom = require('./browser.cjs');

// CHANGED: the title says it is the adapted copy (the original's is left out by title).
describe('browser (adapted copy)', function() {

  describe('Setting `initialConnectionheaders` (polling only)', function() {

    var runner;
    var testFailed = false;
    // CHANGED (2): resolved once `beforeConnect` let the socket in.
    var headerChecked;
    var checked = new Promise(function(resolve) { headerChecked = resolve; });

    before(function(done) {
      lifecycle.setup({transports: ['polling'], autoConnect: false, beforeConnect: function(handshake, cb) { if (!handshake.headers.canikickit || handshake.headers.canikickit !== 'yes you can!') { testFailed = true; return done('Could not connect due to missing header.'); } headerChecked(); return cb(); }}, done);
    });

    after(function(done) {
      if(runner.kill){runner.kill();}
      sails.lower(function(){setTimeout(done, 100);});
    });

    before(function() {
      sails.router.bind("/", function (req, res) {
        // CHANGED (1): `autoConnect="false"`, and `io.socket` connected on a tick of the page's own.
        var html = '<html><head></head><body><script type="text/javascript" src="/sails.io.js#production" transports=\'["polling"]\' autoConnect="false"></script><script type="text/javascript">io.sails.initialConnectionHeaders={canikickit: \'yes you can!\'}; setTimeout(function () { io.socket = io.sails.connect(); }, 0);</script></body></html>';
        return res.send(html);
      });
    });
    after(function() {
      if(runner.kill){runner.kill();}
    });
    it('should pass the header to the server with the initial connection', function(done) {
      runner = phantom("http://localhost:"+sails.config.port+"/");
      // CHANGED (2): waits for the check instead of 1 s.
      checked.then(function() { return done(); });
    });

  });

});
