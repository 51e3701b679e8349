// pixelfes web page: plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  file: null,          // the photo as a Blob (sent with every request; the server caches by hash)
  name: "photo.jpg",
  originalURL: null,
  resultURL: null,
  faces: [],           // [{index, box: [x0, y0, x1, y1]}]
  width: 0, height: 0,
  selected: new Set(),
  direction: null,     // {from, to}
  actionUnits: [],
  seq: 0,              // the newest request; older answers are dropped
  controller: null,
  timer: null,
};

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

async function errorText(response) {
  try { return (await response.json()).detail || response.statusText; }
  catch { return response.statusText; }
}

async function loadModels() {
  const response = await fetch("/api/models");
  if (!response.ok) { setStatus("Cannot list the models: " + await errorText(response), true); return; }
  const info = await response.json();
  const box = $("expressions");
  box.textContent = "";
  for (const d of info.directions) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = d.from === "neutral" ? d.to : `${d.to} (from ${d.from})`;
    b.dataset.to = d.to;
    b.dataset.from = d.from;
    b.title = `${d.from} → ${d.to} (model ${d.model})`;
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => chooseDirection(d, b));
    box.appendChild(b);
  }
  $("strength").max = String(info.max_strength || 2);
  state.actionUnits = info.action_units || [];
  if (state.actionUnits.length) buildActionUnits(state.actionUnits);
}

