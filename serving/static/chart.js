// P(fake) over a clip's time as SVG, drawn at the width it is shown at (text stays legible on phones).

import { clock, prob, svg } from "./format.js";

const PAD = { left: 38, right: 16, top: 16, bottom: 30 };
const STEPS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

function step(duration, width) {
  const most = Math.max(2, Math.floor(width / 70));
  return STEPS.find((s) => duration / s <= most) || STEPS.at(-1);
}

function line(points, x, y) {
  return points.map((pt, i) => `${i ? "L" : "M"}${x(pt.t).toFixed(1)},${y(pt.p).toFixed(1)}`).join("");
}

/**
 * The clip's P(fake) (each frame's most suspect face), the two thresholds, the suspicious segments
 * shaded; a click seeks. Returns a function that moves the playhead.
 */
export function timeChart(container, { duration, points, threshold, high, segments, onSeek }) {
  const width = Math.max(container.clientWidth - 2, 260);
  const height = 230;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const span = Math.max(duration, 1e-3);
  const x = (t) => PAD.left + (Math.min(Math.max(t, 0), span) / span) * plotW;
  const y = (p) => PAD.top + (1 - p) * plotH;
  const worst = points.reduce((a, b) => (b.p > a.p ? b : a), points[0] || { t: 0, p: 0 });
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label":
      `P(fake) of ${points.length} sampled frames over ${clock(duration)}: highest ${prob(worst.p)} at ` +
      `${clock(worst.t)}; ${segments.length} suspicious segment${segments.length === 1 ? "" : "s"}.`,
  });
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    root.append(
      svg("line", { class: "grid", x1: PAD.left, x2: width - PAD.right, y1: y(p), y2: y(p) }),
      svg("text", { x: PAD.left - 6, y: y(p) + 4, "text-anchor": "end", text: p.toFixed(2) }),
    );
  }
  for (const seg of segments) {
    const left = x(seg.start);
    root.append(svg("rect", { class: "band", x: left, y: PAD.top, width: Math.max(x(seg.end) - left, 3), height: plotH }));
  }
  root.append(
    svg("line", { class: "low", x1: PAD.left, x2: width - PAD.right, y1: y(threshold), y2: y(threshold) }),
    svg("text", { x: width - PAD.right, y: y(threshold) + 14, "text-anchor": "end", text: `suspicious from ${prob(threshold)}` }),
    svg("line", { class: "high", x1: PAD.left, x2: width - PAD.right, y1: y(high), y2: y(high) }),
    svg("text", { x: width - PAD.right, y: y(high) - 5, "text-anchor": "end", text: `fake from ${prob(high)}` }),
    svg("path", { class: "series", d: line(points, x, y) }),
  );
  for (const pt of points) root.append(svg("circle", { class: "dot", cx: x(pt.t), cy: y(pt.p), r: 3 }));
  const every = step(span, plotW);
  for (let t = 0; t <= span + 1e-9; t += every) {
    root.append(
      svg("line", { class: "axis", x1: x(t), x2: x(t), y1: y(0), y2: y(0) + 5 }),
      svg("text", { x: x(t), y: height - 8, "text-anchor": "middle", text: clock(t) }),
    );
  }
  root.append(svg("line", { class: "axis", x1: PAD.left, x2: width - PAD.right, y1: y(0), y2: y(0) }));
  const head = svg("line", { class: "playhead", x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: y(0), visibility: "hidden" });
  const hit = svg("rect", { class: "hit", x: PAD.left, y: PAD.top, width: plotW, height: plotH });
  hit.addEventListener("click", (event) => {
    const box = root.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * width;
    onSeek(((px - PAD.left) / plotW) * span);
  });
  root.append(head, hit);
  container.replaceChildren(root);
  return (t) => {
    head.setAttribute("x1", x(t));
    head.setAttribute("x2", x(t));
    head.setAttribute("visibility", "visible");
  };
}

/** One face's P(fake) through the clip, on the same time span: a small lane for the track list. */
export function lane(points, { duration, threshold, high }) {
  const width = 600;
  const height = 36;
  const span = Math.max(duration, 1e-3);
  const x = (t) => 4 + (t / span) * (width - 8);
  const y = (p) => 3 + (1 - p) * (height - 6);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  root.append(
    svg("line", { class: "low", x1: 0, x2: width, y1: y(threshold), y2: y(threshold), "vector-effect": "non-scaling-stroke" }),
    svg("line", { class: "high", x1: 0, x2: width, y1: y(high), y2: y(high), "vector-effect": "non-scaling-stroke" }),
    svg("path", { class: "series", d: line(points, x, y), "vector-effect": "non-scaling-stroke" }),
  );
  for (const pt of points) {
    root.append(svg("rect", { class: "frame", x: x(pt.t) - 2, y: y(pt.p) - 2, width: 4, height: 4 }));
  }
  return root;
}
