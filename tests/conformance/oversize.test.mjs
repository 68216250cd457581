// A WebSocket message over the server's size limit (`maxHttpBufferSize`, 10^8
// bytes in both apps) closes its connection with a close frame of code 1009
// ("message too big"), on both servers. The client announces the message in
// a frame header and sends only a little of it: a server must decide from
// the header, as both do.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { within } from "./harness.mjs";
import { interopServers } from "./servers.mjs";

const SDK = "__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=node&__sails_io_sdk_language=javascript";
const ANNOUNCED = 200_000_000;

/** A masked client text frame header announcing `length` payload bytes. */
function hugeHeader(length) {
  const header = Buffer.alloc(14);
  header[0] = 0x81; // FIN, text
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(length), 2);
  randomBytes(4).copy(header, 10);
  return header;
}

/**
 * Opens a WebSocket by hand, announces a message of `ANNOUNCED` bytes, sends
 * a few of them, and resolves with the code of the server's close frame
 * (`null` when the connection ends without one).
 */
function closeCodeForHugeMessage(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const finish = (code) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(code);
    };
    socket.on("error", () => finish(null));
    socket.on("close", () => finish(null));
    socket.on("connect", () => {
      socket.write(
        `GET /socket.io/?EIO=3&transport=websocket&${SDK} HTTP/1.1\r\n` +
          `Host: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buffer.subarray(0, end).toString("latin1").split(" ")[1];
        if (status !== "101") return reject(new Error(`handshake answered ${status}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        socket.write(Buffer.concat([hugeHeader(ANNOUNCED), Buffer.alloc(64 * 1024, 0x78)]));
      }
      // Server frames are unmasked; read them until a close frame.
      while (buffer.length >= 2) {
        const opcode = buffer[0] & 0x0f;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        if (opcode === 0x8) return finish(length >= 2 ? buffer.readUInt16BE(offset) : null);
        buffer = buffer.subarray(offset + length);
      }
    });
  });
}

for (const target of interopServers()) {
  describe(`over-size messages: ${target.name}`, { skip: target.skip }, () => {
    test("a message over the size limit closes its connection with 1009", async () => {
      const server = await target.start();
      try {
        const code = await within(closeCodeForHugeMessage(server.url), "the close frame");
        assert.equal(code, 1009);
      } finally {
        await server.stop();
      }
    });
  });
}