function buildActionUnits(units) {
  const host = $("au-sliders");
  host.textContent = "";
  for (const au of units) {
    const id = `au-${au.id ?? au}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = "slider-label";
    label.textContent = `AU ${au.id ?? au} ${au.name ?? ""}`;
    const input = document.createElement("input");
    Object.assign(input, { id, type: "range", min: "0", max: "1", step: "0.05", value: "0" });
    input.dataset.au = String(au.id ?? au);
    input.addEventListener("input", scheduleUpdate);
    host.append(label, input);
  }
  $("aus").hidden = false;
}

function chooseDirection(direction, button) {
  state.direction = direction;
  for (const b of $("expressions").children) b.setAttribute("aria-pressed", String(b === button));
  update();
}

function drawBoxes() {
  const host = $("boxes");
  host.textContent = "";
  for (const face of state.faces) {
    const [x0, y0, x1, y1] = face.box;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "face" + (state.selected.has(face.index) ? "" : " off");
    b.style.left = `${(100 * x0) / state.width}%`;
    b.style.top = `${(100 * y0) / state.height}%`;
    b.style.width = `${(100 * (x1 - x0)) / state.width}%`;
    b.style.height = `${(100 * (y1 - y0)) / state.height}%`;
    b.setAttribute("aria-pressed", String(state.selected.has(face.index)));
    b.setAttribute("aria-label", `face ${face.index + 1}`);
    const tag = document.createElement("span");
    tag.textContent = `face ${face.index + 1}`;
    b.appendChild(tag);
    b.addEventListener("click", (event) => {
      event.stopPropagation();
      if (state.selected.has(face.index)) state.selected.delete(face.index);
      else state.selected.add(face.index);
      drawBoxes();
      update();
    });
    host.appendChild(b);
  }
}

function showImage(url) { $("photo").src = url; }

async function loadPhoto(blob, name) {
  state.file = blob;
  state.name = name || "photo.jpg";
  state.faces = [];
  state.selected = new Set();
  if (state.originalURL) URL.revokeObjectURL(state.originalURL);
  if (state.resultURL) URL.revokeObjectURL(state.resultURL);
  state.resultURL = null;
  state.originalURL = URL.createObjectURL(blob);
  showImage(state.originalURL);
  $("workspace").hidden = false;
  $("boxes").textContent = "";
  setDownload(null);
  setStatus("Finding faces…");
  const form = new FormData();
  form.append("image", blob, state.name);
  const response = await fetch("/api/faces", { method: "POST", body: form });
  if (state.file !== blob) return;  // another photo was chosen meanwhile
  if (!response.ok) { setStatus(await errorText(response), true); return; }
  const info = await response.json();
  Object.assign(state, { faces: info.faces, width: info.width, height: info.height });
  state.selected = new Set(info.faces.map((f) => f.index));
  drawBoxes();
  $("compare").disabled = false;
  if (!info.faces.length) {
    setStatus("No face found in this photo: a roughly frontal face, at least 40 px wide, is needed.", true);
    return;
  }
  const n = info.faces.length;
  setStatus(`${n} face${n > 1 ? "s" : ""} found (${info.width}×${info.height} px). ` +
            (state.direction ? "" : "Choose an expression."));
  if (state.direction) update();
}

function scheduleUpdate() {
  $("strength-value").textContent = Number($("strength").value).toFixed(2);
  clearTimeout(state.timer);
  state.timer = setTimeout(update, 150);  // debounced: one request when the slider rests
}

function setDownload(url) {
  const a = $("download");
  if (url) {
    const ext = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/bmp": "bmp",
                  "image/tiff": "tif" }[state.resultType] || "jpg";
    const stem = state.name.replace(/\.[^.]*$/, "") || "photo";
    a.href = url;
    a.download = `${stem}_${state.direction ? state.direction.to : "result"}.${ext}`;
    a.classList.remove("disabled");
    a.removeAttribute("aria-disabled");
  } else {
    a.removeAttribute("href");
    a.classList.add("disabled");
    a.setAttribute("aria-disabled", "true");
  }
}

async function update() {
  clearTimeout(state.timer);
  if (!state.file || !state.direction || !state.faces.length) return;
  if (!state.selected.size) {  // no face picked: the photo as it is
    showImage(state.originalURL);
    setDownload(null);
    setStatus("No face selected: click a box to change that face.");
    return;
  }
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const seq = ++state.seq;
  const form = new FormData();
  form.append("image", state.file, state.name);
  form.append("to", state.direction.to);
  form.append("from", state.direction.from);
  form.append("strength", $("strength").value);
  if (state.selected.size < state.faces.length) form.append("faces", [...state.selected].join(","));
  const aus = [...document.querySelectorAll("#au-sliders input")]
    .filter((i) => Number(i.value) > 0).map((i) => `${i.dataset.au}=${i.value}`);
  if (aus.length) form.append("au", aus.join(","));
  $("busy").hidden = false;
  const started = performance.now();
  try {
    const response = await fetch("/api/synthesize", { method: "POST", body: form, signal: controller.signal });
    if (seq !== state.seq) return;
    if (!response.ok) { setStatus(await errorText(response), true); return; }
    const blob = await response.blob();
    if (seq !== state.seq) return;
    if (state.resultURL) URL.revokeObjectURL(state.resultURL);
    state.resultURL = URL.createObjectURL(blob);
    state.resultType = blob.type;
    showImage(state.resultURL);
    setDownload(state.resultURL);
    const n = response.headers.get("X-Pixelfes-Faces");
    const server = response.headers.get("X-Pixelfes-Server-Ms");
    setStatus(`${state.direction.to} at strength ${Number($("strength").value).toFixed(2)} on ` +
              `${n} face${n === "1" ? "" : "s"}: ${server} ms on the server, ` +
              `${Math.round(performance.now() - started)} ms in all.`);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (err) {
    if (err.name !== "AbortError") setStatus("The request failed: " + err.message, true);
  } finally {
    if (seq === state.seq) $("busy").hidden = true;
  }
}

function holdToCompare(element) {
  const show = (event) => {
    if (!state.originalURL) return;
    if (event.type === "keydown" && event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    $("stage").classList.add("comparing");
    showImage(state.originalURL);
  };
  const hide = () => {
    if (!$("stage").classList.contains("comparing")) return;
    $("stage").classList.remove("comparing");
    showImage(state.resultURL || state.originalURL);
  };
  element.addEventListener("pointerdown", show);
  element.addEventListener("keydown", show);
  for (const type of ["pointerup", "pointerleave", "pointercancel", "keyup", "blur"]) {
    element.addEventListener(type, hide);
  }
}

function setUp() {
  $("file").addEventListener("change", () => {
    const f = $("file").files[0];
    if (f) loadPhoto(f, f.name);
  });
  $("example").addEventListener("click", async () => {
    const response = await fetch("/example.jpg");
    if (!response.ok) { setStatus(await errorText(response), true); return; }
    loadPhoto(await response.blob(), "london-example.jpg");
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) loadPhoto(f, f.name);
  });
  $("strength").addEventListener("input", scheduleUpdate);
  holdToCompare($("compare"));
  holdToCompare($("photo"));
  loadModels().catch((err) => setStatus("Cannot reach the server: " + err.message, true));
}

setUp();
