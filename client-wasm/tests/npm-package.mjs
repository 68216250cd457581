// Checks the npm package (client-wasm/pkg, from `cargo xtask build`) the way a
// bundler uses it: an ES module importing its .wasm, nothing global touched.
// Run: node --experimental-wasm-modules client-wasm/tests/npm-package.mjs <interop URL>
// (Node has no WebSocket before v22: `ws` from tests/node_modules stands in.)
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const url = process.argv[2] || process.env.SAILS_TEST_URL;
if (!url) throw new Error("pass the interop server's URL (or set SAILS_TEST_URL)");
const root = fileURLToPath(new URL("../..", import.meta.url));
if (typeof WebSocket === "undefined") {
  globalThis.WebSocket = (await import(`${root}tests/node_modules/ws/index.js`)).default;
}
const before = new Set(Object.keys(globalThis));
const pkg = await import(`${root}client-wasm/pkg/sails_io_wasm.js`);
assert.deepEqual(Object.keys(pkg).sort(), ["connect", "createSocket", "install", "sails", "sdkVersionString"]);
assert.deepEqual(Object.keys(globalThis).filter((key) => !before.has(key)), [], "no globals");

pkg.sails().environment = "production"; // no console notices
const timer = setTimeout(() => {
  console.error("npm package: timed out");
  process.exit(1);
}, 10_000);
const socket = pkg.connect(url, {});
const { body, jwr } = await socket.get("/hello");
assert.deepEqual([body, jwr.statusCode], ["ok!", 200]);
socket.disconnect();
clearTimeout(timer);
console.log("npm package: ok");
