// Plain views of StreamsJS objects (agent and contacts) for the state: components never touch StreamsJS.
// Connections are read from the contact's data (as Parley's own CCP does): building StreamsJS Connection objects
// for every refresh would start chat media controllers that belong to the adapter's one session per chat.

const time = (value) => (value instanceof Date ? value.getTime() : typeof value === "number" ? value * 1000 : null);

function connectionsOf(contact) {
  const data = contact._getData ? contact._getData() : null;
  return (data && data.connections) || [];
}

function partyOf(conn, customerName) {
  const media = conn.chatMediaInfo || {};
  const state = (conn.state && conn.state.type) || "disconnected";
  const base = { id: conn.connectionId, state, since: time(conn.state && conn.state.timestamp) };
  if (conn.type === "inbound" || conn.initial) {
    return { ...base, kind: "customer", role: "Customer", name: media.customerName || customerName || "Customer" };
  }
  const name = (conn.type === "agent" ? media.agentName : media.agentName || (conn.endpoint && conn.endpoint.name)) ||
    conn.quickConnectName || "Agent";
  // A supervisor: me on a monitoring contact (state silent_monitor or barge), or a barged one in an agent's chat
  // (a third-party connection with monitorStatus BARGE: what makes StreamsJS's contact.isUnderSupervision() true).
  const supervisor = Boolean(conn.monitorStatus);
  const barged = conn.monitorStatus === "BARGE";
  return { ...base, state: state === "silent_monitor" || state === "barge" ? "connected" : state,
           kind: conn.type === "agent" ? "me" : "agent", name, quickConnect: conn.quickConnectName || "",
           role: supervisor ? (barged ? "Supervisor (barged in)" : "Supervisor") : "Agent",
           stateLabel: supervisor && !barged ? "Monitoring silently" : "",
           supervisor, silent: supervisor && !barged };
}

// The monitoring side of a contact (docs/monitoring.md): null unless it is my monitoring contact (MonitorContact).
function monitoringOf(data, own) {
  if (String(data.initiationMethod || "").toLowerCase() !== "monitor" || !own) { return null; }
  const info = own.monitoringInfo || {};
  return {
    mode: own.monitorStatus === "BARGE" || (own.state && own.state.type === "barge") ? "BARGE" : "SILENT_MONITOR",
    canBarge: (own.monitorCapabilities || []).includes("BARGE"),
    agent: (info.agent && info.agent.agentName) || "",
  };
}

export function contactView(contact) {
  const data = contact._getData ? contact._getData() : {};
  const conns = connectionsOf(contact);
  const status = contact.getStatus();
  const own = conns.find((c) => c.type === "agent");
  const customerName = (conns.find((c) => c.initial) || own || {}).chatMediaInfo?.customerName || "Customer";
  const parties = conns.map((c) => partyOf(c, customerName));
  const type = status.type;
  const offer = (type === "connecting" || type === "incoming") && own && own.state.type === "connecting";
  const method = String(data.initiationMethod || "").toLowerCase();
  const others = parties.filter((p) => p.kind === "agent" && p.state === "connected").map((p) => p.name);
  const monitoring = monitoringOf(data, own);
  const features = data.contactFeatures || {};
  return {
    id: contact.getContactId(),
    initialId: contact.getInitialContactId ? contact.getInitialContactId() : data.initialContactId,
    status: type,
    // Since when this chat is in its present state for me: offered, connected to me, or ended.
    since: (type === "connected" && own && time(own.state.timestamp)) || time(status.timestamp) || Date.now(),
    queuedAt: time(data.queueTimestamp),
    offer: Boolean(offer),
    invitation: Boolean(offer) && (method === "transfer" || method === "queue_transfer") && others.length > 0,
    invitedBy: others,
    transferred: method === "transfer" || method === "queue_transfer",
    acw: type === "ended" || type === "missed" || type === "error",
    customerName,
    queue: (data.queue && data.queue.name) || "",
    parties,
    monitoring,
    silent: Boolean(monitoring && monitoring.mode === "SILENT_MONITOR"),
    underSupervision: parties.some((p) => p.kind === "agent" && p.supervisor && p.state === "connected"),
    me: own ? own.connectionId : "",
    meLeft: !own || own.state.type === "disconnected",
    multiParty: features.multiPartyConferenceEnabled !== false,
    markdown: Boolean(features.messagingMarkdownEnabled),
    attachments: features.attachmentsEnabled !== false,
  };
}

export function agentView(agent, chatCount) {
  const state = agent.getState();
  let slots = 1;
  try {
    const profile = agent.getRoutingProfile() || {};
    slots = (profile.channelConcurrencyMap && profile.channelConcurrencyMap.CHAT) || 1;
  } catch (e) { /* no routing profile yet */ }
  return {
    name: agent.getName(),
    state: { name: state.name, type: state.type, since: time(state.startTimestamp) || Date.now() },
    states: agent.getAgentStates().map((s) => ({ name: s.name, type: s.type })),
    slots,
    used: chatCount,
  };
}

// Parties that count toward the conference cap: everybody connected or still being invited.
export function partyCount(view) {
  return view.parties.filter((p) => p.state === "connected" || p.state === "connecting").length;
}
