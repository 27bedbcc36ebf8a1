// A photo's answer: the picture with each face's box and verdict, the faces table, the heat map.

import { el, prob, verdictText, WORDS } from "./format.js";

const picture = document.getElementById("picture");
const boxes = document.getElementById("boxes");
const heat = document.getElementById("heat");
const caption = document.getElementById("caption");

/** Boxes in percentages of the picture, so that they follow it at any displayed size. */
function drawBoxes(answer) {
  const { width, height } = answer.image;
  boxes.replaceChildren(
    ...answer.faces.map((face, i) => {
      const [x, y, w, h] = face.box;
      const tag = el("span", { class: `tag${y / height < 0.06 ? " inside" : ""}`, text: `${i + 1} · ${WORDS[face.verdict]} ${prob(face.p_fake)}` });
      const box = el("div", { class: `box ${face.verdict}` }, tag);
      Object.assign(box.style, {
        left: `${(100 * x) / width}%`,
        top: `${(100 * y) / height}%`,
        width: `${(100 * w) / width}%`,
        height: `${(100 * h) / height}%`,
      });
      return box;
    }),
  );
}

function facesTable(answer) {
  const rows = answer.faces.map((face, i) =>
    el(
      "tr",
      {},
      el("td", { text: String(i + 1) }),
      el("td", {}, el("span", { class: `pill ${face.verdict}`, text: verdictText(face.verdict) })),
      el("td", { text: prob(face.p_fake) }),
      el("td", { text: `${Math.round(face.confidence * 100)}%` }),
      el("td", { text: `${face.box[0]}, ${face.box[1]}, ${face.box[2]} × ${face.box[3]}` }),
    ),
  );
  document.querySelector("#faces-table tbody").replaceChildren(...rows);
  document.getElementById("faces-table").hidden = rows.length === 0;
}

/**
 * Shows the answer for `file` (already shown as `url`). `explain()` fetches the heat-map picture
 * once, when the switch is first turned on.
 */
export function showImage(answer, url, explain, about) {
  let explained = null;
  const count = answer.faces.length;
  document.getElementById("faces-count").textContent =
    count === 0 ? "No face found" : `${count} face${count === 1 ? "" : "s"} found`;
  facesTable(answer);
  drawBoxes(answer);
  const plain = () => {
    picture.src = url;
    picture.alt = "The uploaded picture, with a box around each face found";
    boxes.hidden = false;
    caption.textContent = count ? "Each box: the face's number, its verdict and its P(fake)." : "";
  };
  // A picture the browser cannot show (a TIFF, say) is shown as the service draws it.
  picture.onerror = () => {
    if (!heat.checked) {
      heat.checked = true;
      heat.dispatchEvent(new Event("change"));
    }
  };
  heat.checked = false;
  heat.disabled = false;
  heat.onchange = async () => {
    if (!heat.checked) return plain();
    heat.disabled = true;
    try {
      explained ||= URL.createObjectURL(await explain());
      picture.src = explained;
      picture.alt = "The uploaded picture with each face's heat map, box and verdict drawn by the service";
      boxes.hidden = true;
      caption.textContent =
        `Heat map (${about.explanation}): warm colours where the evidence for the face's verdict lies, ` +
        "none where the model found nothing.";
    } catch {
      heat.checked = false; // explain() has already said why
      plain();
    } finally {
      heat.disabled = false;
    }
  };
  plain();
}
