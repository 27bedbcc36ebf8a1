// A clip's answer: the player, P(fake) over time, one row per face followed, the suspicious segments.

import { lane, timeChart } from "./chart.js";
import { clock, el, prob, span, verdictText } from "./format.js";

const player = document.getElementById("player");
const note = document.getElementById("player-note");
const chart = document.getElementById("chart");
let resize = null;

function seek(t) {
  player.currentTime = Math.max(t, 0);
  player.focus();
}

function tracks(answer, scale) {
  const rows = answer.tracks.map((track) => {
    const first = track.frames[0].t;
    const last = track.frames.at(-1).t;
    const label = el(
      "div",
      {},
      el("strong", { text: `Face ${track.id}: ` }),
      el("span", { class: `pill ${track.verdict}`, text: verdictText(track.verdict) }),
      el("div", {
        class: "note",
        text: `P(fake) ${prob(track.p_fake)} · ${span(first, last)} · ${track.frames.length} frame${track.frames.length === 1 ? "" : "s"}`,
      }),
    );
    return el("li", {}, label, lane(track.frames.map((f) => ({ t: f.t, p: f.p_fake })), scale));
  });
  const list = document.getElementById("tracks");
  list.replaceChildren(...(rows.length ? rows : [el("li", { class: "note", text: "No face was found in any sampled frame." })]));
}

function segments(answer) {
  const items = answer.segments.map((seg) => {
    const button = el("button", {
      type: "button",
      text: `${span(seg.start, seg.end)} · mean P(fake) ${prob(seg.p_fake)}`,
      "aria-label": `Play from ${clock(seg.start)}: suspicious from ${clock(seg.start)} to ${clock(seg.end)}, mean P(fake) ${prob(seg.p_fake)}`,
    });
    button.addEventListener("click", () => seek(seg.start));
    return el("li", {}, button);
  });
  const list = document.getElementById("segments");
  list.replaceChildren(
    ...(items.length ? items : [el("li", { class: "none", text: "None: no sampled frame reached the threshold." })]),
  );
}

export function showVideo(answer, url) {
  const duration = Math.max(answer.video.duration_s, ...answer.timeline.map((e) => e.t));
  const scale = { duration, threshold: answer.threshold, high: answer.high_threshold };
  note.hidden = true;
  player.onerror = () => {
    note.hidden = false;
    note.textContent =
      "Your browser cannot play this clip's codec; the service could read it, and the chart below is its reading.";
  };
  player.src = url;
  const points = answer.timeline.map((e) => ({ t: e.t, p: e.p_fake }));
  const draw = () =>
    timeChart(chart, { ...scale, points, segments: answer.segments, threshold: answer.threshold, onSeek: seek });
  let playhead = draw();
  resize?.disconnect();
  resize = new ResizeObserver(() => {
    playhead = draw();
    playhead(player.currentTime || 0);
  });
  resize.observe(chart);
  player.ontimeupdate = () => playhead(player.currentTime);
  player.onseeked = player.ontimeupdate;
  document.getElementById("chart-caption").textContent =
    `${answer.video.frames_sampled} frames sampled over ${clock(duration)} (${answer.video.fps.toFixed(1)} frames a second in the file). ` +
    "The line is each frame's most suspect face; shaded: the suspicious segments. Click the chart to play from there.";
  tracks(answer, scale);
  segments(answer);
}
