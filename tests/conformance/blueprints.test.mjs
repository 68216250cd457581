// Blueprints of the interop app's two models (`user`, `pet`), run the same way
// against each server in BLUEPRINT_SERVERS: every answer (status, headers, body)
// and every message each of three sails.io.js sockets received, asserted as Sails
// 1.5.18 gives them. Each scenario starts its own server, so record ids are the
// store's own, from 1. Timestamps are normalised; each scenario's transcript is
// written to tests/artifacts/blueprints/<server>/ for comparing servers.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sailsIo, connect, request, close, WAIT_MS } from "./harness.mjs";
import { interopServers, ourInteropOnPostgres } from "./servers.mjs";
import { stopPostgres } from "../support/postgres.mjs";

/** The servers this suite runs against: ours (its models on SQLite in memory, and on PostgreSQL) and the Sails app, the reference. */
const BLUEPRINT_SERVERS = [...interopServers(), ourInteropOnPostgres()];
after(stopPostgres);

const ARTIFACTS = fileURLToPath(new URL("../artifacts/blueprints/", import.meta.url));
const SOCKET_NAMES = ["A", "B", "C"];
const EVENTS = ["pet", "user"];
// sails.io.js augments socket.io-client once per process.
const io = sailsIo();

/** Stands for a `createdAt` / `updatedAt` set by the server during the scenario. */
const NOW = "<now>";

/** A pet as the store answers it: `owner` a user record, an id, or null. */
function pet(id, name, { species = "", owner = null } = {}) {
  return { createdAt: NOW, updatedAt: NOW, id, name, species, owner };
}

/** A user; `pets` (records whose `owner` is an id) only when populated. */
function user(id, name, pets) {
  return { ...(pets === undefined ? {} : { pets }), createdAt: NOW, updatedAt: NOW, id, name };
}

/** What each socket heard, in order, as `[event, payload]`; sockets left out heard nothing. */
function heard(messages = {}) {
  return Object.fromEntries(SOCKET_NAMES.map((name) => [name, messages[name] ?? []]));
}

/**
 * On purpose, our `details` of a usage error are our own sentence (naming the
 * attribute, the rule or the modifier), not Waterline's exact wording; the
 * code, the message and the status are Sails'. Against ours, a non-empty
 * `details` stands for the expected one (the transcripts keep the text).
 */
const OUR_WORDING = "(our own wording of the details)";

/** The server kind of the scenario running (scenarios run one at a time). */
let runningKind = "sails";

/**
 * An outcome as compared: a usage error's non-empty `details` from ours as
 * OUR_WORDING; the body as answered stays readable as `raw` (not enumerable,
 * so comparisons ignore it).
 */
function comparable(outcome) {
  const compared = { ...outcome, body: comparableBody(outcome.body) };
  Object.defineProperty(compared, "raw", { value: outcome.body, enumerable: false });
  return compared;
}

function comparableBody(body) {
  if (runningKind !== "ours" || !body || typeof body !== "object" || Array.isArray(body)) return body;
  if (typeof body.code !== "string" || typeof body.details !== "string" || body.details === "") return body;
  return { ...body, details: OUR_WORDING };
}

/** A 400 answer of a blueprint action for a usage error, as `formatUsageError` words it. */
function usageError(code, details, method, path) {
  return {
    code,
    details: runningKind === "ours" ? OUR_WORDING : details,
    message:
      `The server could not fulfill this request (\`${method} ${path}\`) due to a problem with the parameters that were sent.  ` +
      "See the `details` for more info.  **The following additional tip will not be shown in production**:  " +
      "Tip: Check your client-side code to make sure that the request data it sends matches the expectations of the " +
      "corresponding attributes in your model.  Also check that your client-side code sends data for every required attribute.",
  };
}

const NOT_A_NUMBER_ID = (value) =>
  "Could not use the provided `where` clause.  Could not filter by `id`: Does not match the declared data type of the " +
  `corresponding attribute.  1 error validating value: \n • Specified value (a string: '${value}') doesn't match the expected type: 'number'`;

/**
 * A scenario's world: a fresh server, sockets A, B and C listening for `pet` and
 * `user`, and steps that record what each request got and what each socket heard.
 */
