// Bursts with the real sails.io.js, against both servers of the interop app:
// a flood of requests is answered in full, a flood of broadcasts reaches the
// other member whole and in order, and a request's own `cookie` and `origin`
// headers do not replace the socket's.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { sailsIo, request, within, serverWithSockets } from "./harness.mjs";
import { interopServers } from "./servers.mjs";

const io = sailsIo();
const FLOOD = 20_000;
// Sails answers a request in about 0.3-0.6 ms of CPU; a generous bound for either server.
const FLOOD_MS = 180_000;

/** Sends `count` requests at once; resolves with their answers, in order. */
function flood(socket, count, options) {
  const answers = [];
  for (let n = 0; n < count; n++) {
    answers.push(
      new Promise((resolve) => socket.request(options(n), (body, jwr) => resolve({ body, jwr }))),
    );
  }
  return within(Promise.all(answers), `${count} requests`, FLOOD_MS);
}

for (const target of interopServers()) {
  describe(`bursts: ${target.name}`, { skip: target.skip }, () => {
    const { open } = serverWithSockets(io, target.start);

    test(`${FLOOD} requests sent at once are all answered`, async () => {
      const socket = await open();
      const answers = await flood(socket, FLOOD, () => ({ method: "get", url: "/hello" }));
      assert.equal(answers.filter(({ body }) => body === "ok!").length, FLOOD);

      const pets = await flood(socket, FLOOD / 2, (n) => ({
        method: "post",
        url: "/pets",
        data: { id: 100_000 + n, name: "rex" },
      }));
      assert.deepEqual(
        pets.map(({ jwr }) => jwr.statusCode).filter((status) => status !== 201),
        [],
      );
      assert.deepEqual(
        pets.map(({ body }) => body.id),
        pets.map((_, n) => 100_000 + n),
      );
    });

    test(`${FLOOD} broadcasts sent at once reach the other member whole and in order`, async () => {
      const [sender, member] = [await open(), await open()];
      await request(member, { method: "put", url: "/rooms/burst/join" });
      const heard = [];
      const all = new Promise((resolve) => {
        member.on("said", (n) => {
          heard.push(n);
          if (heard.length === FLOOD) resolve();
        });
      });
      const answers = await flood(sender, FLOOD, (n) => ({
        method: "post",
        url: "/rooms/burst/broadcast",
        data: { event: "said", data: n },
      }));
      assert.equal(answers.filter(({ jwr }) => jwr.statusCode === 200).length, FLOOD);
      await within(all, `${FLOOD} broadcasts`, FLOOD_MS);
      assert.deepEqual(
        heard,
        heard.map((_, n) => n),
      );
    });

    test("a request's own cookie and origin headers do not replace the socket's", async () => {
      const [owner, other] = [await open(), await open()];
      const count = async (socket, headers) =>
        (await request(socket, { method: "get", url: "/count", headers })).body;
      assert.equal(await count(owner), 1);
      assert.equal(await count(owner), 2);
      const cookie = (await request(owner, { method: "get", url: "/echo" })).body.headers.cookie;
      assert.ok(cookie, "the owner's requests carry its session cookie");

      const claims = { cookie, origin: "http://elsewhere.example" };
      const { body } = await request(other, { method: "get", url: "/echo", headers: claims });
      assert.notEqual(body.headers.cookie, cookie);
      assert.notEqual(body.headers.origin, "http://elsewhere.example");
      assert.equal(await count(other, claims), 1, "the other socket counts in its own session");
      assert.equal(await count(owner), 3);
    });
  });
}
