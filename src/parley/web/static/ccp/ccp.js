/*
 * Parley's CCP page (what custom agent pages frame with connect.core.initCCP): signs the agent in, runs
 * StreamsJS's shared worker against Parley, answers the site-streams handshake, and shows a compact agent UI
 * built on the StreamsJS API itself.
 */
(function () {
  "use strict";
  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  };
  var REGION = meta("parley-region") || "us-west-2";
  var STREAMS = meta("parley-streams") || "/lib/connect-streams.js";
  // The instance of a per-instance CCP (/connect/<alias>/ccp-v2/), or of the signed-in agent on /connect/ccp-v2/;
  // sign-in, the session check, /auth/authorize and the shared worker all name it, so they all use one instance.
  var INSTANCE = meta("parley-instance");
  var forInstance = INSTANCE ? "instance=" + encodeURIComponent(INSTANCE) : "";
  function withInstance(path) {
    return forInstance ? path + (path.indexOf("?") < 0 ? "?" : "&") + forInstance : path;
  }
  function loginUrl() {
    return withInstance("/connect/login?landat=" + encodeURIComponent(location.pathname + location.search));
  }
  var framed = window.parent !== window;
  var ui = {};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k.indexOf("on") === 0) { node.addEventListener(k.substring(2), attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function status(text, kind) {
    ui.status.textContent = text || "";
    ui.status.className = "status " + (kind || "");
  }

  function describe(err) {
    if (!err) { return "failed"; }
    if (typeof err === "string") {
      try { var parsed = JSON.parse(err); return parsed.message || parsed.type || err; } catch (e) { return err; }
    }
    return err.message || err.type || JSON.stringify(err);
  }

  // ---------------------------------------------------------------------------------------------- sign-in
  function signIn() {
    return fetch(withInstance("/connect/session"), { credentials: "include", cache: "no-store" }).then(function (r) {
      return r.json();
    }).then(function (session) {
      if (session.signedIn) { return session; }
      if (!framed) {
        location.href = loginUrl();
      } else {
        status("Sign in to Parley in the window that opens.", "warn");
      }
      throw new Error("not signed in");
    });
  }

  // ------------------------------------------------------------------------------- site-streams handshake
  // StreamsJS 2.x pages ask the CCP for contact/getInstanceDetails over a MessageChannel before a chat's
  // media controller starts; answering it here avoids a 30 s wait.
  function answerSiteStreams() {
    if (!framed) { return; }
    var channel = new MessageChannel();
    channel.port1.onmessage = function (evt) {
      var m = evt.data || {};
      if (m.type === "cross-domain-site-ready") {
        channel.port1.postMessage({ type: "acknowledge", connectionId: "parley-" + Date.now(),
                                    status: { initialized: true }, healthCheckInterval: 0 });
      } else if (m.type === "request") {
        if (m.command === "contact/getInstanceDetails") {
          channel.port1.postMessage({ type: "response", namespace: m.namespace, requestId: m.requestId,
                                      isError: false, data: { origin: location.origin, region: REGION } });
        } else {
          channel.port1.postMessage({ type: "response", namespace: m.namespace, requestId: m.requestId,
                                      isError: true, errorKey: "notImplemented",
                                      reason: "Parley's CCP does not implement " + m.command,
                                      details: { command: m.command, requestData: m.data } });
        }
      }
    };
    window.parent.postMessage({ type: "cross-domain-adapter-init" }, "*", [channel.port2]);
  }

  // ---------------------------------------------------------------------------------------------- the UI
  var state = { agent: null, endpoints: [], errors: {} };

  // The UI reads connections from the contact's data: building StreamsJS Connection objects here would start
  // chat media controllers, which belong to the agent's own page, not to the CCP.
  function connectionsOf(contact) {
    var data = contact._getData ? contact._getData() : null;
    return (data && data.connections) || [];
  }

  function connectionName(conn) {
    var media = conn.chatMediaInfo || {};
    if (conn.type === "inbound") { return media.customerName || "Customer"; }
    return media.agentName || (conn.endpoint && conn.endpoint.name) || conn.quickConnectName || "Agent";
  }

  function destroyConnection(contact, conn, callbacks) {
    connect.core.getClient().call(connect.ClientMethods.DESTROY_CONNECTION,
      { contactId: contact.getContactId(), connectionId: conn.connectionId }, callbacks);
  }

  function renderAgent() {
    var agent = state.agent;
    if (!agent) { return; }
    ui.name.textContent = agent.getName();
    var current = agent.getState();
    var select = ui.state;
    while (select.firstChild) { select.removeChild(select.firstChild); }
    var names = agent.getAgentStates().map(function (s) { return s.name; });
    if (names.indexOf(current.name) < 0) { names.unshift(current.name); }
    names.forEach(function (name) {
      var opt = el("option", { value: name, text: name });
      if (name === current.name) { opt.selected = true; }
      select.appendChild(opt);
    });
    ui.state.className = "state " + (current.type || "");
  }

  function act(contactId, label, fn) {
    return el("button", { type: "button", text: label, onclick: function () {
      state.errors[contactId] = "";
      fn({
        success: function () { renderContacts(); },
        failure: function (err) { state.errors[contactId] = label + ": " + describe(err); renderContacts(); }
      });
    } });
  }

  function renderContact(contact) {
    var id = contact.getContactId();
    var st = contact.getStatus().type;
    var card = el("section", { "class": "contact " + st, "data-contact-id": id });
    var connections = connectionsOf(contact);
    var customer = connections.filter(function (c) { return c.initial; })[0];
    card.appendChild(el("header", {}, [
      el("strong", { text: customer ? connectionName(customer) : "Chat" }),
      el("span", { "class": "badge", text: st })
    ]));
    var parties = el("ul", { "class": "parties" });
    connections.forEach(function (conn) {
      var cst = (conn.state && conn.state.type) || "";
      var row = el("li", { "class": "party " + cst }, [
        el("span", { "class": "who", text: connectionName(conn) }),
        el("span", { "class": "what", text: conn.type + " · " + cst })
      ]);
      if (st === connect.ContactStateType.CONNECTED && cst !== "disconnected" && conn.type === "outbound") {
        row.appendChild(act(id, "Remove", function (cb) { destroyConnection(contact, conn, cb); }));
      }
      parties.appendChild(row);
    });
    card.appendChild(parties);
    var buttons = el("div", { "class": "actions" });
    var agentConn = connections.filter(function (c) { return c.type === "agent"; })[0];
    if (st === connect.ContactStateType.CONNECTING || st === connect.ContactStateType.INCOMING) {
      buttons.appendChild(act(id, "Accept", function (cb) { contact.accept(cb); }));
      buttons.appendChild(act(id, "Reject", function (cb) { contact.reject(cb); }));
    } else if (st === connect.ContactStateType.CONNECTED) {
      var pick = el("select", { "class": "qc", "aria-label": "Quick connect" });
      state.endpoints.forEach(function (ep, i) {
        pick.appendChild(el("option", { value: String(i), text: ep.name + " (" + ep.type + ")" }));
      });
      buttons.appendChild(pick);
      buttons.appendChild(act(id, "Add", function (cb) {
        contact.addParticipant(state.endpoints[Number(pick.value)], cb);
      }));
      buttons.appendChild(act(id, "Transfer", function (cb) {
        contact.transfer(state.endpoints[Number(pick.value)], cb);
      }));
      if (agentConn) {
        buttons.appendChild(act(id, "Leave", function (cb) { destroyConnection(contact, agentConn, cb); }));
      }
    } else if (st === connect.ContactStateType.ENDED || st === connect.ContactStateType.MISSED ||
               st === connect.ContactStateType.ERROR) {
      buttons.appendChild(act(id, "Close", function (cb) { contact.clear(cb); }));
    }
    card.appendChild(buttons);
    if (state.errors[id]) { card.appendChild(el("p", { "class": "error", role: "alert", text: state.errors[id] })); }
    return card;
  }

  function renderContacts() {
    var list = ui.contacts;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var contacts = state.agent ? state.agent.getContacts() : [];
    if (!contacts.length) { list.appendChild(el("p", { "class": "empty", text: "No chats." })); }
    contacts.forEach(function (c) { list.appendChild(renderContact(c)); });
  }

  function buildShell() {
    ui.name = el("span", { "class": "name", text: "…" });
    ui.state = el("select", { "class": "state", "aria-label": "Status", onchange: function () {
      var wanted = ui.state.value;
      var target = state.agent.getAgentStates().filter(function (s) { return s.name === wanted; })[0];
      if (target) {
        state.agent.setState(target, { failure: function (err) { status("Status: " + describe(err), "error"); } },
                             { enqueueNextState: false });
      }
    } });
    ui.status = el("p", { "class": "status", role: "status" });
    ui.contacts = el("div", { "class": "contacts" });
    document.body.appendChild(el("main", { "class": "ccp" }, [
      el("div", { "class": "bar" }, [el("span", { "class": "logo", text: "P" }), ui.name, ui.state]),
      ui.status, ui.contacts,
      el("footer", {}, [el("a", { href: "/connect/logout", target: "_top", text: "Sign out" })])
    ]));
  }

  function start(auth) {
    connect.core.initSharedWorker({
      sharedWorkerUrl: withInstance("/connect/ccp-v2/worker.js?lib=" + encodeURIComponent(STREAMS)),
      authToken: auth.accessToken,
      authTokenExpiration: new Date(auth.expiration).toISOString(),
      refreshToken: "parley",
      region: REGION,
      endpoint: location.origin + "/api",
      authorizeEndpoint: withInstance("/auth/authorize"),
      loginEndpoint: loginUrl(),
      agentAppEndpoint: location.host + "/agent-app/api",
      taskTemplatesEndpoint: location.origin + "/task-templates",
      authCookieName: "parley_session"
    });
    connect.agent(function (agent) {
      state.agent = agent;
      status("");
      agent.getEndpoints(agent.getAllQueueARNs(), {
        success: function (data) { state.endpoints = data.endpoints || []; renderContacts(); },
        failure: function (err) { status("Quick connects: " + describe(err), "error"); }
      });
      agent.onRefresh(function () { renderAgent(); renderContacts(); });
      renderAgent();
      renderContacts();
    });
    connect.contact(function (contact) {
      contact.onRefresh(function () { renderContacts(); });
    });
  }

  buildShell();
  status("Connecting…");
  answerSiteStreams();
  signIn().then(start).catch(function (err) {
    if (String(err && err.message) !== "not signed in") { status("Could not start: " + describe(err), "error"); }
  });
})();
