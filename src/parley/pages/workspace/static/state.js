// The workspace's state as signals. Only the adapter (adapter/*.js) writes the vendor-derived parts; components
// read signals and call the adapter's actions, never the network.
import { signal, computed } from "@preact/signals";

const body = document.body.dataset;
export const config = {
  ccpUrl: new URL(body.ccpUrl || "/connect/ccp-v2/", location.origin).href,
  instance: body.instance || "",
  loginUrl: body.loginUrl || "/connect/login?landat=/agent",
  region: body.region || "us-west-2",
  offerSeconds: Number(body.offerSeconds) || 20,
  linkError: body.linkError || "",
  csrf: body.csrf || "",
  maxParties: 6,
};

// "loading" | "signedOut" | "connecting" | "ready" | "error"
export const phase = signal("loading");
export const problem = signal("");
// { name, state: {name, type, since}, states: [{name, type}], slots }
export const agent = signal(null);
// Contact views from StreamsJS, newest snapshot: see adapter/contacts.js viewOf().
export const contacts = signal([]);
export const endpoints = signal({ list: [], error: "", loaded: false });
export const selectedId = signal(null);
export const now = signal(Date.now());
export const notice = signal("");       // polite announcement (live region)
export const alertText = signal("");    // a failure the agent must see (role=alert)
export const picker = signal(null);     // { contactId, mode: "add" | "transfer" }
export const helpOpen = signal(false);
export const narrow = signal(false);    // phone layout: list or conversation
export const showList = signal(false); // phone: the chat list instead of the open chat
// Canned responses: the instance's and the agent's own ({ id, name, text, shared }), from /agent/canned.
export const canned = signal({ list: [], loaded: false, error: "" });
export const saving = signal(null);     // { text }: the "Save reply" dialog is open with this text

const PREFS_KEY = "parley.workspace.prefs";
function loadPrefs() {
  try { return { sound: true, notify: true, ...JSON.parse(localStorage.getItem(PREFS_KEY) || "{}") }; }
  catch (e) { return { sound: true, notify: true }; }
}
export const prefs = signal(loadPrefs());
export function setPref(name, value) {
  prefs.value = { ...prefs.value, [name]: value };
  try { localStorage.setItem(PREFS_KEY, JSON.stringify(prefs.value)); } catch (e) { /* storage full or off */ }
}

// One record per chat (contact id): its items by Id, typing, receipts, unread count, connection, draft, scroll.
const chats = new Map();
export function chatOf(id) {
  let chat = chats.get(id);
  if (!chat) {
    chat = {
      id,
      // The items, ordered by time and de-duplicated by Id, in one array that grows in place (adapter/chat.js
      // addItems); `version` counts its changes. Read them as `chat.items.value`, which subscribes to `version`.
      list: [],
      version: signal(0),
      items: null,
      last: signal(null),         // the newest MESSAGE or ATTACHMENT item (the chat list's preview)
      shown: 0,                   // how many of the newest items the transcript shows (0: its default)
      seen: 0,                    // how many items the transcript had when it last rendered
      ids: new Set(),
      typing: signal({}),         // participantId -> { name, until }
      receipts: signal({}),       // messageId -> "Delivered" | "Read"
      unread: signal(0),
      link: signal("connecting"), // "connecting" | "connected" | "lost" | "ended" | "unavailable"
      me: signal(""),             // my participant id in this chat
      scroll: null,               // scrollTop kept while another chat is shown (null: at the bottom)
    };
    const record = chat;
    chat.items = { get value() { void record.version.value; return record.list; }, peek: () => record.list };
    chats.set(id, chat);
  }
  return chat;
}
export function forgetChat(id) { chats.delete(id); }

export const offers = computed(() => contacts.value.filter((c) => c.offer));
export const openChats = computed(() => contacts.value.filter((c) => !c.offer));
export const selected = computed(() => openChats.value.find((c) => c.id === selectedId.value) || null);
