// The screens around the workspace: loading, signed out (sign in through the CCP's sign-in page), errors.
import { html } from "../html.js";
import { config, phase, problem } from "../state.js";

export function Screen() {
  if (phase.value === "signedOut") {
    return html`
      <main id="main" class="screen">
        <h1>Agent workspace</h1>
        <p>You are signed out. Sign in with your Parley agent account to take chats.</p>
        <a class="button primary" href=${config.loginUrl}>Sign in</a>
        ${config.linkError && html`<p class="refusal" role="alert">${config.linkError}</p>`}
      </main>`;
  }
  if (phase.value === "error") {
    return html`<main id="main" class="screen"><h1>Agent workspace</h1>
      <p class="refusal" role="alert">${problem.value}</p>
      <button type="button" class="primary" onClick=${() => location.reload()}>Reload</button></main>`;
  }
  return html`<main id="main" class="screen"><h1>Agent workspace</h1>
    <p role="status">${phase.value === "connecting" ? "Connecting to your CCP…" : "Loading…"}</p></main>`;
}
