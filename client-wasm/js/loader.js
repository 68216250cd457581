// Runs right after the wasm-bindgen glue, inside the same closure: `wasm_bindgen`
// is the glue's init function. Defines `io` synchronously, then loads the wasm
// module that sits beside this script (`sails.io_bg.wasm`).
var io = (globalThis.io = globalThis.io || {});
io.sails = io.sails || {};
io.sails.ready = wasm_bindgen().then(function () {
  io.sails.sdk = { versionString: wasm_bindgen.sdkVersionString() };
  return io.sails;
});
