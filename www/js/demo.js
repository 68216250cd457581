// What the demo pages share. Written against the sails.io.js callback API, so
// that the pages run unchanged on the original client too.
var demo = {
  /** The element with this id. */
  $: function (id) {
    return document.getElementById(id);
  },

  /** `io.socket.request` as a promise of the body; a 4xx/5xx answer rejects. */
  send: function (method, url, data) {
    return new Promise(function (resolve, reject) {
      io.socket.request({ method: method, url: url, data: data }, function (body, jwr) {
        if (jwr.statusCode >= 200 && jwr.statusCode < 400) resolve(body);
        else reject(new Error(method.toUpperCase() + " " + url + ": " + jwr.statusCode));
      });
    });
  },

  /**
   * Runs `handler` on every `connect`, and at once if the socket is already
   * connected (if anything delays the page's script, the browser may run the
   * client's autoconnect, and the whole connection, first).
   */
  onConnect: function (handler) {
    io.socket.on("connect", handler);
    if (io.socket.isConnected()) handler();
  },

  /** The connection line: `state` styles it (connected, reconnecting, …). */
  setStatus: function (state, text) {
    var status = document.getElementById("status");
    status.dataset.state = state;
    status.textContent = text;
  },

  /** Shows an error (or clears it) in the page's `#error` line. */
  showError: function (error) {
    document.getElementById("error").textContent = error ? String(error.message || error) : "";
  },
};
