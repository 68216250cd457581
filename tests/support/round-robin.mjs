// A TCP load balancer for tests: each new connection goes to the next
// backend in turn, skipping one that refuses it, as a load balancer in front
// of many servers does. WebSocket-only clients need no sticky sessions.
import { createServer, connect } from "node:net";

/**
 * Listens on a free port of 127.0.0.1 in front of `backends` (URLs);
 * resolves with `{url, connections, close}`: `connections` lists, in order,
 * `{backend, request}` for each accepted connection: the backend's URL and
 * the connection's first line (`GET /socket.io/?…transport=websocket HTTP/1.1`).
 */
export async function startRoundRobin(backends) {
  const targets = backends.map((url) => new URL(url));
  const connections = [];
  const open = new Set();
  let next = 0;

  function forward(client, tried = 0) {
    if (tried === targets.length) {
      client.destroy();
      return;
    }
    const target = targets[next];
    next = (next + 1) % targets.length;
    const upstream = connect(Number(target.port), target.hostname);
    let connected = false;
    upstream.on("error", () => {
      if (connected) client.destroy();
      else forward(client, tried + 1);
    });
    upstream.once("connect", () => {
      connected = true;
      const connection = { backend: target.origin, request: "" };
      connections.push(connection);
      client.once("data", (chunk) => {
        connection.request = chunk.toString("latin1", 0, Math.min(chunk.length, 512)).split("\r\n")[0];
      });
      open.add(upstream);
      upstream.once("close", () => {
        open.delete(upstream);
        client.destroy();
      });
      client.once("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  const server = createServer({ pauseOnConnect: true }, (client) => {
    client.on("error", () => client.destroy());
    forward(client);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    connections,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
