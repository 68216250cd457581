// In place of the suite's helpers/setupRoutes.js, which binds routes answering
// `expectedResponses` on the Sails app it lifted: the server under test serves
// those routes itself (the app of the contract), so this only checks that it
// has each of them.
'use strict';

module.exports = function setupRoutes(expectedResponses) {
  return function bindRoutes() {
    for (const address of Object.keys(expectedResponses)) global.sails.router.bind(address);
  };
};
