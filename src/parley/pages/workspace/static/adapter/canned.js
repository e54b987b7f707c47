// Canned responses from Parley's /agent/canned (the instance's list and the agent's own): loaded once the agent
// is signed in, searched in the browser, and the agent's own saved with the page's CSRF token.
import { canned, config } from "../state.js";

const URL_ = "/agent/canned";
const MAX_SHOWN = 8;

async function answer(response) {
  let data = {};
  try { data = await response.json(); } catch (e) { /* no JSON body */ }
  if (!response.ok) { throw new Error(data.message || `Parley answered ${response.status}.`); }
  return data;
}

export async function loadCanned() {
  try {
    const data = await answer(await fetch(URL_, { credentials: "same-origin", cache: "no-store" }));
    const own = (data.own || []).map((r) => ({ ...r, shared: false }));
    const shared = (data.shared || []).map((r) => ({ ...r, shared: true }));
    canned.value = { list: [...own, ...shared], loaded: true, error: "" };
  } catch (err) {
    canned.value = { ...canned.value, loaded: true, error: err.message || String(err) };
  }
}

// Save one of the agent's own; resolves with the saved response, rejects with Parley's reason.
export async function saveCanned(name, text) {
  const saved = await answer(await fetch(URL_, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
    body: JSON.stringify({ name, text }),
  }));
  await loadCanned();
  return saved;
}

// Delete one of the agent's own; resolves once it is gone (the list is loaded again), rejects with Parley's reason.
export async function deleteCanned(id) {
  const response = await fetch(`${URL_}/${encodeURIComponent(id)}`, {
    method: "DELETE", credentials: "same-origin", cache: "no-store", headers: { "X-CSRF-Token": config.csrf },
  });
  if (!response.ok) { await answer(response); }
  await loadCanned();
}

// The responses matching what follows "/": every word of the query in the name or the text, names that start with
// the query first, the agent's own before the instance's; at most eight.
export function searchCanned(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const wanted = query.trim().toLowerCase();
  const found = canned.value.list.filter((r) => {
    const hay = `${r.name} ${r.text}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const rank = (r) => (wanted && r.name.toLowerCase().startsWith(wanted) ? 0 : 1);
  return found.map((r, i) => [r, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .slice(0, MAX_SHOWN).map(([r]) => r);
}
