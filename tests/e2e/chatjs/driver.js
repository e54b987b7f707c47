// A thin, scriptable CUSTOMER on top of the real, unmodified ChatJS (global `connect`), shared by the Node
// runner (customer.js) and the browser page (page.html). It records every ChatJS callback as an event and
// exposes the session's API calls as commands; the Python tests drive it and make the assertions.
(function (root) {
  "use strict";

  // The callbacks every ChatJS version under test has; each is recorded as {event, data, t}.
  var CALLBACKS = [
    "onMessage", "onTyping", "onReadReceipt", "onDeliveredReceipt", "onConnectionEstablished",
    "onConnectionLost", "onConnectionBroken", "onEnded", "onDeepHeartbeatFailure",
  ];
  // Like the Amazon Connect chat widget, fetch recent items after a reconnect to fill the gap.
  var CATCH_UP_ARGS = { maxResults: 100, scanDirection: "BACKWARD", sortOrder: "ASCENDING" };

  function plain(value) {
    // Callback payloads may hold things JSON cannot carry; keep what it can.
    try {
      return value === undefined ? null : JSON.parse(JSON.stringify(value));
    } catch (err) {
      return String(value);
    }
  }

  function describeError(err) {
    if (err instanceof Error) return { message: err.message, stack: err.stack };
    return plain(err);
  }

  function createCustomer(connect, emit) {
    var session = null;
    var lostSinceCatchUp = false;

    function record(name, data) {
      emit({ event: name, data: plain(data), t: Date.now() });
    }

    function catchUp() {
      session.getTranscript(CATCH_UP_ARGS).then(function (res) {
        record("catchUp", res && res.data);
      }, function (err) {
        record("catchUpFailed", describeError(err));
      });
    }

    var commands = {
      start: function (args) {
        connect.ChatSession.setGlobalConfig({ region: args.region || "us-west-2", endpoint: args.endpoint });
        session = connect.ChatSession.create({
          chatDetails: args.details,
          type: "CUSTOMER",
          disableCSM: true,
        });
        CALLBACKS.forEach(function (name) {
          session[name](function (ev) {
            record(name, ev && ev.data);
            if (name === "onConnectionLost") lostSinceCatchUp = true;
            if (name === "onConnectionEstablished" && lostSinceCatchUp) {
              lostSinceCatchUp = false;
              catchUp();
            }
          });
        });
        return session.connect().then(function (res) {
          return { connectSuccess: res.connectSuccess };
        });
      },
      send: function (args) {
        return session.sendMessage({ contentType: args.contentType || "text/plain", message: args.text })
          .then(function (res) { return res.data; });
      },
      typing: function () {
        return session.sendEvent({ contentType: "application/vnd.amazonaws.connect.event.typing" })
          .then(function (res) { return res.data; });
      },
      transcript: function (args) {
        return session.getTranscript(args || {}).then(function (res) { return res.data; });
      },
      disconnect: function () {
        return session.disconnectParticipant().then(function (res) { return plain(res && res.data); });
      },
      status: function () {
        return session.getConnectionStatus ? session.getConnectionStatus() : null;
      },
    };

    // Runs one command; always resolves to {ok, result} or {ok: false, error}.
    function run(name, args) {
      var command = commands[name];
      if (!command) return Promise.resolve({ ok: false, error: { message: "unknown command " + name } });
      return Promise.resolve().then(function () { return command(args || {}); }).then(function (result) {
        return { ok: true, result: plain(result) };
      }, function (err) {
        return { ok: false, error: describeError(err) };
      });
    }

    return { run: run };
  }

  var api = { createCustomer: createCustomer };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else {
    root.ParleyCustomer = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : this);
