// Words, numbers and elements the views share. Text is always set as text, never parsed as HTML.

export const WORDS = { real: "Real", suspicious: "Suspicious", fake: "Fake" };
const SYMBOLS = { real: "✓", suspicious: "!", fake: "✕" };

/** A verdict as people read it: a symbol and a word, so that colour is never the only cue. */
export function verdictText(verdict) {
  return `${SYMBOLS[verdict]} ${WORDS[verdict]}`;
}

export function prob(p) {
  return p.toFixed(2);
}

/** Seconds as mm:ss (with tenths when `tenths`). */
export function clock(seconds, tenths = false) {
  const whole = tenths ? Math.floor(seconds) : Math.round(seconds);
  const mm = String(Math.floor(whole / 60)).padStart(2, "0");
  const ss = String(whole % 60).padStart(2, "0");
  return tenths ? `${mm}:${ss}.${Math.floor((seconds - whole) * 10)}` : `${mm}:${ss}`;
}

/** A time span, precise enough that its two ends never read the same. */
export function span(start, end) {
  const tenths = clock(start) === clock(end);
  return `${clock(start, tenths)}–${clock(end, tenths)}`;
}

export function megabytes(n) {
  return `${(n / 1e6).toLocaleString("en", { maximumFractionDigits: 0 })} MB`;
}

/** An element with attributes (`class`, `text`, anything else as an attribute) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** The same for SVG. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  node.append(...children);
  return node;
}
