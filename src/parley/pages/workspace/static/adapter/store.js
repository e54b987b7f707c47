// What survives a reload: each chat's transcript (sessionStorage, so a chat in after-contact work stays readable
// when its session is gone), drafts (localStorage) and the chat on screen. Keys carry the contact id.
const ITEMS = "parley.ws.items.";
const DRAFT = "parley.ws.draft.";
const SELECTED = "parley.ws.selected";
const READ = "parley.ws.read.";
const KEEP = 400; // newest items kept per chat

function read(storage, key, fallback) {
  try {
    const raw = storage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch (e) { return fallback; }
}
function write(storage, key, value) {
  try { storage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or disabled: keep going */ }
}

export const cachedItems = (id) => read(sessionStorage, ITEMS + id, []);
export function cacheItems(id, items) { write(sessionStorage, ITEMS + id, items.slice(-KEEP)); }
export const draftOf = (id) => read(localStorage, DRAFT + id, "");
export function saveDraft(id, text) {
  if (text) { write(localStorage, DRAFT + id, text); } else { try { localStorage.removeItem(DRAFT + id); } catch (e) { /* off */ } }
}
// The time of the newest item the agent had on screen in a chat: what a reload counts unread messages from.
export const seenMark = (id) => read(sessionStorage, READ + id, "");
export function markSeen(id, time) { if (time) { write(sessionStorage, READ + id, time); } }
export const savedSelection = () => read(sessionStorage, SELECTED, null);
export function saveSelection(id) { write(sessionStorage, SELECTED, id); }
export function forget(id) {
  try {
    sessionStorage.removeItem(ITEMS + id); sessionStorage.removeItem(READ + id); localStorage.removeItem(DRAFT + id);
  } catch (e) { /* off */ }
}
