// The page: a file from the picker, a drop or the clipboard goes to /predict or /predict_video, and
// the answer is shown in words first, then the faces, the heat map or the timeline.

import { about, kindOf, post, Refused } from "./api.js";
import { el, megabytes, prob, verdictText } from "./format.js";
import { showImage } from "./image-view.js";
import { showVideo } from "./video-view.js";

const $ = (id) => document.getElementById(id);
let model = null; // about.json
let current = null; // the request under way: an AbortController
let shownUrl = null;

function busy(text) {
  const started = performance.now();
  const status = $("busy");
  status.classList.add("on");
  $("busy-text").textContent = `${text}…`;
  const tick = setInterval(() => {
    $("busy-text").textContent = `${text}… ${Math.round((performance.now() - started) / 1000)} s`;
  }, 1000);
  return () => {
    clearInterval(tick);
    status.classList.remove("on");
    $("busy-text").textContent = "";
  };
}

function showError(err) {
  const box = $("error");
  if (err instanceof Refused) {
    box.replaceChildren(el("strong", { text: err.title }), el("span", { text: err.message }));
    if (err.next) box.append(el("p", { class: "note", text: err.next }));
  } else {
    box.replaceChildren(el("strong", { text: "Something went wrong in the page." }), el("span", { text: String(err) }));
  }
  box.hidden = false;
}

/** Runs one request with the progress indicator on and its refusal shown; rethrows so callers stop. */
async function run(text, request) {
  const done = busy(text);
  $("error").hidden = true;
  try {
    return await request();
  } catch (err) {
    if (err.name !== "AbortError") showError(err);
    throw err;
  } finally {
    done();
  }
}

function thresholdsSentence(threshold, high) {
  // Two decimals, unless the two thresholds would then read the same.
  const digits = prob(threshold) === prob(high) && threshold !== high ? 4 : 2;
  const [low, top] = [threshold.toFixed(digits), high.toFixed(digits)];
  return (
    `P(fake) is the model's calibrated probability that a face is generated. Below ${low} a face ` +
    `reads real; from ${low} suspicious (the threshold chosen on validation images); from ` +
    `${top} fake (a score that ${model?.card?.high_confidence_fpr ? `only ${Math.round(model.card.high_confidence_fpr * 100)}% of` : "few"} ` +
    "real validation faces reach)."
  );
}

function showVerdict(answer, what, more = "") {
  const card = $("verdict");
  card.className = `verdict ${answer.verdict}`;
  $("verdict-word").textContent = verdictText(answer.verdict);
  $("verdict-detail").textContent =
    `${what}: P(fake) ${prob(answer.p_fake)}. ` +
    {
      real: "Nothing here looks generated to this model.",
      suspicious: "Above the threshold, but not where the model is sure: look closer.",
      fake: "The model is confident it is generated.",
    }[answer.verdict];
  $("threshold-note").textContent = thresholdsSentence(answer.threshold, answer.high_threshold) + more;
  $("warnings").replaceChildren(...answer.warnings.map((w) => el("li", { text: w[0].toUpperCase() + w.slice(1) + "." })));
}

async function check(file) {
  current?.abort();
  current = new AbortController();
  const { signal } = current;
  $("result").hidden = true;
  const kind = await kindOf(file);
  const video = kind === "video";
  const answer = await run(video ? `Judging the clip, frame by frame` : "Finding the faces and judging them", () =>
    post(video ? "predict_video" : "predict", video ? "video" : "image", file, signal),
  ).catch(() => null);
  if (!answer || signal.aborted) return;
  if (shownUrl) URL.revokeObjectURL(shownUrl);
  shownUrl = URL.createObjectURL(file);
  $("image-view").hidden = video;
  $("video-view").hidden = !video;
  if (video) {
    showVerdict(answer, "The clip", ` The clip's P(fake) is ${answer.rule.split(": ").slice(1).join(": ")}.`);
    $("result").hidden = false; // before drawing: the chart takes the width it is shown at
    showVideo(answer, shownUrl);
  } else {
    const n = answer.faces.length;
    showVerdict(answer, n > 1 ? `The most suspect of ${n} faces` : n === 1 ? "The face" : "The whole image");
    showImage(answer, shownUrl, () => run("Drawing the heat maps", () => post("explain", "image", file, signal)), model);
    $("result").hidden = false;
  }
  $("verdict-word").focus?.();
}

