// htm bound to Preact's h: components write html`<p>${text}</p>`, and every ${value} is set as text.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
