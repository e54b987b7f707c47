// Telling the agent about a new offer: the polite live region always; a short tone and a browser notification
// when the tab is hidden, each unless the agent turned it off.
import { notice, prefs } from "../state.js";

let audio = null;

function tone() {
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch (e) { /* no audio output: the notice still tells */ }
}

export function announceOffer(view) {
  const what = view.invitation ? "Invitation to a chat with" : "Incoming chat from";
  const text = `${what} ${view.customerName}${view.queue ? ` (${view.queue})` : ""}`;
  notice.value = text;
  if (!document.hidden) { return; }
  if (prefs.value.sound) { tone(); }
  if (prefs.value.notify && "Notification" in window && Notification.permission === "granted") {
    try { new Notification("Parley: new chat", { body: text, tag: view.id }); } catch (e) { /* not allowed */ }
  }
}

// Asked when the agent turns notifications on (a click, as browsers require).
export async function askNotificationPermission() {
  if (!("Notification" in window)) { return "unsupported"; }
  if (Notification.permission !== "default") { return Notification.permission; }
  try { return await Notification.requestPermission(); } catch (e) { return "denied"; }
}