const RUNTIMES = {
  keras: "Keras",
  onnx: "ONNX Runtime (the same network, FP32)",
  "onnx-int8": "ONNX Runtime, the network quantized to INT8",
};

function aboutPanel(info) {
  const card = info.card || {};
  const rows = [["Model", `${info.model} · ${info.bentoml_tag}${info.mlflow_version ? ` · MLflow version ${info.mlflow_version}` : ""}`]];
  if (card.trained_on) {
    const splits = card.images || {};
    const count = (s) => (splits[s] ? (splits[s].real || 0) + (splits[s].fake || 0) : 0);
    const train = splits.train ? ` ${count("train").toLocaleString("en")} training images (${splits.train.real.toLocaleString("en")} real, ${splits.train.fake.toLocaleString("en")} fake), ${count("valid").toLocaleString("en")} for validation.` : "";
    rows.push(["Trained on", `${card.trained_on}.${train}`, card.warning ? "caveat" : ""]);
  }
  if (card.test) {
    const [low, high] = card.test.roc_auc_ci95;
    rows.push([
      "Test ROC-AUC",
      `${card.test.roc_auc.toFixed(3)} (95% CI ${low.toFixed(3)}–${high.toFixed(3)}) on ${card.test.n.toLocaleString("en")} held-out images; accuracy ${card.test.accuracy.toFixed(3)}. 0.5 is chance.`,
    ]);
  }
  if (card.worst_robustness) {
    const w = card.worst_robustness;
    rows.push([
      "Weakest when",
      `${w.text}: ROC-AUC ${w.roc_auc.toFixed(3)}, against ${w.clean_roc_auc.toFixed(3)} untouched${w.roc_auc < 0.6 ? " (0.5 is chance)" : ""}.`,
    ]);
  }
  rows.push(["Thresholds", `suspicious from ${prob(info.threshold)}, fake from ${prob(info.high_threshold)} (P(fake), chosen on validation)`]);
  const runtime = RUNTIMES[info.runtime] || info.runtime;
  const own = info.runtime_test;
  rows.push(["Scored by", own ? `${runtime}: test ROC-AUC ${own.roc_auc.toFixed(3)}, accuracy ${own.accuracy.toFixed(3)}, with its own thresholds` : runtime]);
  rows.push(["Heat maps", info.explanation]);
  $("about").replaceChildren(...rows.flatMap(([k, v, c = ""]) => [el("dt", { text: k }), el("dd", { class: c, text: v })]));
  if (card.warning) {
    $("warning").textContent = card.warning;
    $("warning").hidden = false;
  }
  $("model-line").textContent = `Answering: ${info.model} (${info.bentoml_tag}${info.mlflow_version ? `, MLflow v${info.mlflow_version}` : ""})`;
  const limits = info.limits;
  $("limits").textContent =
    `Photos: ${limits.image_formats.join(", ")}, up to ${megabytes(limits.image_max_bytes)}. ` +
    `Videos: ${limits.video_containers.join(", ")}, up to ${megabytes(limits.video_max_bytes)} and ${Math.round(limits.video_max_seconds / 60)} minutes.`;
}

function first(files) {
  const file = files && files[0];
  if (file) check(file);
}

function wire() {
  const input = $("file");
  input.addEventListener("change", () => {
    first(input.files);
    input.value = ""; // the same file chosen again is checked again
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    first(event.dataTransfer.files);
  });
  // A file dropped anywhere else would make the browser open it and leave the page.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  document.addEventListener("paste", (event) => first(event.clipboardData?.files));
  $("verdict-word").tabIndex = -1; // focus moves to the verdict when it is shown
}

wire();
about()
  .then((info) => {
    model = info;
    aboutPanel(info);
  })
  .catch((err) => showError(err));
