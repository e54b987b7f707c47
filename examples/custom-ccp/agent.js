// The agent page's logic: the same StreamsJS and ChatJS calls a page written for Amazon Connect makes.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var log = window.parleyLog = [];
  function note(kind, detail) { log.push({ kind: kind, detail: detail, at: Date.now() }); }
  // StreamsJS hands failure callbacks the CTI error as a JSON string ({type, message, ...}); show its message.
  function reasonOf(reason) {
    try { return JSON.parse(reason).message || String(reason); } catch (e) { return String(reason); }
  }

  function render(item, session) {
    if (item.ContentType !== "text/plain" && item.ContentType !== "text/markdown") { return; }
    if (document.getElementById("msg-" + item.Id)) { return; }
    var mine = item.ParticipantId === session.getChatDetails().participantId;
    var row = document.createElement("div");
    row.id = "msg-" + item.Id;
    row.className = "message " + (mine ? "outgoing" : "incoming");
    row.textContent = (item.DisplayName || (mine ? "Me" : "Customer")) + ": " + item.Content;
    $("transcript").appendChild(row);
    $("transcript").scrollTop = $("transcript").scrollHeight;
    note("message", { id: item.Id, from: item.DisplayName, text: item.Content });
  }

  connect.core.initCCP($("ccp"), {
    ccpUrl: PARLEY.ccpUrl,
    region: PARLEY.region,
    loginPopup: true,
    loginPopupAutoClose: true,
    softphone: { allowFramedSoftphone: false }
  });
  connect.ChatSession.setGlobalConfig({ region: PARLEY.region, endpoint: PARLEY.url,
                                        loggerConfig: { useDefaultLogger: false } });

  var endpoints = [];
  connect.agent(function (agent) {
    var showStatus = function () {
      var available = agent.getState().type === connect.AgentStateType.ROUTABLE;
      $("who").textContent = "Signed in as " + agent.getName() + " · " + agent.getState().name +
        (available ? "" : " (set your status to Available in the CCP to receive chats)");
    };
    showStatus();
    agent.onRefresh(showStatus);
    note("agent", agent.getName());
    agent.getEndpoints(agent.getAllQueueARNs(), {
      success: function (data) { endpoints = data.endpoints; note("endpoints", endpoints.map(function (e) { return e.name; })); }
    });
  });

  connect.contact(function (contact) {
    if (contact.getType() !== connect.ContactType.CHAT) { return; }
    note("contact", contact.getContactId());
    contact.accept({ failure: function (e) { note("accept-failed", String(e)); } });
    contact.onAccepted(function () { start(contact); });
    contact.onConnected(function () { start(contact); });
    contact.onACW(function () { note("acw", contact.getContactId()); $("notice").textContent = "The chat ended."; });
    contact.onEnded(function () { note("ended", contact.getContactId()); });
    contact.onDestroy(function () { note("destroyed", contact.getContactId()); });
  });

  var started = {};
  function start(contact) {
    var id = contact.getContactId();
    if (started[id]) { return; }
    started[id] = true;
    var agentConnection = contact.getAgentConnection();
    agentConnection.getMediaController().then(function (session) {
      note("media", id);
      $("composer").hidden = false;
      session.onMessage(function (event) {
        var item = event.data;
        note("item", { type: item.Type, contentType: item.ContentType, from: item.DisplayName });
        render(item, session);
      });
      session.onEnded(function () { note("chat-ended", id); });
      session.getTranscript({ scanDirection: "BACKWARD", sortOrder: "ASCENDING", maxResults: 15 }).then(function (r) {
        (r.data.Transcript || []).forEach(function (item) { render(item, session); });
      });
      $("composer").onsubmit = function (e) {
        e.preventDefault();
        var text = $("message").value.trim();
        if (!text) { return; }
        session.sendMessage({ contentType: "text/plain", message: text }).then(function () { $("message").value = ""; });
      };
      $("add").onclick = function () {
        var target = endpoints.filter(function (ep) { return ep.name === PARLEY.quickConnect; })[0];
        if (!target) { $("notice").textContent = "No quick connect named " + PARLEY.quickConnect; return; }
        contact.addParticipant(target, {
          success: function () { note("added", target.name); $("notice").textContent = "Invited " + target.name; },
          failure: function (reason) {
            note("add-failed", String(reason));
            $("notice").textContent = "Could not add: " + reasonOf(reason);
          }
        });
      };
      $("leave").onclick = function () {
        agentConnection.destroy({
          success: function () { note("left", id); },
          failure: function (reason) { note("leave-failed", String(reason)); $("notice").textContent = reasonOf(reason); }
        });
      };
    }).catch(function (e) { note("media-failed", String(e)); });
  }
})();
