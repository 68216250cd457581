// In place of the `request` package (2.74.0, deprecated), of which the suite
// uses `request.get(url, cb(err, response))` and `response.headers`.
'use strict';

const REQUEST_TIMEOUT_MS = 10_000;

function get(url, cb) {
  fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(async (response) => {
    const headers = Object.fromEntries(response.headers);
    headers['set-cookie'] = response.headers.getSetCookie();
    const body = await response.text();
    cb(null, { statusCode: response.status, headers, body }, body);
  }, (error) => cb(error));
}

module.exports = { get };
