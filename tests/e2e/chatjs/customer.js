#!/usr/bin/env node
// A Node.js chat customer made of the real, unmodified ChatJS dist bundle from npm.
//
//   node customer.js --chatjs 5.0.0|3.0.3 --endpoint http://127.0.0.1:PORT
//   env PARLEY_CHAT_DETAILS='{"ContactId":…,"ParticipantId":…,"ParticipantToken":…}'  (the StartChatContact result)
//
// It starts the session at once and then reads one JSON command per stdin line ({"id", "cmd", "args"}; see
// driver.js). Stdout carries only JSON lines: {"event": …} for every ChatJS callback and {"reply": id, "ok", …}
// for every command. Anything ChatJS logs goes to stderr.
"use strict";

const path = require("path");
const readline = require("readline");

// Which npm package holds each ChatJS version under test (package.json installs 3.0.3 under an alias).
const PACKAGES = { "5.0.0": "amazon-connect-chatjs", "3.0.3": "chatjs3" };

function option(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing --${name}`);
  return process.argv[at + 1];
}

function write(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

// Keep stdout for the protocol: ChatJS's own logging goes to stderr.
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
  console[level] = (...args) => process.stderr.write(`[${level}] ${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}\n`);
}

// The browser globals ChatJS expects (reference/chatjs.md §6). Node 20 has fetch/Blob/File but no WebSocket.
global.window = global;
global.self = global;
Object.defineProperty(global, "navigator", { value: { onLine: true, userAgent: "node" }, configurable: true });
global.WebSocket = require("ws");

const version = option("chatjs");
const pkg = PACKAGES[version];
if (!pkg) throw new Error(`unknown ChatJS version ${version}`);
const installed = require(`${pkg}/package.json`).version;
require(pkg); // the dist bundle (package.json "main"); defines global.connect
const { createCustomer } = require(path.join(__dirname, "driver.js"));

const customer = createCustomer(global.connect, write);
write({ event: "loaded", data: { version: installed, bundle: require.resolve(pkg) }, t: Date.now() });

function handle(id, cmd, args) {
  return customer.run(cmd, args).then((res) => write({ reply: id, ...res }));
}

handle("start", "start", {
  endpoint: option("endpoint"),
  details: JSON.parse(process.env.PARLEY_CHAT_DETAILS || "null"),
});

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (text) => {
  if (!text.trim()) return;
  const { id, cmd, args } = JSON.parse(text);
  if (cmd === "exit") {
    write({ reply: id, ok: true, result: null });
    process.exit(0);
  }
  handle(id, cmd, args);
});
lines.on("close", () => process.exit(0));
process.on("unhandledRejection", (err) => write({ event: "unhandledRejection", data: String(err && (err.stack || err)), t: Date.now() }));
