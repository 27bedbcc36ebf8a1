// The service's routes, called from the page's own origin, and what is an image or a video.

const ROOT = new URL("../", import.meta.url); // the page lives at /ui/, the API at /

const STATUS = {
  400: "Bad request",
  413: "Too large",
  415: "Unsupported format",
  422: "Unreadable",
  503: "Busy",
};
const NEXT = {
  413: "Try a smaller picture or a shorter clip.",
  415: "Send a photo or a video in one of the formats listed above.",
  422: "The file could not be read as it is: it may be cut short or damaged.",
  503: "Too many requests at once: try again in a few seconds.",
};

/** The service said no: its status and its own message. */
export class Refused extends Error {
  constructor(status, message, next = NEXT[status] || "") {
    super(message);
    this.status = status;
    this.title = status ? `The service refused this file (${status} ${STATUS[status] || "error"}).` : "No answer.";
    this.next = next;
  }
}

/** POST one file to a route as the multipart field the route reads; JSON back, or a Blob for explain. */
export async function post(route, field, file, signal) {
  const form = new FormData();
  form.append(field, file, file.name || "upload");
  let response;
  try {
    response = await fetch(new URL(route, ROOT), { method: "POST", body: form, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new Refused(0, "The service did not answer.", "Is `bentoml serve` still running? Try again in a moment.");
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = JSON.parse(text).error || text;
    } catch {
      // not the service's JSON (a proxy's page, say): show its text as it is
    }
    throw new Refused(response.status, message || response.statusText);
  }
  return route === "explain" ? response.blob() : response.json();
}

export async function about() {
  const response = await fetch(new URL("about.json", import.meta.url));
  if (!response.ok) throw new Error(`about.json: ${response.status}`);
  return response.json();
}

/** "video" when the file's first bytes are an MP4/MOV, Matroska/WebM or AVI container, or the browser
 * says it is a video; "image" otherwise (the service reads the format from the bytes in both cases). */
export async function kindOf(file) {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const ascii = (from, to) => String.fromCharCode(...head.slice(from, to));
  const matroska = head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3;
  // HEIF and AVIF photos share MP4's box format: their brand tells them apart.
  const mp4 = ascii(4, 8) === "ftyp" && !["heic", "heix", "mif1", "msf1", "avif", "avis"].includes(ascii(8, 12));
  const avi = ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ";
  return matroska || mp4 || avi || file.type.startsWith("video/") ? "video" : "image";
}
