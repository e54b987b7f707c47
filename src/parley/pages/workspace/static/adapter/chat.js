// One ChatJS session per chat, from contact.getAgentConnection().getMediaController(), with every handler bound
// exactly once per session (the seed page's bug was binding them again on every refresh). Items are kept once
// each, by Id, whether they come from the socket, the transcript or the reload cache.
import { batch } from "@preact/signals";
import { chatOf, notice, selectedId } from "../state.js";
import { timeOf } from "../format.js";
import { cacheItems, cachedItems, markSeen, seenMark } from "./store.js";

export const TYPING = "application/vnd.amazonaws.connect.event.typing";
export const READ = "application/vnd.amazonaws.connect.event.message.read";
const TYPING_MS = 12000;
const sessions = new Map(); // contact id -> { session, promise }
const hydrated = new Set();

// The reload cache is written at most every CACHE_MS per chat (and when the page goes), not on every item, and
// one chat per idle moment of the main thread: serializing a chat's newest 400 items takes milliseconds, and ten
// chats written in one task held back the paint of messages arriving meanwhile.
const CACHE_MS = 500;
const IDLE_WAIT_MS = 2000; // written by then even if the page never idles
const unsaved = new Map(); // contact id -> chat
let pending = false;
const idle = window.requestIdleCallback || ((fn) => setTimeout(() => fn({ timeRemaining: () => 0, didTimeout: true }), 1));
function saveNow() {
  for (const chat of unsaved.values()) { cacheItems(chat.id, chat.list); }
  unsaved.clear();
}
function saveSome(deadline) {
  for (const [id, chat] of unsaved) {
    unsaved.delete(id);
    cacheItems(id, chat.list);
    if (deadline.didTimeout || deadline.timeRemaining() < 5) { break; }
  }
  if (unsaved.size) { idle(saveSome, { timeout: IDLE_WAIT_MS }); } else { pending = false; }
}
function saveLater(chat) {
  unsaved.set(chat.id, chat);
  if (!pending) {
    pending = true;
    setTimeout(() => idle(saveSome, { timeout: IDLE_WAIT_MS }), CACHE_MS);
  }
}
addEventListener("pagehide", saveNow);

export function sessionOf(id) { return sessions.get(id)?.session || null; }

// The cached transcript of a chat, loaded once per page (before any live item, so the order holds).
export function hydrate(id) {
  if (hydrated.has(id)) { return; }
  hydrated.add(id);
  addItems(chatOf(id), cachedItems(id), false);
}

export function addItems(chat, items, live) {
  const fresh = [];
  for (const item of items) {
    if (!item || !item.Id) { continue; }
    if (item.Type === "MESSAGEMETADATA") { receipt(chat, item); continue; }
    if (item.ContentType === TYPING) { continue; }
    if (chat.ids.has(item.Id)) { continue; }
    chat.ids.add(item.Id);
    fresh.push(item);
  }
  if (!fresh.length) { return; }
  batch(() => { place(chat, fresh, live); });
}

const timeKey = (item) => String(item.AbsoluteTime);
const shownInList = (item) => item.Type === "MESSAGE" || item.Type === "ATTACHMENT";

// Where an item goes in a list ordered by time: after every item of the same time or earlier (a stable order).
function slot(list, key) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeKey(list[mid]) <= key) { lo = mid + 1; } else { hi = mid; }
  }
  return lo;
}

