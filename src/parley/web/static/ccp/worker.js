/*
 * Parley's CCP SharedWorker: runs StreamsJS's own worker (connect.worker.main) from the served npm bundle,
 * after teaching the bundled CTI model the operations it lacks and, when Parley serves plain HTTP, dialing
 * the agent websocket over ws:// (StreamsJS accepts only wss:// URLs; with TLS nothing is rewritten).
 */
(function () {
  "use strict";
  var params = new URLSearchParams(self.location.search);
  var lib = params.get("lib") || "/lib/connect-streams.js";
  if (lib.charAt(0) !== "/" || lib.charAt(1) === "/") { lib = "/lib/connect-streams.js"; }
  importScripts(lib);

  // contact.addParticipant() and contact.transfer() call AddNewConnection / TransferContact, which the CTI
  // model bundled with StreamsJS 2.x does not define; they take the same input as CreateAdditionalConnection.
  var model = AWS.apiLoader("connect", "2017-02-15");
  var ops = model.operations;
  function copy(value) { return JSON.parse(JSON.stringify(value)); }
  // StreamsJS sends these two without the authentication member, so it must not be required.
  ["AddNewConnection", "TransferContact"].forEach(function (name) {
    if (!ops[name]) {
      ops[name] = copy(ops.CreateAdditionalConnection);
      ops[name].input.required = ["contactId", "endpoint"];
    }
  });
  // chatMediaInfo.agentName names third-party agents (connection.getParticipantName()); keep it in snapshots.
  try {
    var connection = ops.GetAgentSnapshot.output.members.snapshot.members.contacts.member.members.connections
      .member.members;
    if (connection.chatMediaInfo && connection.chatMediaInfo.members) {
      connection.chatMediaInfo.members.agentName = {};
    }
  } catch (e) { /* a newer bundle with another model layout: nothing to patch */ }

  // Parley hands out wss://parley-insecure.invalid/... when it serves plain HTTP; dial the same path over ws://
  // on this worker's own host. Real wss:// URLs (Parley behind TLS) pass through untouched.
  var INSECURE = "wss://parley-insecure.invalid/";
  var NativeWebSocket = self.WebSocket;
  function ParleyWebSocket(url, protocols) {
    var target = String(url);
    if (target.indexOf(INSECURE) === 0) {
      target = "ws://" + self.location.host + "/" + target.substring(INSECURE.length);
    }
    return protocols === undefined ? new NativeWebSocket(target) : new NativeWebSocket(target, protocols);
  }
  ParleyWebSocket.prototype = NativeWebSocket.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { ParleyWebSocket[k] = NativeWebSocket[k]; });
  self.WebSocket = ParleyWebSocket;

  connect.worker.main();
})();
