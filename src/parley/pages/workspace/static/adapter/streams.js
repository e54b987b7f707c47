// The StreamsJS side: frame Parley's CCP with connect.core.initCCP, follow the agent and its contacts, and start
// each connected chat's ChatJS session once. Every StreamsJS handler here is bound once per page (agent) or once
// per contact id; the state is rebuilt from the agent's contacts on each refresh.
import { agent, config, contacts, endpoints, phase, problem, selectedId } from "../state.js";
import { agentView, contactView } from "./views.js";
import { dropSession, ensureSession, hydrate } from "./chat.js";
import { announceOffer } from "./alerts.js";
import { forget, savedSelection } from "./store.js";
import { chatOf, forgetChat } from "../state.js";

const live = new Map();      // contact id -> the newest StreamsJS Contact
const bound = new Set();     // contact ids whose handlers are bound
const offered = new Set();   // contact ids already announced as offers
let current = null;          // the StreamsJS Agent

export const contactObject = (id) => live.get(id) || null;
export const agentObject = () => current;

export function reasonOf(err) {
  if (!err) { return "it failed"; }
  if (typeof err === "string") {
    try { const parsed = JSON.parse(err); return parsed.message || parsed.type || err; } catch (e) { return err; }
  }
  return err.message || err.type || String(err);
}

function sync() {
  if (!current) { return; }
  const list = current.getContacts(connect.ContactType.CHAT);
  const seen = new Set();
  const views = [];
  for (const contact of list) {
    const view = contactView(contact);
    seen.add(view.id);
    live.set(view.id, contact);
    views.push(view);
    if (view.offer && !offered.has(view.id)) { offered.add(view.id); announceOffer(view); }
    if (!view.offer) { hydrate(view.id); }
    if (view.status === "connected" && !view.meLeft) { ensureSession(contact); }
    if (view.acw) {
      const chat = chatOf(view.id);
      if (chat.link.value !== "ended") { chat.link.value = "ended"; }
    }
  }
  for (const id of [...live.keys()]) {
    if (!seen.has(id)) { live.delete(id); }
  }
  views.sort((a, b) => (a.queuedAt || a.since) - (b.queuedAt || b.since));
  contacts.value = views;
  agent.value = agentView(current, views.filter((v) => !v.offer).length);
  const open = views.filter((v) => !v.offer);
  if (!open.some((v) => v.id === selectedId.value)) {
    const saved = savedSelection();
    selectedId.value = (open.find((v) => v.id === saved) || open[0] || {}).id || null;
  }
}

function watchContact(contact) {
  const id = contact.getContactId();
  if (bound.has(id)) { return; }
  bound.add(id);
  contact.onDestroy(() => {
    // Cleared ("Close contact") or gone: forget its session, storage and record.
    bound.delete(id);
    offered.delete(id);
    live.delete(id);
    dropSession(id);
    forget(id);
    forgetChat(id);
    sync();
  });
}

function loadEndpoints(a) {
  a.getEndpoints(a.getAllQueueARNs(), {
    success: (data) => { endpoints.value = { list: data.endpoints || [], error: "", loaded: true }; },
    failure: (err) => { endpoints.value = { list: [], error: reasonOf(err), loaded: true }; },
  });
}

export async function start(container) {
  let session;
  try {
    const query = config.instance ? `?instance=${encodeURIComponent(config.instance)}` : "";
    session = await (await fetch(`/connect/session${query}`, { credentials: "same-origin", cache: "no-store" })).json();
  } catch (e) {
    phase.value = "error";
    problem.value = "Parley did not answer. Check that the server is running, then reload this page.";
    return;
  }
  if (!session.signedIn) { phase.value = "signedOut"; return; }
  phase.value = "connecting";
  // Receipts go out at once (1 ms) rather than after ChatJS's 5 s throttle, so none is sent after a third party
  // joined (Parley, like Connect, has no receipts in multi-party chats). StreamsJS passes initCCP's "features" on to
  // ChatJS when it creates each chat's session.
  const features = { messageReceipts: { shouldSendMessageReceipts: true, throttleTime: 1 } };
  connect.ChatSession.setGlobalConfig({ region: config.region, endpoint: location.origin, features,
                                        loggerConfig: { useDefaultLogger: false } });
  connect.core.initCCP(container, {
    ccpUrl: config.ccpUrl,
    loginUrl: config.loginUrl,
    loginPopup: true,
    loginPopupAutoClose: true,
    region: config.region,
    softphone: { allowFramedSoftphone: false, disableRingtone: true },
    pageOptions: { enableAudioDeviceSettings: false, enablePhoneTypeSettings: false },
    features,
  });
  connect.core.onAuthFail(() => { phase.value = "signedOut"; });
  connect.agent((a) => {
    if (current) { return; }
    current = a;
    a.onRefresh(sync);
    loadEndpoints(a);
    phase.value = "ready";
    sync();
  });
  connect.contact((contact) => {
    if (contact.getType() !== connect.ContactType.CHAT) { return; }
    watchContact(contact);
  });
}

export function reloadEndpoints() { if (current) { loadEndpoints(current); } }
