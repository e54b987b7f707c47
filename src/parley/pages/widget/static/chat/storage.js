// Where a chat's connection details (ContactId, ParticipantId, ParticipantToken, ...) wait for a reload: this
// page's sessionStorage when the browser allows it. A widget window framed by another site often may not use
// storage (third-party storage is blocked); then the host page keeps them for it (chat/host.js).
const valid = (value) => !!value && typeof value === "object" && typeof value.ContactId === "string"
  && typeof value.ParticipantId === "string" && typeof value.ParticipantToken === "string";

export function sessionStore(key) {
  let available = false;
  try {
    const probe = `${key}.probe`;
    sessionStorage.setItem(probe, "1");
    sessionStorage.removeItem(probe);
    available = true;
  } catch { /* blocked (a third-party frame) or disabled */ }
  return {
    available,
    load() {
      try {
        const value = JSON.parse(sessionStorage.getItem(key) || "null");
        return valid(value) ? value : null;
      } catch {
        return null;
      }
    },
    save(value) {
      try {
        if (value) sessionStorage.setItem(key, JSON.stringify(value));
        else sessionStorage.removeItem(key);
      } catch { /* the chat still works; a reload forgets it */ }
    },
  };
}

/** A store kept by someone else: `load` returns what `initial` was given, `save` hands changes to `send`. */
export function relayStore(initial, send) {
  let value = valid(initial) ? initial : null;
  return {
    available: true,
    load: () => value,
    save(next) {
      value = next || null;
      send(value);
    },
  };
}
