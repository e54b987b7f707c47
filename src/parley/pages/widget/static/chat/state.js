// The chat's state as signals, and the only functions that change it. The adapter (adapter.js) feeds it what
// ChatJS reports; components read it. Nothing here calls the network.
import { batch, computed, signal } from "@preact/signals";
import { CT, presence, receiptsOf, toEntry } from "./model.js";

const TYPING_SHOWN_MS = 12000; // Connect's chat interface clears a typing indicator after 12 s without news
const MAX_PARTY_COLOURS = 6;

const byTime = (a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.order - b.order);

export function createChatState() {
  const chat = {
    // prechat | starting | connecting | open | reconnecting | ending | ended | failed
    phase: signal("prechat"),
    problem: signal(null), // {message, retry} for the failed screen and the pre-chat form
    composerProblem: signal(""), // a file refused, a message not sent...
    me: signal({ participantId: "", name: "" }),
    entries: signal([]),
    participants: signal(new Map()), // participantId -> {name, role, colour, active}
    receipts: signal(new Map()), // messageId -> "Delivered" | "Read"
    typing: signal([]), // [{participantId, name}]
    historyLoaded: signal(false), // the log announces additions only after the first transcript read
    visible: signal(true), // false while the widget's window is closed on the host page
    unread: signal(0),
    loadingHistory: signal(false),
    focusComposer: false, // set when the customer starts a chat: the message box takes the focus once it shows
  };
  const seen = new Set();
  const typingTimers = new Map();
  let order = 0;
  let colours = 0;
  let localIds = 0;

  chat.activeCount = computed(() => [...chat.participants.value.values()].filter((p) => p.active).length);
  chat.active = computed(() => ["connecting", "open", "reconnecting", "ending"].includes(chat.phase.value));
  // Receipts are shown (and sent) only while the chat has two participants, as in Amazon Connect.
  chat.receiptsOn = computed(() => chat.activeCount.value === 2);

  function party(participantId, name, role) {
    const map = new Map(chat.participants.value);
    let known = map.get(participantId);
    if (!known) {
      const colour = role === "CUSTOMER" ? "customer" : role === "SYSTEM" ? "system"
        : String((colours++ % MAX_PARTY_COLOURS) + 1);
      known = { name, role, colour, active: false };
    }
    map.set(participantId, { ...known, name: name || known.name });
    chat.participants.value = map;
    return map.get(participantId);
  }

  function setActive(participantId, active) {
    const map = new Map(chat.participants.value);
    const known = map.get(participantId);
    if (known && known.active !== active) {
      map.set(participantId, { ...known, active });
      chat.participants.value = map;
    }
  }

  function stopTyping(participantId) {
    clearTimeout(typingTimers.get(participantId));
    typingTimers.delete(participantId);
    if (chat.typing.value.some((t) => t.participantId === participantId)) {
      chat.typing.value = chat.typing.value.filter((t) => t.participantId !== participantId);
    }
  }

  /** Items from ChatJS (live) or GetTranscript, each shown once whatever the order they arrive in. Returns the
   * entries that are new and came from someone else (the adapter sends receipts for them). */
  chat.receive = (items, { live = false } = {}) => {
    const incoming = [];
    batch(() => {
      const me = chat.me.value.participantId;
      const added = [];
      for (const item of items) {
        if (!item || !item.Id || seen.has(item.Id)) continue;
        seen.add(item.Id);
        for (const r of receiptsOf(item)) if (r.participantId !== me) chat.markReceipt(r.messageId, r.read);
        if (item.ParticipantId && item.ParticipantRole) party(item.ParticipantId, item.DisplayName, item.ParticipantRole);
        const change = presence(item);
        if (change) setActive(item.ParticipantId, change === "joined");
        const entry = toEntry(item, me);
        if (entry) {
          entry.order = order++;
          added.push(entry);
          if (!entry.mine && entry.kind !== "notice") {
            incoming.push(entry);
            stopTyping(entry.participantId);
          }
        }
        if (item.ContentType === CT.ended) chat.phase.value = "ended";
      }
      if (!added.length) return;
      chat.entries.value = [...chat.entries.value, ...added].sort(byTime);
      if (live && incoming.length && !chat.visible.value) chat.unread.value += incoming.length;
    });
    return live ? incoming : [];
  };

  chat.markReceipt = (messageId, read) => {
    const current = chat.receipts.value.get(messageId);
    if (current === "Read" || (current === "Delivered" && !read)) return;
    const map = new Map(chat.receipts.value);
    map.set(messageId, read ? "Read" : "Delivered");
    chat.receipts.value = map;
  };

  chat.typingFrom = (item) => {
    const who = item.ParticipantId;
    if (!who || who === chat.me.value.participantId) return;
    clearTimeout(typingTimers.get(who));
    typingTimers.set(who, setTimeout(() => stopTyping(who), TYPING_SHOWN_MS));
    if (!chat.typing.value.some((t) => t.participantId === who)) {
      const name = item.DisplayName || (chat.participants.value.get(who) || {}).name || "Someone";
      chat.typing.value = [...chat.typing.value, { participantId: who, name }];
    }
  };

  /** A message of mine shown at once, before the server has it. */
  chat.addPending = (fields) => {
    const entry = {
      id: `local-${++localIds}`, time: new Date().toISOString(), order: order++, mine: true, pending: true,
      participantId: chat.me.value.participantId, name: chat.me.value.name, role: "CUSTOMER", ...fields,
    };
    chat.entries.value = [...chat.entries.value, entry];
    return entry.id;
  };

  /** The server took a pending message: it becomes the item of that Id (unless the echo came first). */
  chat.confirm = (localId, id, time) => {
    if (seen.has(id)) {
      chat.entries.value = chat.entries.value.filter((e) => e.id !== localId);
      return;
    }
    seen.add(id);
    chat.entries.value = chat.entries.value
      .map((e) => (e.id === localId ? { ...e, id, time: time || e.time, pending: false, failed: false } : e))
      .sort(byTime);
  };

  chat.updatePending = (localId, fields) => {
    chat.entries.value = chat.entries.value.map((e) => (e.id === localId ? { ...e, ...fields } : e));
  };

  chat.dropPending = (localId) => {
    chat.entries.value = chat.entries.value.filter((e) => e.id !== localId);
  };

  chat.opening = (participantId, name) => {
    batch(() => {
      chat.me.value = { participantId, name };
      party(participantId, name, "CUSTOMER");
      setActive(participantId, true);
      chat.problem.value = null;
      chat.phase.value = "connecting";
    });
  };

  chat.fail = (message, retry) => {
    batch(() => {
      chat.problem.value = { message, retry };
      chat.phase.value = "failed";
    });
  };

  chat.show = (visible) => {
    chat.visible.value = visible;
    if (visible) chat.unread.value = 0;
  };

  /** Forget the chat (a new one starts from the pre-chat form). */
  chat.reset = (problem = null) => {
    for (const timer of typingTimers.values()) clearTimeout(timer);
    typingTimers.clear();
    seen.clear();
    colours = 0;
    batch(() => {
      chat.entries.value = [];
      chat.participants.value = new Map();
      chat.receipts.value = new Map();
      chat.typing.value = [];
      chat.unread.value = 0;
      chat.composerProblem.value = "";
      chat.historyLoaded.value = false;
      chat.problem.value = problem;
      chat.me.value = { participantId: "", name: "" };
      chat.phase.value = "prechat";
    });
  };

  return chat;
}
