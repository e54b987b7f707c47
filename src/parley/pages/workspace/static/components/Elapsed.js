// Time since a moment, ticking with the clock: the only component that renders on each tick, so a timer in a
// header or a list row does not render the conversation around it every second.
import { now } from "../state.js";
import { duration } from "../format.js";

export function Elapsed({ since }) {
  return duration(now.value - since);
}
