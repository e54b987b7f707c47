// An incoming chat or an invitation to one: who, from which queue, who invited, a countdown, Accept / Reject.
import { html } from "../html.js";
import { config, now } from "../state.js";
import { accept, reject } from "../adapter/actions.js";
import { duration } from "../format.js";

export function OfferCard({ offer, first }) {
  const left = config.offerSeconds * 1000 - (now.value - offer.since);
  const title = offer.invitation ? "Invitation to join a chat" : offer.transferred ? "Transferred chat" : "Incoming chat";
  const heading = `offer-${offer.id}`;
  return html`
    <section class="offer" aria-labelledby=${heading}>
      <h3 id=${heading}>${title}</h3>
      <p class="offer-who">${offer.customerName}</p>
      ${offer.queue && html`<p class="muted">Queue: ${offer.queue}</p>`}
      ${offer.invitation && html`<p class="muted">Invited by ${offer.invitedBy.join(", ")}</p>`}
      <p class="countdown" aria-live="off">${left > 0 ? `Expires in ${duration(left)}` : "Expiring…"}</p>
      <div class="meter" aria-hidden="true"><span style=${{ width: `${Math.max(0, Math.min(100, (left / (config.offerSeconds * 10))))}%` }}></span></div>
      <div class="actions">
        <button type="button" class="primary" onClick=${() => accept(offer.id)}
          aria-keyshortcuts=${first ? "Alt+A" : undefined}>Accept</button>
        <button type="button" class="secondary" onClick=${() => reject(offer.id)}>Reject</button>
      </div>
    </section>`;
}