// New items into the chat's ordered list, in place: a live item (the newest, nearly always) is pushed; a page of
// the transcript (older items) is merged in once. Then one version bump tells the components.
function place(chat, fresh, live) {
  const list = chat.list;
  if (fresh.length === 1) {
    const item = fresh[0];
    const key = timeKey(item);
    if (!list.length || timeKey(list[list.length - 1]) <= key) { list.push(item); } else { list.splice(slot(list, key), 0, item); }
  } else {
    const add = fresh.map((item, i) => [timeKey(item), i, item]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    const merged = [];
    let i = 0;
    for (const [key, , item] of add) {
      while (i < list.length && timeKey(list[i]) <= key) { merged.push(list[i]); i += 1; }
      merged.push(item);
    }
    while (i < list.length) { merged.push(list[i]); i += 1; }
    list.length = 0;
    for (const item of merged) { list.push(item); }
  }
  for (const item of fresh) { timeOf(item); }
  const onScreen = selectedId.value === chat.id && !document.hidden;
  // Items a transcript load brings (after a reload or a reconnect) that are newer than what the agent last had on
  // screen were never seen: they count as unread like live ones. A chat never on screen has no mark: its history
  // is not "new".
  const mark = live ? "" : seenMark(chat.id);
  if (onScreen) { markSeen(chat.id, timeKey(list[list.length - 1])); }
  chat.version.value += 1;
  let last = null;
  for (let i = list.length - 1; i >= 0 && !last; i -= 1) { if (shownInList(list[i])) { last = list[i]; } }
  if (chat.last.peek() !== last) { chat.last.value = last; }
  saveLater(chat);
  for (const item of fresh) {
    if (item.ParticipantId && chat.typing.value[item.ParticipantId]) {
      const { [item.ParticipantId]: _gone, ...rest } = chat.typing.value;
      chat.typing.value = rest;
    }
    const fromOther = item.ParticipantId !== chat.me.value && (item.Type === "MESSAGE" || item.Type === "ATTACHMENT");
    if (live && fromOther) {
      if (!onScreen) { chat.unread.value += 1; }
      notice.value = `New message from ${item.DisplayName || "a participant"}`;
    } else if (fromOther && mark && !onScreen && timeKey(item) > mark) {
      chat.unread.value += 1;
    }
  }
}

function receipt(chat, item) {
  const meta = item.MessageMetadata || {};
  const got = (meta.Receipts || [])[0];
  if (!meta.MessageId || !got) { return; }
  const kind = got.ReadTimestamp ? "Read" : "Delivered";
  if (chat.receipts.value[meta.MessageId] === "Read") { return; }
  chat.receipts.value = { ...chat.receipts.value, [meta.MessageId]: kind };
}

function typing(chat, data) {
  if (!data || data.ParticipantId === chat.me.value) { return; }
  chat.typing.value = { ...chat.typing.value,
                        [data.ParticipantId]: { name: data.DisplayName || "Someone", until: Date.now() + TYPING_MS } };
}

// The agent's socket starts carrying a chat's items once Parley has seen the agent join it, which may be a moment
// after the session connected and the transcript was read: the newest page is read once more after that moment,
// so a message sent in between is not missing until a reload (items are kept once each, by Id).
const RECHECK_MS = 3000;

async function loadTranscript(session, chat, pages = 20) {
  let nextToken;
  for (let page = 0; page < pages; page += 1) {
    const args = { scanDirection: "BACKWARD", sortOrder: "ASCENDING", maxResults: 100 };
    if (nextToken) { args.nextToken = nextToken; }
    const answer = await session.getTranscript(args);
    const data = answer.data || {};
    addItems(chat, data.Transcript || [], false);
    nextToken = data.NextToken;
    if (!nextToken) { return; }
  }
}

function bind(session, chat) {
  session.onMessage((event) => addItems(chat, [event.data], true));
  // ChatJS hands these notices to handlers of their own, not to onMessage: without them an invitation made while
  // the agent watched showed only after a reload (from the transcript).
  session.onParticipantInvited((event) => addItems(chat, [event.data], true));
  session.onParticipantIdle((event) => addItems(chat, [event.data], true));
  session.onParticipantReturned((event) => addItems(chat, [event.data], true));
  session.onTyping((event) => typing(chat, event.data));
  session.onReadReceipt((event) => receipt(chat, event.data));
  session.onDeliveredReceipt((event) => receipt(chat, event.data));
  session.onConnectionEstablished(() => {
    if (chat.link.value === "lost") { loadTranscript(session, chat).catch(() => {}); }
    if (chat.link.value !== "ended") { chat.link.value = "connected"; }
  });
  session.onConnectionLost(() => { if (chat.link.value !== "ended") { chat.link.value = "lost"; } });
  session.onConnectionBroken(() => { if (chat.link.value !== "ended") { chat.link.value = "lost"; } });
  session.onEnded(() => { chat.link.value = "ended"; });
}

// Start the chat's session once; later calls (every snapshot refresh) return the same promise.
export function ensureSession(contact) {
  const id = contact.getContactId();
  const known = sessions.get(id);
  if (known) { return known.promise; }
  const chat = chatOf(id);
  hydrate(id);
  const connection = contact.getAgentConnection();
  chat.me.value = connection.getConnectionId();
  const entry = { session: null, promise: null };
  sessions.set(id, entry);
  entry.promise = connection.getMediaController().then((session) => {
    entry.session = session;
    bind(session, chat);
    if (chat.link.value === "connecting") { chat.link.value = "connected"; }
    setTimeout(() => { if (chat.link.value !== "ended") { loadTranscript(session, chat, 1).catch(() => {}); } }, RECHECK_MS);
    return loadTranscript(session, chat).then(() => session);
  }).catch((err) => {
    chat.link.value = "unavailable";
    console.warn("Parley workspace: no chat session for", id, err);
    return null;
  });
  return entry.promise;
}

export function dropSession(id) { sessions.delete(id); hydrated.delete(id); }