async function openWorld(target) {
  const startedAt = Date.now();
  const transcript = [];
  const sockets = {};
  const inbox = Object.fromEntries(SOCKET_NAMES.map((name) => [name, []]));
  const server = await target.start();

  /** Timestamps the server set since the scenario began become NOW; anything else stays. */
  function normalise(value) {
    return JSON.parse(JSON.stringify(value), (key, item) =>
      (key === "createdAt" || key === "updatedAt") && typeof item === "number" && item >= startedAt && item <= Date.now()
        ? NOW
        : item,
    );
  }

  /** Once every socket has had an answer after the step, it has every message the step sent. */
  async function collectHeard() {
    await Promise.all(SOCKET_NAMES.map((name) => request(sockets[name], { method: "get", url: "/hello" })));
    return Object.fromEntries(SOCKET_NAMES.map((name) => [name, normalise(inbox[name].splice(0))]));
  }

  function record(step, outcome) {
    transcript.push({ step, ...outcome });
    return outcome;
  }

  const world = {
    /** A virtual request from socket `name`: `{status, headers, body, heard}`. */
    async socket(name, method, url, data) {
      const { jwr } = await request(sockets[name], { method, url, data, headers: {} });
      // Our JWRs name the response's content-type on purpose (Sails drops it;
      // both-servers.test.mjs pins that difference): left out of the comparison.
      const { "content-type": _type, ...headers } = jwr.headers || {};
      const outcome = { status: jwr.statusCode, headers, body: normalise(jwr.body), heard: await collectHeard() };
      record(`socket ${name}: ${method.toUpperCase()} ${url}`, outcome);
      return comparable(outcome);
    },

    /** The same over HTTP (JSON body when `data` is given): `{status, type, body, heard}`. */
    async http(method, url, data) {
      const init = { method: method.toUpperCase(), signal: AbortSignal.timeout(WAIT_MS) };
      if (data !== undefined) Object.assign(init, { headers: { "content-type": "application/json" }, body: JSON.stringify(data) });
      const response = await fetch(`${server.url}${url}`, init);
      const text = await response.text();
      // The media type alone: Sails adds `; charset=utf-8` to JSON, which
      // means nothing for JSON (RFC 8259) and which ours leaves out.
      const type = response.headers.get("content-type")?.split(";")[0];
      const body = type?.startsWith("application/json") ? JSON.parse(text) : text;
      const outcome = { status: response.status, type, body: normalise(body), heard: await collectHeard() };
      record(`http: ${method.toUpperCase()} ${url}`, outcome);
      return comparable(outcome);
    },

    /** The rooms socket `name` is in, sorted, its own id room aside. */
    async rooms(name) {
      const { jwr } = await request(sockets[name], { method: "get", url: "/me" });
      return record(`rooms of ${name}`, { rooms: jwr.body.rooms }).rooms;
    },

    /** Writes the transcript as tests/artifacts/blueprints/<server>/<title>.json. */
    save(title) {
      const dir = `${ARTIFACTS}${target.artifacts ?? target.kind}/`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}${title.replace(/[^a-z0-9]+/gi, "-")}.json`, `${JSON.stringify(transcript, null, 1)}\n`);
    },

    async close() {
      Object.values(sockets).forEach(close);
      await server.stop();
    },
  };

  try {
    for (const name of SOCKET_NAMES) {
      sockets[name] = await connect(io, server.url);
      for (const event of EVENTS) sockets[name].on(event, (data) => inbox[name].push([event, data]));
    }
  } catch (error) {
    await world.close();
    throw error;
  }
  return world;
}

/** A scenario on a fresh server: `body(world)`, its transcript saved whatever the outcome. */
function scenario(target, title, body, { skip = false } = {}) {
  test(title, { skip }, async () => {
    runningKind = target.kind;
    const world = await openWorld(target);
    try {
      await body(world);
    } finally {
      world.save(title);
      await world.close();
    }
  });
}

/** Creates users, then pets, over HTTP, before any socket has subscribed to anything. */
async function seed(world, { users = [], pets = [] }) {
  for (const name of users) assert.equal((await world.http("post", "/user", { name })).status, 200);
  for (const values of pets) assert.equal((await world.http("post", "/pet", values)).status, 200);
}

const JSON_TYPE = "application/json";
const TEXT_TYPE = "text/plain";

for (const target of BLUEPRINT_SERVERS) {
  describe(`blueprints: ${target.name}`, { skip: target.skip }, () => {
    scenario(target, "create, update and destroy reach watchers and subscribers, the requester omitted", async (w) => {
      assert.deepEqual(await w.socket("A", "get", "/pet"), { status: 200, headers: {}, body: [], heard: heard() });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet"]);

      const rex = pet(1, "Rex", { species: "dog" });
      assert.deepEqual(await w.socket("B", "post", "/pet", { name: "Rex", species: "dog" }), {
        status: 200,
        headers: {},
        body: rex,
        heard: heard({ A: [["pet", { verb: "created", data: rex, id: 1 }]] }),
      });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet", "sails_model_pet_1:pet"]);
      assert.deepEqual(await w.rooms("B"), ["sails_model_pet_1:pet"]);

      assert.deepEqual(await w.socket("C", "post", "/user", { name: "Ann" }), {
        status: 200,
        headers: {},
        body: user(1, "Ann", []),
        heard: heard(),
      });
      assert.deepEqual(await w.rooms("C"), ["sails_model_user_1:user"]);

      const max = pet(1, "Max", { species: "dog" });
      const updatedToMax = ["pet", { verb: "updated", data: { name: "Max", id: 1, updatedAt: NOW }, id: 1, previous: rex }];
      assert.deepEqual(await w.socket("B", "patch", "/pet/1", { name: "Max" }), {
        status: 200,
        headers: {},
        body: max,
        heard: heard({ A: [updatedToMax] }),
      });

      const cat = pet(1, "Max", { species: "cat" });
      const updatedToCat = ["pet", { verb: "updated", data: { species: "cat", id: 1, updatedAt: NOW }, id: 1, previous: max }];
      assert.deepEqual(await w.socket("C", "put", "/pet/1", { species: "cat" }), {
        status: 200,
        headers: {},
        body: cat,
        heard: heard({ A: [updatedToCat], B: [updatedToCat] }),
      });
      assert.deepEqual(await w.rooms("C"), ["sails_model_pet_1:pet", "sails_model_user_1:user"]);

      const bo = pet(1, "Bo", { species: "cat" });
      const updatedToBo = ["pet", { verb: "updated", data: { name: "Bo", id: 1, updatedAt: NOW }, id: 1, previous: cat }];
      assert.deepEqual(await w.http("patch", "/pet/1", { name: "Bo" }), {
        status: 200,
        type: JSON_TYPE,
        body: bo,
        heard: heard({ A: [updatedToBo], B: [updatedToBo], C: [updatedToBo] }),
      });

      assert.deepEqual(await w.socket("A", "get", "/pet/1"), { status: 200, headers: {}, body: bo, heard: heard() });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet", "sails_model_create_user", "sails_model_pet_1:pet"]);

      const destroyed = ["pet", { verb: "destroyed", id: 1, previous: bo }];
      assert.deepEqual(await w.socket("A", "delete", "/pet/1"), {
        status: 200,
        headers: {},
        body: bo,
        heard: heard({ B: [destroyed], C: [destroyed] }),
      });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet", "sails_model_create_user"]);
      assert.deepEqual(await w.rooms("B"), ["sails_model_pet_1:pet"]);
      assert.deepEqual(await w.socket("A", "get", "/pet/1"), { status: 404, headers: {}, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.http("delete", "/pet/1"), { status: 404, type: TEXT_TYPE, body: "Not Found", heard: heard() });

      // Over HTTP, nobody is omitted, and the watchers are introduced to the new record.
      const kit = pet(2, "Kit");
      assert.deepEqual(await w.http("post", "/pet", { name: "Kit" }), {
        status: 200,
        type: JSON_TYPE,
        body: kit,
        heard: heard({ A: [["pet", { verb: "created", data: kit, id: 2 }]] }),
      });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet", "sails_model_create_user", "sails_model_pet_2:pet"]);
    });

    scenario(target, "find: criteria, paging, sorting, projection and population", async (w) => {
      await seed(w, {
        users: ["Ann", "Bob"],
        pets: [
          { name: "Rex", species: "dog", owner: 1 },
          { name: "Tom", species: "cat" },
          { name: "Kit", species: "cat", owner: 2 },
        ],
      });
      const [ann, bob] = [user(1, "Ann"), user(2, "Bob")];
      const rex = pet(1, "Rex", { species: "dog", owner: ann });
      const tom = pet(2, "Tom", { species: "cat" });
      const kit = pet(3, "Kit", { species: "cat", owner: bob });
      const find = async (query, data) => {
        const { status, headers, body, heard: messages } = await w.socket("A", "get", `/pet${query}`, data);
        assert.deepEqual([headers, messages], [{}, heard()], query);
        return [status, body];
      };
      const where = (clause) => `?where=${encodeURIComponent(typeof clause === "string" ? clause : JSON.stringify(clause))}`;

      assert.deepEqual(await find(""), [200, [rex, tom, kit]]);
      assert.deepEqual(await w.rooms("A"), [
        "sails_model_create_pet",
        "sails_model_create_user",
        "sails_model_pet_1:pet",
        "sails_model_pet_2:pet",
        "sails_model_pet_3:pet",
        "sails_model_user_1:user",
        "sails_model_user_2:user",
      ]);
      assert.deepEqual(await find(where({ species: "cat" })), [200, [tom, kit]]);
      assert.deepEqual(await find("", { where: { name: { startsWith: "T" } } }), [200, [tom]]);
      assert.deepEqual(await find("?species=cat&limit=1&skip=1"), [200, [kit]]);
      assert.deepEqual(await find("", { name: "Rex" }), [200, [rex]]);
      assert.deepEqual(await find(where({ id: { ">": 1 } })), [200, [tom, kit]]);
      assert.deepEqual(await find(where({ or: [{ name: "Rex" }, { id: 2 }] })), [200, [rex, tom]]);
      assert.deepEqual(await find(where({ name: { contains: "o" } })), [200, [tom]]);
      assert.deepEqual(await find(where({ name: { in: ["Kit", "x"] } })), [200, [kit]]);
      assert.deepEqual(await find(where([1])), [200, [rex]]);
      assert.deepEqual(await find("?sort=name%20DESC"), [200, [tom, rex, kit]]);
      assert.deepEqual(await find(`?sort=${encodeURIComponent('[{"name":"ASC"}]')}`), [200, [kit, rex, tom]]);
      assert.deepEqual(await find("?limit=0"), [200, []]);
      assert.deepEqual(await find("?limit=-1"), [200, [rex, tom, kit]]);
      assert.deepEqual(await find("?limit=1000000"), [200, [rex, tom, kit]]);
      const only = (record, keys) => Object.fromEntries(keys.map((key) => [key, record[key]]));
      assert.deepEqual(await find("?select=name,species"), [200, [rex, tom, kit].map((p) => only(p, ["id", "name", "species", "owner"]))]);
      assert.deepEqual(await find("?omit=species,createdAt"), [200, [rex, tom, kit].map((p) => only(p, ["updatedAt", "id", "name", "owner"]))]);
      assert.deepEqual(await find("?populate=false"), [200, [{ ...rex, owner: 1 }, tom, { ...kit, owner: 2 }]]);
      assert.deepEqual(await find("?populate=owner"), [200, [rex, tom, kit]]);

      assert.deepEqual(await w.socket("B", "get", "/user"), {
        status: 200,
        headers: {},
        body: [user(1, "Ann", [{ ...rex, owner: 1 }]), user(2, "Bob", [{ ...kit, owner: 2 }])],
        heard: heard(),
      });
      assert.deepEqual((await w.socket("B", "get", "/user?populate=false")).body, [ann, bob]);
      assert.deepEqual(await w.http("get", "/pet?name=Rex"), { status: 200, type: JSON_TYPE, body: [rex], heard: heard() });
      assert.deepEqual(await w.http("get", "/pet/find?species=dog"), { status: 200, type: JSON_TYPE, body: [rex], heard: heard() });

      const invalid = (details) => [400, usageError("E_INVALID_CRITERIA", details, "GET", "/pet")];
      assert.deepEqual(
        await find(where({ name: { foo: 1 } })),
        invalid("Could not use the provided `where` clause.  Could not filter by `name`: Unrecognized modifier (`foo`) within provided constraint for `name`."),
      );
      const unknownColor =
        "Could not use the provided `where` clause.  Could not filter by `color`: `color` is not a recognized attribute for this model (`pet`).  " +
        "And since the model declares `schema: true`, this is not allowed.";
      assert.deepEqual(await find(where({ color: "red" })), invalid(unknownColor));
      assert.deepEqual(await find("?color=red"), invalid(unknownColor));
      assert.deepEqual(await find(where({ id: "abc" })), invalid(NOT_A_NUMBER_ID("abc")));
      assert.deepEqual(
        await find("?skip=-1"),
        invalid(
          "The `skip` clause in the provided criteria is invalid.  If provided, it should be either zero (0), or a safe, natural number (e.g. 4).  But instead, got: -1",
        ),
      );
      assert.deepEqual(
        await find("?limit=abc"),
        invalid("The `limit` clause in the provided criteria is invalid.  If provided, it should be a safe, natural number.  But instead, got: NaN"),
      );
      assert.deepEqual(
        await find("?limit=9007199254740993"),
        invalid(
          "The `limit` clause in the provided criteria is invalid.  If provided, it should be a safe, natural number.  But instead, got: 9007199254740992",
        ),
      );
      assert.deepEqual(
        await find("?select=color"),
        invalid("The `select` clause in the provided criteria contains an item (`color`) which is not a recognized attribute in this model (`pet`)."),
      );
      assert.deepEqual(
        await find("?omit=id"),
        invalid(
          "The `omit` clause in the provided criteria explicitly attempts to omit the primary key (`id`).  But in the current version of Waterline, this is not possible.",
        ),
      );
      assert.deepEqual(await find("?populate=nothing"), [
        400,
        usageError("E_INVALID_POPULATES", "Could not populate `nothing`.  There is no attribute named `nothing` defined in this model.", "GET", "/pet"),
      ]);

      // A `where` that is not JSON: Sails throws before its usage-error handling,
      // so the answer is a 500 whose body (in development) is the error's stack.
      // The contract lets our server answer 400 instead; the text says why either way.
      for (const outcome of [await w.socket("A", "get", `/pet${where("{bad")}`), await w.http("get", `/pet${where("{bad")}`)]) {
        assert.ok(target.kind === "sails" ? outcome.status === 500 : [400, 500].includes(outcome.status), `status ${outcome.status}`);
        const text = typeof outcome.raw === "string" ? outcome.raw : outcome.raw.details;
        assert.match(text, /Could not JSON\.parse\(\) the provided `where` clause\. Here is the raw error: /);
      }
    });

    scenario(target, "findOne and populate subscribe to associated records and watch associated models", async (w) => {
      await seed(w, { users: ["Ann", "Bob"], pets: [{ name: "Rex", species: "dog", owner: 1 }, { name: "Tom" }, { name: "Kit", owner: 2 }] });
      const ann = user(1, "Ann");
      const rex = pet(1, "Rex", { species: "dog", owner: ann });

      assert.deepEqual(await w.socket("A", "get", "/pet/1"), { status: 200, headers: {}, body: rex, heard: heard() });
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_user", "sails_model_pet_1:pet", "sails_model_user_1:user"]);
      assert.deepEqual(await w.socket("B", "get", "/user/1"), {
        status: 200,
        headers: {},
        body: user(1, "Ann", [{ ...rex, owner: 1 }]),
        heard: heard(),
      });
      assert.deepEqual(await w.rooms("B"), ["sails_model_create_pet", "sails_model_pet_1:pet", "sails_model_user_1:user"]);
      assert.deepEqual(await w.socket("C", "get", "/pet/1?populate=false"), { status: 200, headers: {}, body: { ...rex, owner: 1 }, heard: heard() });
      assert.deepEqual(await w.rooms("C"), ["sails_model_create_user", "sails_model_pet_1:pet"]);
      assert.deepEqual((await w.socket("C", "get", "/pet/1?select=name")).body, { id: 1, name: "Rex", owner: ann });
      const { species: _omitted, ...rexWithoutSpecies } = rex;
      assert.deepEqual((await w.socket("C", "get", "/pet/find/1?omit=species")).body, rexWithoutSpecies);

      assert.deepEqual(await w.socket("C", "get", "/user/2/pets"), {
        status: 200,
        headers: {},
        body: [pet(3, "Kit", { owner: 2 })],
        heard: heard(),
      });
      assert.deepEqual(await w.rooms("C"), [
        "sails_model_create_pet",
        "sails_model_create_user",
        "sails_model_pet_1:pet",
        "sails_model_pet_3:pet",
        "sails_model_user_1:user",
        "sails_model_user_2:user",
      ]);
      assert.deepEqual(await w.http("get", "/pet/1/owner"), { status: 200, type: JSON_TYPE, body: ann, heard: heard() });
      assert.deepEqual(await w.http("get", "/pet/2/owner"), { status: 404, type: TEXT_TYPE, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.http("get", "/user/9/pets"), { status: 404, type: TEXT_TYPE, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.socket("A", "get", "/pet/99"), { status: 404, headers: {}, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.socket("A", "get", "/pet/abc"), {
        status: 400,
        headers: {},
        body: usageError("E_INVALID_CRITERIA", NOT_A_NUMBER_ID("abc"), "GET", "/pet/abc"),
        heard: heard(),
      });
    });

    scenario(target, "create: defaults, coercion, validation errors and association messages", async (w) => {
      await seed(w, { users: ["Ann"] });
      assert.equal((await w.socket("A", "get", "/user/1")).status, 200);
      assert.deepEqual(await w.socket("B", "get", "/pet"), { status: 200, headers: {}, body: [], heard: heard() });

      const missingName = usageError(
        "E_INVALID_NEW_RECORD",
        "Missing value for required attribute `name`.  Expected a string, but instead, got: undefined",
        "POST",
        "/pet",
      );
      assert.deepEqual(await w.socket("C", "post", "/pet", { species: "dog" }), { status: 400, headers: {}, body: missingName, heard: heard() });
      assert.deepEqual(await w.http("post", "/pet", { species: "dog" }), { status: 400, type: JSON_TYPE, body: missingName, heard: heard() });
      assert.deepEqual((await w.socket("C", "post", "/pet", { name: null })).body, usageError(
        "E_INVALID_NEW_RECORD",
        "New record contains the wrong type of data for property `name`.  Specified value is not a valid `name`.  1 error validating value: \n" +
          " • Specified value (a null: null) doesn't match the expected type: 'string'",
        "POST",
        "/pet",
      ));
      assert.deepEqual((await w.socket("C", "post", "/pet", { name: "" })).body, usageError(
        "E_INVALID_NEW_RECORD",
        'Could not use specified `name`.  Cannot set "" (empty string) for a required attribute.',
        "POST",
        "/pet",
      ));
      assert.equal((await w.socket("C", "post", "/pet", { name: "Rex", owner: "abc" })).body.code, "E_INVALID_NEW_RECORD");

      // Loose coercion to the attribute's type; unknown attributes dropped.
      const five = pet(1, "5", { species: "7" });
      assert.deepEqual(await w.socket("C", "post", "/pet", { name: 5, species: 7, color: "red" }), {
        status: 200,
        headers: {},
        body: five,
        heard: heard({ A: [["pet", { verb: "created", data: five, id: 1 }]], B: [["pet", { verb: "created", data: five, id: 1 }]] }),
      });
      assert.deepEqual(await w.rooms("C"), ["sails_model_pet_1:pet"]);

      // An owner: its subscribers hear `addedTo` before the watchers hear `created`.
      const rex = pet(2, "Rex", { owner: user(1, "Ann") });
      const created = ["pet", { verb: "created", data: rex, id: 2 }];
      assert.deepEqual(await w.socket("C", "post", "/pet", { name: "Rex", owner: 1 }), {
        status: 200,
        headers: {},
        body: rex,
        heard: heard({ A: [["user", { id: 1, verb: "addedTo", attribute: "pets", addedId: 2 }], created], B: [created] }),
      });

      // A user created with pets: each pet's room hears its new owner (no `previous`),
      // then the previous owner's room hears `removedFrom`.
      const bothToBob = [1, 2].map((id) => ["pet", { verb: "updated", data: { owner: 2 }, id }]);
      assert.deepEqual(await w.http("post", "/user", { name: "Bob", pets: [1, 2] }), {
        status: 200,
        type: JSON_TYPE,
        body: user(2, "Bob", [{ ...five, owner: 2 }, { ...rex, owner: 2 }]),
        heard: heard({
          A: [...bothToBob, ["user", { id: 1, verb: "removedFrom", attribute: "pets", removedId: 2 }]],
          B: bothToBob,
          C: bothToBob,
        }),
      });

      // Shortcut: values from the query string.
      const tom = pet(3, "Tom", { species: "cat" });
      assert.deepEqual(await w.socket("C", "get", "/pet/create?name=Tom&species=cat"), {
        status: 200,
        headers: {},
        body: tom,
        heard: heard({ A: [["pet", { verb: "created", data: tom, id: 3 }]], B: [["pet", { verb: "created", data: tom, id: 3 }]] }),
      });
      assert.deepEqual((await w.http("get", "/pet/create?species=cat")).body, { ...missingName, message: missingName.message.replace("POST /pet", "GET /pet/create") });
    });

    scenario(target, "update: changed values, previous record, owner changes and errors", async (w) => {
      await seed(w, { users: ["Ann", "Bob"], pets: [{ name: "Rex", owner: 1 }] });
      const [ann, bob] = [user(1, "Ann"), user(2, "Bob")];
      await w.socket("A", "get", "/user/1");
      await w.socket("B", "get", "/user/2");
      await w.socket("C", "get", "/pet/1");
      const rex = pet(1, "Rex", { owner: ann });

      // The requester (C) is left out of everything it causes.
      const moved = pet(1, "Rex", { owner: bob });
      const toBob = ["pet", { verb: "updated", data: { owner: 2, id: 1, updatedAt: NOW }, id: 1, previous: rex }];
      assert.deepEqual(await w.socket("C", "patch", "/pet/1", { owner: 2 }), {
        status: 200,
        headers: {},
        body: moved,
        heard: heard({
          A: [["user", { id: 1, verb: "removedFrom", attribute: "pets", removedId: 1 }], toBob],
          B: [["user", { id: 2, verb: "addedTo", attribute: "pets", addedId: 1 }]],
        }),
      });

      const ownerless = pet(1, "Rex");
      const toNobody = ["pet", { verb: "updated", data: { owner: null, id: 1, updatedAt: NOW }, id: 1, previous: moved }];
      assert.deepEqual(await w.http("put", "/pet/1", { owner: null }), {
        status: 200,
        type: JSON_TYPE,
        body: ownerless,
        heard: heard({
          A: [toNobody],
          B: [["user", { id: 2, verb: "removedFrom", attribute: "pets", removedId: 1 }]],
          C: [toNobody],
        }),
      });

      // An `id` in the values is ignored, unknown attributes dropped, an empty update still bumps updatedAt.
      const zed = pet(1, "Zed");
      assert.deepEqual((await w.socket("A", "patch", "/pet/1", { id: 7, name: "Zed", color: "red" })).heard, heard({
        C: [["pet", { verb: "updated", data: { name: "Zed", id: 1, updatedAt: NOW }, id: 1, previous: ownerless }]],
      }));
      assert.deepEqual(await w.socket("A", "patch", "/pet/1", {}), {
        status: 200,
        headers: {},
        body: zed,
        heard: heard({
          C: [["pet", { verb: "updated", data: { id: 1, updatedAt: NOW }, id: 1, previous: zed }]],
        }),
      });
      assert.deepEqual(await w.socket("A", "get", "/pet/update/1?species=7"), {
        status: 200,
        headers: {},
        body: pet(1, "Zed", { species: "7" }),
        heard: heard({
          C: [["pet", { verb: "updated", data: { species: "7", id: 1, updatedAt: NOW }, id: 1, previous: zed }]],
        }),
      });

      assert.deepEqual(await w.socket("B", "patch", "/pet/1", { name: null }), {
        status: 400,
        headers: {},
        body: usageError(
          "E_INVALID_VALUES_TO_SET",
          "Could not use specified `name`.  Specified value is not a valid `name`.  1 error validating value: \n" +
            " • Specified value (a null: null) doesn't match the expected type: 'string'",
          "PATCH",
          "/pet/1",
        ),
        heard: heard(),
      });
      assert.deepEqual(await w.socket("B", "patch", "/pet/99", { name: "x" }), { status: 404, headers: {}, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.http("patch", "/pet/abc", { name: "x" }), {
        status: 400,
        type: JSON_TYPE,
        body: usageError("E_INVALID_CRITERIA", NOT_A_NUMBER_ID("abc"), "PATCH", "/pet/abc"),
        heard: heard(),
      });
      assert.deepEqual((await w.socket("B", "get", "/pet/update/99?name=x")).status, 404);
    });

    scenario(target, "destroy: previous record, owner and pets told, rooms left", async (w) => {
      await seed(w, { users: ["Ann", "Bob"], pets: [{ name: "Rex", owner: 1 }, { name: "Tom", owner: 2 }] });
      const ann = user(1, "Ann");
      await w.socket("A", "get", "/user/1");
      await w.socket("B", "get", "/pet");
      const rex = pet(1, "Rex", { owner: ann });

      const rexGone = ["pet", { verb: "destroyed", id: 1, previous: rex }];
      const annLostRex = ["user", { id: 1, verb: "removedFrom", attribute: "pets", removedId: 1 }];
      assert.deepEqual(await w.socket("C", "delete", "/pet/1"), {
        status: 200,
        headers: {},
        body: rex,
        heard: heard({ A: [rexGone, annLostRex], B: [rexGone, annLostRex] }),
      });
      // Class-room members leave the destroyed record's room.
      assert.deepEqual(await w.rooms("A"), ["sails_model_create_pet", "sails_model_user_1:user"]);
      assert.deepEqual(await w.rooms("B"), [
        "sails_model_create_pet",
        "sails_model_create_user",
        "sails_model_pet_2:pet",
        "sails_model_user_1:user",
        "sails_model_user_2:user",
      ]);

      // Destroying a user leaves its pets without an owner (cascadeOnDestroy).
      const bobWithTom = user(2, "Bob", [pet(2, "Tom", { owner: 2 })]);
      assert.deepEqual(await w.socket("C", "delete", "/user/2"), {
        status: 200,
        headers: {},
        body: bobWithTom,
        heard: heard({
          B: [["user", { verb: "destroyed", id: 2, previous: bobWithTom }], ["pet", { verb: "updated", data: { owner: null }, id: 2 }]],
        }),
      });
      assert.deepEqual((await w.http("get", "/pet/2")).body, pet(2, "Tom"));
      assert.deepEqual((await w.http("get", "/pet/destroy/2")).heard, heard({ B: [["pet", { verb: "destroyed", id: 2, previous: pet(2, "Tom") }]] }));
      // Over HTTP too: the watchers leave the room of a destroyed record.
      assert.deepEqual(await w.rooms("B"), ["sails_model_create_pet", "sails_model_create_user", "sails_model_user_1:user"]);

      assert.deepEqual(await w.socket("C", "delete", "/pet/99"), { status: 404, headers: {}, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.http("delete", "/pet/99"), { status: 404, type: TEXT_TYPE, body: "Not Found", heard: heard() });
      assert.deepEqual(await w.http("delete", "/pet"), {
        status: 400,
        type: JSON_TYPE,
        body: usageError(
          "E_INVALID_CRITERIA",
          "Cannot `findOne()` without specifying a more specific `where` clause (the provided `where` clause, `{}`, is too broad).  " +
            "(If you want to work around this, use `.find().limit(1)`.)",
          "DELETE",
          "/pet",
        ),
        heard: heard(),
      });
    });

    scenario(target, "add, remove and replace publish addedTo, removedFrom and the children's owner", async (w) => {
      await seed(w, { users: ["Ann", "Bob"], pets: [{ name: "Rex", owner: 1 }, { name: "Tom" }] });
      await w.socket("A", "get", "/user/1");
      await w.socket("B", "get", "/user/2");
      await w.socket("C", "get", "/pet/2?populate=false");
      const rex = (owner) => pet(1, "Rex", { owner });
      const tom = (owner) => pet(2, "Tom", { owner });
      const userEvent = (id, verb, childId) =>
        ["user", verb === "addedTo" ? { id, verb, attribute: "pets", addedId: childId } : { id, verb, attribute: "pets", removedId: childId }];
      const ownerIs = (id, owner) => ["pet", { verb: "updated", data: { owner }, id }];

      assert.deepEqual(await w.socket("C", "put", "/user/1/pets/2"), {
        status: 200,
        headers: {},
        body: user(1, "Ann", [rex(1), tom(1)]),
        heard: heard({ A: [userEvent(1, "addedTo", 2)] }),
      });
      assert.deepEqual(await w.rooms("C"), ["sails_model_create_user", "sails_model_pet_2:pet", "sails_model_user_1:user"]);

      assert.deepEqual(await w.http("put", "/user/2/pets/2"), {
        status: 200,
        type: JSON_TYPE,
        body: user(2, "Bob", [tom(2)]),
        heard: heard({
          A: [userEvent(1, "removedFrom", 2)],
          B: [userEvent(2, "addedTo", 2)],
          C: [ownerIs(2, 2), userEvent(1, "removedFrom", 2)],
        }),
      });
      // Adding a child the parent already has: Sails tells the parent it was added and removed.
      assert.deepEqual((await w.http("put", "/user/2/pets/2")).heard, heard({
        B: [userEvent(2, "addedTo", 2), userEvent(2, "removedFrom", 2)],
        C: [ownerIs(2, 2)],
      }));

      assert.deepEqual(await w.http("delete", "/user/2/pets/2"), {
        status: 200,
        type: JSON_TYPE,
        body: user(2, "Bob", []),
        heard: heard({ B: [userEvent(2, "removedFrom", 2)], C: [ownerIs(2, null)] }),
      });

      assert.deepEqual(await w.socket("B", "put", "/user/2/pets", [1, 2]), {
        status: 200,
        headers: {},
        body: user(2, "Bob", [rex(2), tom(2)]),
        heard: heard({
          A: [ownerIs(1, 2), userEvent(1, "removedFrom", 1)],
          C: [ownerIs(2, 2), userEvent(1, "removedFrom", 1)],
        }),
      });
      assert.deepEqual(await w.http("put", "/user/2/pets", []), {
        status: 200,
        type: JSON_TYPE,
        body: user(2, "Bob", []),
        heard: heard({
          A: [ownerIs(1, null)],
          B: [userEvent(2, "removedFrom", 1), ownerIs(1, null), userEvent(2, "removedFrom", 2), ownerIs(2, null)],
          C: [ownerIs(2, null)],
        }),
      });
      assert.deepEqual((await w.http("get", "/user/1/pets/replace?pets=[1]")).body, user(1, "Ann", [rex(1)]));
      assert.deepEqual((await w.http("get", "/user/1/pets/add/2")).body, user(1, "Ann", [rex(1), tom(1)]));
      assert.deepEqual((await w.http("get", "/user/1/pets/remove/1")).body, user(1, "Ann", [tom(1)]));

      const notFound = { status: 404, type: TEXT_TYPE, body: "Not Found", heard: heard() };
      assert.deepEqual(await w.http("put", "/user/9/pets/1"), notFound);
      assert.deepEqual(await w.http("put", "/user/1/pets/9"), notFound);
      assert.deepEqual(await w.http("delete", "/user/9/pets/1"), notFound);
      assert.deepEqual(await w.http("put", "/pet/1/owner/1"), notFound);
      assert.deepEqual(await w.http("put", "/user/1/pets", { a: 1 }), {
        status: 400,
        type: JSON_TYPE,
        body: usageError(
          "E_INVALID_ASSOCIATED_IDS",
          "Expecting either an individual primary key value (a number) or a homogeneous array of primary key values (numbers).  " +
            "But instead got a undefined: undefined",
          "PUT",
          "/user/1/pets",
        ),
        heard: heard(),
      });
    });

    scenario(target, "the hand-written /pets routes and the blueprints share the pet rooms", async (w) => {
      assert.deepEqual((await w.socket("A", "put", "/pets/watch")).body, { watching: true });
      const rex = pet(1, "Rex");
      assert.deepEqual((await w.socket("B", "post", "/pet", { name: "Rex" })).heard, heard({ A: [["pet", { verb: "created", data: rex, id: 1 }]] }));
      assert.deepEqual(await w.socket("C", "get", "/pet"), { status: 200, headers: {}, body: [rex], heard: heard() });
      // The hand-written records are apart from the store (ids as given, even strings).
      assert.deepEqual(await w.socket("B", "post", "/pets", { id: "kit", name: "Kit" }), {
        status: 201,
        headers: {},
        body: { id: "kit", name: "Kit" },
        heard: heard({
          A: [["pet", { verb: "created", id: "kit", data: { id: "kit", name: "Kit" } }]],
          C: [["pet", { verb: "created", id: "kit", data: { id: "kit", name: "Kit" } }]],
        }),
      });
      assert.deepEqual((await w.http("get", "/pet")).body, [rex]);
      assert.deepEqual((await w.http("patch", "/pets/kit", { name: "Kat" })).heard, heard({
        A: [["pet", { verb: "updated", id: "kit", data: { name: "Kat", id: "kit" }, previous: { id: "kit", name: "Kit" } }]],
        C: [["pet", { verb: "updated", id: "kit", data: { name: "Kat", id: "kit" }, previous: { id: "kit", name: "Kit" } }]],
      }));
      // A subscriber of pet 1 through the hand-written route hears the blueprint update.
      assert.deepEqual((await w.socket("B", "put", "/pets/1/subscribe")).body, { subscribed: "1" });
      assert.deepEqual((await w.http("patch", "/pet/1", { species: "dog" })).heard, heard({
        A: [["pet", { verb: "updated", data: { species: "dog", id: 1, updatedAt: NOW }, id: 1, previous: rex }]],
        B: [["pet", { verb: "updated", data: { species: "dog", id: 1, updatedAt: NOW }, id: 1, previous: rex }]],
        C: [["pet", { verb: "updated", data: { species: "dog", id: 1, updatedAt: NOW }, id: 1, previous: rex }]],
      }));
    }, { skip: target.perServerRecords ?? false });
  });
}
