// The agent workspace's entry point: render the app, tick the timers, start StreamsJS in the hidden CCP frame.
import { render } from "preact";
import { html } from "./html.js";
import { App } from "./components/App.js";
import { now, phase, problem } from "./state.js";
import { start } from "./adapter/streams.js";

const CCP_WAIT_MS = 30000;

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
setInterval(() => { now.value = Date.now(); }, 1000);
start(document.getElementById("ccp"));
setTimeout(() => {
  if (phase.value === "connecting") {
    phase.value = "error";
    problem.value = "Your CCP did not answer. If you are signed in to another instance, sign out and sign in again; " +
      "otherwise reload this page.";
  }
}, CCP_WAIT_MS);
