// What the components may ask for. Each call goes through StreamsJS (agent, contact, connection) or the chat's
// ChatJS session, and reports a refusal in the agent's words through the alert signal.
import { alertText, chatOf, contacts, notice, selectedId } from "../state.js";
import { agentObject, contactObject, reasonOf } from "./streams.js";
import { READ, TYPING, sessionOf } from "./chat.js";
import { markSeen } from "./store.js";

const MARKDOWN = /[*_`#>\[\]]|^\s*[-+] |^\s*\d+\. /m;
const typingSent = new Map();
const readSent = new Map();

function callbacks(what, done) {
  return {
    success: () => { alertText.value = ""; if (done) { done(); } },
    failure: (err) => { alertText.value = `${what}: ${reasonOf(err)}`; },
  };
}

function withContact(id, what, fn) {
  const contact = contactObject(id);
  if (!contact) { alertText.value = `${what}: this chat is no longer with you.`; return; }
  fn(contact);
}

export function setStatus(name) {
  const a = agentObject();
  const target = a && a.getAgentStates().find((s) => s.name === name);
  if (!target) { return; }
  a.setState(target, callbacks("Could not change your status"), { enqueueNextState: false });
}

export function accept(id) {
  withContact(id, "Could not accept", (c) => c.accept(callbacks("Could not accept", () => {
    selectedId.value = id;
  })));
}
export function reject(id) { withContact(id, "Could not reject", (c) => c.reject(callbacks("Could not reject"))); }

export function addParticipant(id, endpoint, done) {
  withContact(id, "Could not add the participant", (c) => c.addParticipant(endpoint,
    callbacks("Could not add the participant", () => { notice.value = `Invited ${endpoint.name}`; if (done) { done(); } })));
}
export function transfer(id, endpoint, done) {
  withContact(id, "Could not transfer", (c) => c.transfer(endpoint,
    callbacks("Could not transfer", () => { notice.value = `Transferred to ${endpoint.name}`; if (done) { done(); } })));
}
export function leave(id) {
  withContact(id, "Could not leave the chat", (c) => c.getAgentConnection().destroy(
    callbacks("Could not leave the chat", () => { notice.value = "You left the chat"; })));
}
// Another party's connection, as StreamsJS builds it (a chat connection of another agent starts no media
// controller: only the agent's own connection has one).
export function removeParty(id, connectionId, name) {
  const what = `Could not remove ${name}`;
  withContact(id, what, (c) => {
    const connection = c.getConnections().find((conn) => conn.getConnectionId() === connectionId);
    if (!connection) { alertText.value = `${what}: ${name} is no longer in this chat.`; return; }
    connection.destroy(callbacks(what, () => { notice.value = `${name} removed`; }));
  });
}
// A silent monitor steps in (docs/monitoring.md): StreamsJS's UpdateMonitorParticipantState, SILENT_MONITOR → BARGE.
export function bargeIn(id) {
  const what = "Could not barge in";
  withContact(id, what, (c) => c.updateMonitorParticipantState(connect.MonitoringMode.BARGE,
    callbacks(what, () => { notice.value = "You barged in: the customer and the agents now see you"; })));
}
export function closeContact(id) {
  withContact(id, "Could not close the contact", (c) => c.clear(callbacks("Could not close the contact")));
}

export async function send(id, text) {
  const session = sessionOf(id);
  const view = contacts.value.find((c) => c.id === id);
  if (!session || !view) { alertText.value = "Could not send: this chat is not connected."; return false; }
  const contentType = view.markdown && MARKDOWN.test(text) ? "text/markdown" : "text/plain";
  try {
    await session.sendMessage({ contentType, message: text });
    typingSent.delete(id);
    return true;
  } catch (err) {
    alertText.value = `Could not send: ${reasonOf(err)}`;
    return false;
  }
}

export function typing(id) {
  const session = sessionOf(id);
  if (contacts.value.find((c) => c.id === id && c.silent)) { return; } // a silent monitor sends nothing
  const last = typingSent.get(id) || 0;
  if (!session || Date.now() - last < 5000) { return; }
  typingSent.set(id, Date.now());
  session.sendEvent({ contentType: TYPING }).catch(() => {});
}

// A read receipt for the newest message of another party, only while the chat has two parties (Connect has no
// receipts in multi-party chats, and Parley refuses them there).
export function markRead(id, messageId, parties) {
  const session = sessionOf(id);
  const view = contacts.value.find((c) => c.id === id);
  if (!session || parties !== 2 || readSent.get(id) === messageId || (view && view.silent)) { return; }
  readSent.set(id, messageId);
  session.sendEvent({ contentType: READ, content: JSON.stringify({ messageId }) }).catch(() => {});
}

export async function attach(id, file) {
  const session = sessionOf(id);
  if (!session) { alertText.value = "Could not attach: this chat is not connected."; return; }
  try {
    await session.sendAttachment({ attachment: file });
    notice.value = `Sent ${file.name}`;
  } catch (err) {
    alertText.value = `Could not attach ${file.name}: ${reasonOf(err)}`;
  }
}

export async function download(id, attachmentId) {
  const session = sessionOf(id);
  if (!session) { throw new Error("This chat is closed; its files can no longer be downloaded."); }
  return session.downloadAttachment({ attachmentId });
}

export function clearUnread(id) {
  const chat = chatOf(id);
  if (chat.unread.value) { chat.unread.value = 0; }
  if (chat.list.length) { markSeen(id, String(chat.list[chat.list.length - 1].AbsoluteTime)); }
}
