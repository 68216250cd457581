// A temporary PostgreSQL server for Node tests: `sails-temp-postgres` (the
// testkit's program, SAILS_TEMP_POSTGRES_BIN) started once per test file,
// asked for one fresh database at a time. It stops, and its files go, when
// its input ends: at the end of the file's tests, or when this process ends.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const ANSWER_TIMEOUT_MS = 60_000;

let helper;

/** Why there is no temporary PostgreSQL here, or `false`. */
export function postgresMissing() {
  return process.env.SAILS_TEMP_POSTGRES_BIN ? false : "SAILS_TEMP_POSTGRES_BIN is not set";
}

function start() {
  const child = spawn(process.env.SAILS_TEMP_POSTGRES_BIN, [], { stdio: ["pipe", "pipe", "inherit"] });
  const queued = [];
  const waiting = [];
  let ended = null;
  createInterface({ input: child.stdout }).on("line", (line) => {
    const next = waiting.shift();
    if (next) next.resolve(line);
    else queued.push(line);
  });
  const end = (why) => {
    ended = new Error(`sails-temp-postgres ${why}`);
    waiting.splice(0).forEach((next) => next.reject(ended));
  };
  child.once("exit", (code) => end(`exited with ${code}`));
  child.once("error", (error) => end(`could not start: ${error.message}`));
  // Neither the program nor its pipes keep this process alive.
  child.unref();
  child.stdin.unref();
  child.stdout.unref();
  const nextLine = () =>
    new Promise((resolve, reject) => {
      if (queued.length) return resolve(queued.shift());
      if (ended) return reject(ended);
      const timer = setTimeout(() => reject(new Error("sails-temp-postgres: no answer within 60 s")), ANSWER_TIMEOUT_MS);
      waiting.push({
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  const ready = nextLine().then((line) => {
    if (line !== "ready") throw new Error(`sails-temp-postgres: ${line}`);
  });
  return { child, nextLine, ready };
}

/** The URL of a fresh, empty database `name` (letters, digits, `_`). */
export async function postgresDatabase(name) {
  helper ??= start();
  await helper.ready;
  helper.child.stdin.write(`${name}\n`);
  const answer = await helper.nextLine();
  if (!answer.startsWith("postgres://")) throw new Error(`sails-temp-postgres: ${answer}`);
  return answer;
}

/** Stops the server (the end of the program's input), if one was started. */
export function stopPostgres() {
  helper?.child.stdin.end();
  helper = undefined;
}
