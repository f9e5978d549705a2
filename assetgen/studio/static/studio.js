// AssetGen Studio: the page's script. Plain JavaScript, no build step, no libraries.
//
// Every picture, line and file comes from the server's JSON API (assetgen/studio/app.py),
// which hands each request to the same assetgen.Engine as the CLI and the C# bridge. Controls
// are built from each generator's options JSON schema, so a third-party generator gets them
// too. Seeds are kept as text and BigInt: JavaScript numbers are exact only up to 2**53.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const PINS_KEY = "assetgen-studio-pins";
const BACKGROUND_KEY = "assetgen-studio-background";
const PAGE = { image: 16, text: 8 };

const state = {
  catalogue: null,
  gen: null, // the selected generator's info from /api/generators
  seed: "0",
  gridStart: 0n,
  options: {}, // option name -> value the user set (JSON value or -o text)
  animOptions: {}, // animation-only options
  uploads: {}, // option name -> { name, data } of a file the user chose (sent as "uploads")
  animation: null, // last animation kind played
  frames: "",
  exportWhat: "selected",
  pickTarget: null, // [store, name] while a *_seed option waits for a grid click
  lineSeed: null,
  // lipsync: the shown talk's cue track {duration, cues: [[start, end, shape]...]} or null;
  // shapes: the mouth shape of each frame (frame_shapes or a mouths sheet's frame_names)
  anim: { frames: [], fps: 12, index: 0, timer: null, playing: false, label: "",
    lipsync: null, shapes: null, frameCues: [] },
  errors: {},
  openGroups: {}, // "generator/group" -> whether that options group is open
};

// -- talking to the server ----------------------------------------------------------------

class ApiError extends Error {}

const sequence = {};
const timers = {};
let inFlight = 0;
let reading = 0; // files being read for upload

function later(channel, ms, fn) {
  clearTimeout(timers[channel]);
  timers[channel] = setTimeout(() => {
    delete timers[channel];
    fn();
  }, ms);
}

// True when no request is in flight and no change waits to be sent (for tests and scripts).
window.studioIdle = () => inFlight === 0 && reading === 0 && Object.keys(timers).length === 0;

async function api(path, body, channel) {
  const ticket = (sequence[channel] = (sequence[channel] || 0) + 1);
  const started = performance.now();
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).error || message;
    } catch (_) { /* not JSON */ }
    if (sequence[channel] !== ticket) return { stale: true };
    throw new ApiError(message);
  }
  const stale = sequence[channel] !== ticket;
  return { response, stale, ms: performance.now() - started };
}

// Run a request on a channel: a newer request on the same channel wins, errors go to the
// banner until the channel succeeds again.
async function request(channel, path, body, onResult, { raw = false, onError = null } = {}) {
  inFlight += 1;
  showStatus();
  try {
    const { response, stale, ms } = await api(path, body, channel);
    if (stale) return;
    const result = raw ? response : await response.json();
    clearError(channel);
    await onResult(result, ms);
    state.lastMs = ms;
  } catch (err) {
    setError(channel, err.message || String(err));
    if (onError) onError(err);
  } finally {
    inFlight -= 1;
    showStatus();
  }
}

function showStatus() {
  const status = $("#status");
  if (inFlight > 0) status.textContent = "working…";
  else if (state.lastMs !== undefined) status.textContent = `ready · last request ${Math.round(state.lastMs)} ms`;
  else status.textContent = "ready";
  document.body.dataset.busy = inFlight > 0 ? "1" : "0";
}

function setError(channel, message) {
  state.errors[channel] = message;
  renderErrors();
}

function clearError(channel) {
  delete state.errors[channel];
  renderErrors();
}

function renderErrors() {
  const messages = [...new Set(Object.values(state.errors))];
  const box = $("#error");
  box.hidden = messages.length === 0;
  box.textContent = messages.join("\n");
}

// -- generators and their options -----------------------------------------------------------

function schemaType(schema) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  return type || "string";
}

function optionsSchema() {
  return (state.gen && state.gen.options_schema.properties) || {};
}

function animationOnlySchema() {
  const anim = (state.gen && state.gen.animation_options_schema) || { properties: {} };
  const still = optionsSchema();
  return Object.fromEntries(Object.entries(anim.properties).filter(([name]) => !(name in still)));
}

function animationKinds() {
  const anim = state.gen && state.gen.animation_options_schema;
  const prop = anim && anim.properties.animation;
  return prop && Array.isArray(prop.enum) ? prop.enum : null;
}

// An animation option described as "talk: ..." or "talk/blink: ..." (names from the
// animation enum) applies to those animations only and is left out of the others.
function appliesTo(schema, kind) {
  const kinds = animationKinds();
  const match = /^([a-z_]+(?:\/[a-z_]+)*):/.exec(schema.description || "");
  if (!kinds || !match) return true;
  const named = match[1].split("/");
  if (!named.every((k) => kinds.includes(k))) return true;
  return named.includes(kind);
}

function outputKind() {
  if (state.exportWhat === "animation") return "animation";
  return state.gen.kind;
}

function modelList(name) {
  const model = state.gen.model || {};
  for (const key of [name, `${name}s`, `${name}es`]) {
    const list = model[key];
    if (Array.isArray(list) && list.length && list.every((x) => typeof x === "string")) return list;
  }
  return null;
}

function sameValue(a, b) {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const na = Number(a);
  const nb = Number(b);
  if (typeof a !== "object" && typeof b !== "object" && String(a).trim() !== "" &&
      String(b).trim() !== "" && !Number.isNaN(na) && !Number.isNaN(nb)) return na === nb;
  return JSON.stringify(a) === JSON.stringify(b);
}

function decimals(step) {
  const text = String(step);
  return text.includes(".") ? text.split(".")[1].length : 0;
}

function niceStep(schema) {
  if (schemaType(schema) === "integer") return 1;
  const span = Number(schema.maximum) - Number(schema.minimum);
  return 10 ** Math.floor(Math.log10(span / 100));
}

function sliderFits(schema) {
  const { minimum: lo, maximum: hi } = schema;
  if (typeof lo !== "number" || typeof hi !== "number") return false;
  return schemaType(schema) === "number" || hi - lo <= 1000;
}

// One control row: label, widget, reset button, description.
function controlRow(name, schema, store, { label = name, compact = false, onChange = null } = {}) {
  const row = el("div", { class: "control", dataset: { option: name } });
  const fallback = schema.default;
  const current = () => (name in store ? store[name] : fallback);
  const set = (value) => {
    if (sameValue(value, fallback)) delete store[name];
    else store[name] = value;
    row.classList.toggle("changed", name in store);
    if (onChange) onChange();
    else optionsChanged(store !== state.animOptions);
  };
  const widget = el("div", { class: "widget" });
  const type = schemaType(schema);
  let sync = () => {};

  if (schema["x-studio-upload"]) {
    return uploadRow(name, schema, store);
  } else if (Array.isArray(schema.enum) || Array.isArray(schema["x-studio-choices"]) ||
      (type === "string" && modelList(name))) {
    const listed = Array.isArray(schema.enum) ? schema.enum
      : (schema["x-studio-choices"] || modelList(name));
    // a value set elsewhere (a pin's model since uninstalled) stays shown, and the engine
    // names the problem
    const choices = Array.isArray(schema.enum) ? listed
      : [...new Set([fallback, ...listed, current()].filter((c) => c !== undefined))];
    const select = el("select", { "aria-label": name, dataset: { option: name } },
      choices.map((c) => el("option", { value: String(c) }, String(c))));
    select.addEventListener("change", () => set(select.value));
    sync = () => { select.value = String(current()); };
    widget.append(select);
  } else if (type === "boolean") {
    const box = el("input", { type: "checkbox", "aria-label": name, dataset: { option: name } });
    box.addEventListener("change", () => set(box.checked));
    sync = () => { box.checked = Boolean(current()); };
    widget.append(box);
  } else if ((type === "number" || type === "integer") && sliderFits(schema)) {
    const step = niceStep(schema);
    const range = el("input", {
      type: "range", min: schema.minimum, max: schema.maximum, step,
      "aria-label": name, dataset: { option: name },
    });
    const box = el("input", { type: "text", class: "num", inputmode: "decimal",
      "aria-label": `${name} value`, dataset: { option: name, role: "value" } });
    range.addEventListener("input", () => { box.value = range.value; set(range.value); });
    box.addEventListener("change", () => { range.value = box.value; set(box.value.trim()); });
    sync = () => {
      const value = current();
      range.value = value;
      box.value = typeof value === "number" ? value.toFixed(decimals(step)) : value;
    };
    widget.append(range, box);
  } else if (type === "object") {
    return mappingGroup(name, schema, store);
  } else {
    // a line of text gets a text box; a file name (or short text) one line
    const long = type === "string" && (schema.maxLength || 0) >= 400 &&
      !/\bfile\b/i.test(schema.description || "");
    const input = el(long ? "textarea" : "input", {
      type: long ? undefined : "text", rows: long ? 2 : undefined,
      class: "wide", "aria-label": name, dataset: { option: name },
    });
    if (type === "integer" || type === "number") input.setAttribute("inputmode", "numeric");
    input.addEventListener("input", () => later(`type-${name}`, 250, () => set(input.value)));
    input.addEventListener("change", () => set(input.value));
    sync = () => { input.value = current() === null ? "" : String(current()); };
    widget.append(input);
    if (type === "integer" && name.endsWith("_seed")) {
      const pick = el("button", { title: "pick this seed from the grid", class: "pick" }, "pick");
      pick.addEventListener("click", () => startPicking(store, name, pick));
      widget.append(pick);
    }
  }
  const reset = el("button", { class: "reset", title: `reset to ${JSON.stringify(fallback)}` }, "↺");
  reset.addEventListener("click", () => { delete store[name]; sync(); set(fallback); });
  row.append(el("label", { title: schema.description || "" }, label), widget, reset);
  if (!compact && schema.description) row.append(el("small", {}, schema.description));
  sync();
  row.classList.toggle("changed", name in store);
  row.sync = sync;
  return row;
}

// An option that names a file (the server marks it "x-studio-upload"): the page never sends a
// path, it reads the chosen file and sends it with each request that uses the option.
function uploadRow(name, schema, store) {
  const upload = schema["x-studio-upload"];
  const row = el("div", { class: "control upload", dataset: { option: name } });
  const input = el("input", { type: "file", accept: upload.accept, "aria-label": name,
    dataset: { option: name } });
  const chosen = el("span", { class: "upload-name", dataset: { option: name } });
  const changed = () => optionsChanged(store !== state.animOptions);
  const sync = () => {
    const file = state.uploads[name];
    chosen.textContent = file ? file.name : `no file (${upload.what})`;
    row.classList.toggle("changed", Boolean(file));
  };
  input.addEventListener("change", () => {
    const file = input.files[0];
    if (!file) return;
    if (file.size > upload.max_bytes) {
      setError(`upload-${name}`, `${name}: ${file.name} is ${file.size} bytes; ` +
        `the Studio takes files of at most ${upload.max_bytes} bytes`);
      input.value = "";
      return;
    }
    reading += 1;
    const reader = new FileReader();
    reader.addEventListener("loadend", () => {
      reading -= 1;
      if (reader.error) {
        setError(`upload-${name}`, `${name}: cannot read ${file.name} (${reader.error.message})`);
        return;
      }
      clearError(`upload-${name}`);
      state.uploads[name] = { name: file.name, data: reader.result };
      input.value = "";
      sync();
      changed();
    });
    reader.readAsDataURL(file);
  });
  const reset = el("button", { class: "reset", title: "no file" }, "↺");
  reset.addEventListener("click", () => {
    delete state.uploads[name];
    clearError(`upload-${name}`);
    sync();
    changed();
  });
  row.append(el("label", { title: schema.description || "" }, name),
    el("div", { class: "widget" }, input, chosen), reset);
  if (schema.description) row.append(el("small", {}, schema.description));
  sync();
  row.sync = sync;
  return row;
}

// The chosen files for the named options, as a request's "uploads" (undefined: none).
function uploadsFor(names) {
  const out = {};
  for (const name of names) if (name in state.uploads) out[name] = state.uploads[name];
  return Object.keys(out).length ? out : undefined;
}

// A name -> number option (attribute vectors): a slider per name the model knows.
function mappingGroup(name, schema, store) {
  const item = schema.additionalProperties || {};
  const names = (schema.propertyNames && schema.propertyNames.enum) || modelList(name);
  if (!names) { // names unknown: the CLI's text form, name:value,...
    const box = el("div", { class: "control mapping", dataset: { option: name } });
    box.append(el("label", { title: schema.description || "" }, name));
    const input = el("input", { type: "text", class: "wide", placeholder: "name:1.5,other:-1",
      "aria-label": name, dataset: { option: name } });
    input.addEventListener("change", () => {
      if (input.value.trim()) store[name] = input.value; else delete store[name];
      optionsChanged(true);
    });
    box.append(el("div", { class: "widget" }, input));
    if (schema.description) box.append(el("small", {}, schema.description));
    return box;
  }
  // a slider per name: a group that folds away (24 attribute vectors are a screen of their
  // own), open when one is set; the summary counts what is set
  const count = el("span", { class: "muted count" });
  const box = el("details", { class: "control mapping", dataset: { option: name } },
    el("summary", { title: schema.description || "" }, el("span", { class: "name" }, name), count));
  const key = `${state.gen.id}/${name}`;
  box.open = key in state.openGroups ? state.openGroups[key] : name in store;
  box.addEventListener("toggle", () => { state.openGroups[key] = box.open; });
  const counted = () => {
    const set = Object.keys(store[name] || {}).length;
    count.textContent = `${names.length} sliders${set ? ` · ${set} set` : ""}`;
  };
  const values = { ...(store[name] || {}) };
  const group = el("div", { class: "group" });
  const itemSchema = {
    type: "number",
    minimum: typeof item.minimum === "number" ? item.minimum : -5,
    maximum: typeof item.maximum === "number" ? item.maximum : 5,
    default: 0,
  };
  const sub = {};
  // each slider writes sub; the option holds its non-zero numbers
  const copy = () => {
    const numbers = {};
    for (const [key, value] of Object.entries(sub)) {
      const number = Number(value);
      if (Number.isNaN(number)) numbers[key] = value; // the engine names the problem
      else if (number !== 0) numbers[key] = number;
    }
    if (Object.keys(numbers).length) store[name] = numbers; else delete store[name];
    box.classList.toggle("changed", name in store);
    counted();
    optionsChanged(true);
  };
  for (const key of names) {
    if (key in values) sub[key] = values[key];
    const row = controlRow(key, itemSchema, sub, { compact: true, onChange: copy });
    row.dataset.option = name;
    row.dataset.key = key;
    for (const input of row.querySelectorAll("input")) {
      input.dataset.option = name;
      input.dataset.key = key;
    }
    group.append(row);
  }
  box.classList.toggle("changed", name in store);
  counted();
  if (schema.description) box.append(el("small", {}, schema.description));
  box.append(el("div", { class: "widget" }, group));
  return box;
}

function startPicking(store, name, button) {
  if (state.pickTarget && state.pickTarget[1] === name) {
    stopPicking();
    return;
  }
  state.pickTarget = [store, name, button];
  button.classList.add("active");
  $("#browse").classList.add("picking");
}

function stopPicking() {
  if (state.pickTarget) state.pickTarget[2].classList.remove("active");
  state.pickTarget = null;
  $("#browse").classList.remove("picking");
}

// The options in groups, in the order each group first appears: the model's labels (the
// options its summary lists under "labels", e.g. a portrait's hair, eyes, glasses: pickers
// without their descriptions, which show on hover), and the rest.
function optionGroups() {
  const labels = (state.gen.model || {}).labels;
  const labelled = labels && typeof labels === "object" && !Array.isArray(labels)
    ? new Set(Object.keys(labels)) : new Set();
  const groups = new Map();
  for (const name of Object.keys(optionsSchema())) {
    const id = labelled.has(name) ? "labels" : "general";
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(name);
  }
  return [...groups.entries()];
}

const GROUP_TITLES = { labels: "Labels", general: "General" };

function buildControls() {
  const controls = $("#controls");
  controls.replaceChildren();
  const schema = optionsSchema();
  const groups = optionGroups();
  for (const [id, names] of groups) {
    const rows = names.map((name) =>
      controlRow(name, schema[name], state.options, { compact: id === "labels" }));
    if (groups.length === 1) {
      controls.append(...rows);
      continue;
    }
    const key = `${state.gen.id}/group:${id}`;
    const box = el("details", { class: "option-group", dataset: { group: id } },
      el("summary", {}, GROUP_TITLES[id] || id, " ",
        el("span", { class: "muted count" }, `${names.length}`)),
      el("div", { class: "controls" }, rows));
    box.open = key in state.openGroups ? state.openGroups[key] : true;
    box.addEventListener("toggle", () => { state.openGroups[key] = box.open; });
    controls.append(box);
  }
  if (!Object.keys(schema).length) controls.append(el("p", { class: "muted" }, "No options."));

  const panel = $("#animate-panel");
  panel.hidden = !state.gen.can_animate;
  const buttons = $("#play-buttons");
  buttons.replaceChildren();
  const anim = $("#anim-controls");
  anim.replaceChildren();
  if (!state.gen.can_animate) return;
  for (const kind of animationKinds() || [null]) {
    const button = el("button", { class: "play", dataset: { animation: kind || "" } },
      `▶ ${kind || "play"}`);
    button.addEventListener("click", () => playAnimation(kind));
    buttons.append(button);
  }
  for (const [name, schema] of Object.entries(animationOnlySchema())) {
    if (name === "animation") continue;
    const row = controlRow(name, schema, state.animOptions);
    if (name === "text" && textGenerator()) {
      const line = el("button", { id: "say-generate",
        title: `write a line with the ${textGenerator().id} generator` },
      `new ${textGenerator().id} line`);
      line.addEventListener("click", () => generateLine(row));
      const say = el("button", { id: "say-play", class: "primary" }, "▶ say it");
      say.addEventListener("click", () => playAnimation(animationKinds() ? "talk" : null));
      row.append(el("div", { class: "row", style: "grid-column: 1 / 4" }, line, say));
    }
    anim.append(row);
  }
}

function textGenerator() {
  const gens = state.catalogue.generators.filter((g) => g.kind === "text" && !(g.model || {}).error);
  return gens.find((g) => g.id === "dialogue") || gens[0] || null;
}

// -- requests the page makes -------------------------------------------------------------

function cleanOptions(store) {
  return JSON.parse(JSON.stringify(store));
}

function stillRequest(seed, count) {
  return { generator: state.gen.id, seed: String(seed), count, options: cleanOptions(state.options),
    uploads: uploadsFor(Object.keys(optionsSchema())) };
}

function animationRequest(kind) {
  const options = cleanOptions(state.options);
  const used = Object.keys(optionsSchema());
  for (const [name, schema] of Object.entries(animationOnlySchema())) {
    if (!appliesTo(schema, kind)) continue;
    used.push(name);
    if (name in state.animOptions) options[name] = state.animOptions[name];
  }
  if (kind) options.animation = kind;
  const frames = state.frames.trim();
  return {
    mode: "animate",
    generator: state.gen.id,
    seed: state.seed,
    frames: frames === "" ? null : (/^\d+$/.test(frames) ? Number(frames) : frames),
    options,
    uploads: uploadsFor(used),
  };
}

function pinsRequest() {
  const format = $("#export-format").value;
  return {
    pins: loadPins().map((p) => ({ generator: p.generator, seed: p.seed, options: p.options })),
    format: format || undefined,
  };
}

function exportRequest() {
  const format = $("#export-format").value;
  if (state.exportWhat === "pins") return pinsRequest();
  if (state.exportWhat === "animation") {
    return { ...animationRequest(state.animation || (animationKinds() || [null])[0]), format };
  }
  if (state.exportWhat === "grid") {
    return { ...stillRequest(state.gridStart, pageSize()), format };
  }
  return { ...stillRequest(state.seed, 1), format };
}

function pageSize() {
  return PAGE[state.gen.kind] || PAGE.image;
}

// A still option changed (stillToo) or only an animation option: refresh what shows it.
function optionsChanged(stillToo = true) {
  if (stillToo) {
    refreshMainSoon();
    later("grid", 400, refreshGrid);
  }
  later("recipe", 120, refreshRecipe);
  if (state.anim.frames.length) later("anim", 300, () => loadAnimation(state.animation, true));
}

// While a slider is dragged: one request at a time, each with the latest values, so the
// image follows the slider as fast as the engine answers.
const mainLoop = { busy: false, dirty: false };

function refreshMainSoon() {
  if (mainLoop.busy) {
    mainLoop.dirty = true;
    return;
  }
  mainLoop.busy = true;
  refreshMain().finally(() => {
    mainLoop.busy = false;
    if (mainLoop.dirty) {
      mainLoop.dirty = false;
      refreshMainSoon();
    }
  });
}

function refreshMain() {
  return request("main", "/api/generate", stillRequest(state.seed, 1), (result, ms) => {
    const item = result.items[0];
    if (result.kind === "text") {
      $("#line-speaker").textContent = item.speaker;
      $("#line-text").textContent = item.text;
      $("#line-text").dataset.seed = item.seed;
      $("#line-caption").textContent = `seed ${item.seed} · ${Math.round(ms)} ms`;
    } else {
      const still = $("#still");
      still.src = item.png;
      still.dataset.seed = item.seed;
      showActualSize($("#still-1x"), item.png, item.width, item.height);
      $("#still-caption").textContent = `seed ${item.seed} · ${item.width}×${item.height} · ${Math.round(ms)} ms`;
    }
  });
}

function refreshGrid() {
  const start = state.gridStart;
  return request("grid", "/api/generate", stillRequest(start, pageSize()), (result) => {
    const grid = $("#grid");
    grid.classList.toggle("text", result.kind === "text");
    grid.replaceChildren(...result.items.map((item) => gridCell(item, result.kind)));
    markSelected();
  });
}

function gridCell(item, kind) {
  const pinned = isPinned(item.seed);
  const pin = el("button", { class: "pin", title: pinned ? "unpin" : "pin this seed" }, pinned ? "★" : "☆");
  pin.addEventListener("click", (event) => {
    event.stopPropagation();
    togglePin(item, kind);
  });
  const cell = kind === "text"
    ? el("div", { class: "cell text-cell", dataset: { seed: item.seed } },
      el("div", { class: "speaker" }, `${item.speaker} · seed ${item.seed}`),
      el("div", { class: "line" }, item.text), pin)
    : el("div", { class: "cell", dataset: { seed: item.seed }, title: `seed ${item.seed}` },
      el("img", { src: item.png, alt: `seed ${item.seed}` }),
      el("div", { class: "seed" }, item.seed), pin);
  cell.addEventListener("click", () => cellClicked(item.seed));
  return cell;
}

function cellClicked(seed) {
  if (state.pickTarget) {
    const [store, name] = state.pickTarget;
    store[name] = seed;
    stopPicking();
    const row = document.querySelector(`.control[data-option="${name}"]`);
    if (row && row.sync) row.sync();
    if (row) row.classList.add("changed");
    optionsChanged(store === state.options);
    return;
  }
  selectSeed(seed);
}

function selectSeed(seed) {
  state.seed = String(seed);
  $("#seed").value = state.seed;
  state.lineSeed = null;
  markSelected();
  later("main", 0, refreshMain);
  later("recipe", 50, refreshRecipe);
  if (state.anim.frames.length) later("anim", 100, () => loadAnimation(state.animation, true));
  writeHash();
}

function markSelected() {
  for (const cell of document.querySelectorAll("#grid .cell")) {
    cell.classList.toggle("selected", cell.dataset.seed === state.seed);
  }
  $("#pin-current").textContent = isPinned(state.seed) ? "★ pinned" : "☆ pin";
}

function refreshRecipe() {
  const pins = state.exportWhat === "pins";
  if (!pins && !$("#export-format").value) return Promise.resolve();
  const show = (recipe, job) => {
    $("#cli-command").textContent = recipe.cli;
    $("#csharp-call").textContent = recipe.csharp;
    $("#python-call").textContent = recipe.python;
    $("#job-box").hidden = !job;
    $("#job-file").textContent = job || "";
    $("#cli-title").textContent = job
      ? "Same thing from the command line: the job file (job.toml, in the zip)"
      : "Same thing from the command line";
  };
  const unknown = "(fix the error above to see this)";
  return request("recipe", pins ? "/api/pins/recipe" : "/api/recipe", exportRequest(),
    (result) => show(result.recipe, pins ? result.job : null), {
      onError: () => show({ cli: unknown, csharp: unknown, python: unknown }, null),
    });
}

// -- previews: game size and background -----------------------------------------------------

// The image at its own size, one CSS pixel per pixel (as the game shows it at 1x); without
// a size given, the image's own.
function showActualSize(img, src, width, height) {
  img.src = src;
  if (width && height) {
    img.width = width;
    img.height = height;
  } else {
    img.removeAttribute("width");
    img.removeAttribute("height");
  }
}

// The previews' background: checker (transparent pixels show), white, black or a colour, so
// halos and soft edges show against what the game draws behind the sprite. Kept in this
// browser.
function setBackground(kind, color) {
  const main = document.querySelector("main");
  const chosen = ["checker", "white", "black", "color"].includes(kind) ? kind : "checker";
  main.dataset.bg = chosen;
  if (color) $("#background-color").value = color;
  main.style.setProperty("--preview-bg", chosen === "white" ? "#ffffff"
    : chosen === "black" ? "#000000" : $("#background-color").value);
  for (const button of document.querySelectorAll("#backgrounds button")) {
    const on = button.dataset.bg === chosen;
    button.classList.toggle("active", on);
    button.setAttribute("aria-checked", on ? "true" : "false");
  }
  try {
    localStorage.setItem(BACKGROUND_KEY, JSON.stringify({ kind: chosen,
      color: $("#background-color").value }));
  } catch (_) { /* storage full or off: the choice lasts for this page */ }
}

function loadBackground() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(BACKGROUND_KEY) || "{}") || {};
  } catch (_) { /* none kept */ }
  setBackground(saved.kind, /^#[0-9a-f]{6}$/i.test(saved.color || "") ? saved.color : null);
}

// -- animation ------------------------------------------------------------------------------

function playAnimation(kind) {
  state.animation = kind;
  for (const button of document.querySelectorAll("#play-buttons .play")) {
    button.classList.toggle("active", button.dataset.animation === (kind || ""));
  }
  if (state.exportWhat !== "animation") {
    state.exportWhat = "animation";
    fillExport();
  }
  return loadAnimation(kind, false);
}

function loadAnimation(kind, keepPosition) {
  return request("anim", "/api/animate", animationRequest(kind), (result) => {
    const anim = state.anim;
    const meta = result.metadata || {};
    anim.frames = result.frames;
    anim.fps = result.fps;
    anim.label = kind || "animation";
    anim.lipsync = meta.lipsync && Array.isArray(meta.lipsync.cues) ? meta.lipsync : null;
    anim.shapes = meta.frame_shapes || meta.frame_names || null;
    if (!keepPosition || anim.index >= anim.frames.length) anim.index = 0;
    $("#anim-box").hidden = false;
    $("#stage").classList.add("both");
    $("#anim-scrub").max = anim.frames.length - 1;
    renderCues();
    showFrame();
    if (!keepPosition || anim.playing) startPlaying();
    refreshRecipe();
  });
}

function showFrame() {
  const anim = state.anim;
  const frame = $("#anim-frame");
  frame.src = anim.frames[anim.index];
  frame.dataset.frame = String(anim.index);
  showActualSize($("#anim-frame-1x"), anim.frames[anim.index]);
  $("#anim-scrub").value = anim.index;
  const shape = anim.shapes && anim.shapes[anim.index];
  $("#anim-info").textContent =
    `${anim.label} · frame ${anim.index + 1}/${anim.frames.length} · ${anim.fps} fps` +
    (shape ? ` · shape ${shape}${SHAPE_NAMES[shape] ? `: ${SHAPE_NAMES[shape]}` : ""}` : "");
  frame.dataset.shape = shape || "";
  showPlayhead();
}

// -- the mouth-shape timeline of a lip-synced talk ---------------------------------------------

// Rhubarb Lip Sync's nine mouth shapes, as the legend names them.
const SHAPE_NAMES = {
  A: "closed (M, B, P)", B: "teeth (most consonants)", C: "open", D: "wide open",
  E: "round (o)", F: "pucker (oo, w)", G: "F, V", H: "L", X: "rest",
};

// When a frame starts: frame k shows the time window [k / fps, (k + 1) / fps).
function frameTime(index) {
  return index / state.anim.fps;
}

// The cue each frame shows, as the plugin samples a track: the one covering most of the
// frame's window (ties: the earlier); -1 past the track's end.
function framesCues() {
  const anim = state.anim;
  const cues = anim.lipsync.cues;
  return anim.frames.map((_, k) => {
    const from = frameTime(k);
    const to = frameTime(k + 1);
    let best = -1;
    let most = 1e-9;
    cues.forEach(([start, end], index) => {
      const overlap = Math.min(end, to) - Math.max(start, from);
      if (overlap > most + 1e-9) { best = index; most = overlap; }
    });
    return best;
  });
}

// What the timeline spans: the track, or the frames when an explicit count makes them longer.
function cueSpan() {
  const anim = state.anim;
  return Math.max(Number(anim.lipsync.duration) || 0, anim.frames.length / anim.fps) || 1;
}

function renderCues() {
  const anim = state.anim;
  const box = $("#cue-box");
  const track = $("#cue-track");
  const playhead = $("#cue-playhead");
  box.hidden = !anim.lipsync;
  track.replaceChildren(playhead);
  $("#cue-sound-label").hidden = !soundFile();
  if (!anim.lipsync) return;
  const span = cueSpan();
  const percent = (t) => `${(100 * t / span).toFixed(4)}%`;
  const used = new Set();
  anim.frameCues = framesCues();
  anim.lipsync.cues.forEach(([start, end, shape], index) => {
    used.add(shape);
    const label = `${shape}, ${SHAPE_NAMES[shape] || "unknown shape"}: ` +
      `${start.toFixed(2)}–${end.toFixed(2)} s`;
    const cue = el("button", {
      type: "button", class: `cue shape-${shape}`, tabindex: "-1", title: label,
      "aria-label": label, style: `left: ${percent(start)}; width: ${percent(end - start)}`,
      dataset: { index: String(index), start: String(start), end: String(end), shape },
    }, el("span", { "aria-hidden": "true" }, shape));
    cue.addEventListener("click", () => seekCue(index));
    track.insertBefore(cue, playhead);
  });
  const source = { text: "from the text", speech: "from the recognised speech",
    loudness: "from the loudness", cues: "from the cue file" }[anim.lipsync.source] || "";
  const sound = anim.lipsync.sound_file ? ` · ${anim.lipsync.sound_file}` : "";
  $("#cue-info").textContent =
    `${anim.lipsync.cues.length} cues ${source} · ${Number(anim.lipsync.duration).toFixed(2)} s${sound}`;
  const step = span > 6 ? 1 : 0.5;
  const ticks = [];
  for (let t = 0; t <= span + 1e-9; t += step) {
    ticks.push(el("span", { style: `left: ${percent(t)}` }, `${+t.toFixed(1)} s`));
  }
  $("#cue-scale").replaceChildren(...ticks);
  $("#cue-legend").replaceChildren(...Object.entries(SHAPE_NAMES).map(([shape, name]) =>
    el("li", { class: used.has(shape) ? "used" : "unused", dataset: { shape } },
      el("b", { class: `shape-${shape}` }, shape), ` ${name}`)));
}

// Show the first frame of a cue, paused, as a drag of the frame slider does (a cue too short
// to have a frame of its own: the frame its start falls in).
function seekCue(index) {
  const anim = state.anim;
  const cue = anim.lipsync.cues[index];
  if (!cue) return;
  stopPlaying();
  const first = anim.frameCues.indexOf(index);
  anim.index = first >= 0 ? first
    : Math.min(anim.frames.length - 1, Math.floor(cue[0] * anim.fps + 1e-6));
  showFrame();
}

function showPlayhead() {
  const anim = state.anim;
  if (!anim.lipsync) return;
  const t = frameTime(anim.index);
  const playhead = $("#cue-playhead");
  playhead.style.left = `${(100 * t / cueSpan()).toFixed(4)}%`;
  playhead.style.width = `${(100 / anim.fps / cueSpan()).toFixed(4)}%`;
  playhead.dataset.time = t.toFixed(3);
  let current = anim.frameCues[anim.index];
  if (current === undefined || current < 0) current = anim.lipsync.cues.length - 1;
  for (const cue of document.querySelectorAll("#cue-track .cue")) {
    const on = Number(cue.dataset.index) === current;
    cue.classList.toggle("current", on);
    if (on) cue.setAttribute("aria-current", "true");
    else cue.removeAttribute("aria-current");
    // one stop in the tab order: the cue on show; the arrow keys move between cues
    cue.tabIndex = on ? 0 : -1;
  }
}

function cueKeys(event) {
  const cues = state.anim.lipsync && state.anim.lipsync.cues;
  const focused = event.target.closest && event.target.closest(".cue");
  if (!cues || !focused) return;
  const at = Number(focused.dataset.index);
  const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1,
    Home: 0, End: cues.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const next = Math.max(0, Math.min(cues.length - 1, to));
  seekCue(next);
  const button = $(`#cue-track .cue[data-index="${next}"]`);
  button.tabIndex = 0;
  button.focus();
}

function startPlaying() {
  const anim = state.anim;
  clearInterval(anim.timer);
  anim.playing = true;
  $("#anim-toggle").textContent = "pause";
  anim.timer = setInterval(() => {
    anim.index = (anim.index + 1) % anim.frames.length;
    showFrame();
    if (anim.index === 0) syncSound();
  }, 1000 / anim.fps);
  document.body.dataset.playing = "1";
  syncSound();
}

function stopPlaying() {
  clearInterval(state.anim.timer);
  state.anim.playing = false;
  $("#anim-toggle").textContent = "play";
  document.body.dataset.playing = "0";
  syncSound();
}

// The uploaded recording of a lip-synced talk plays with its frames while "sound" is ticked,
// restarted from the frame on show whenever playback starts or loops.
const sound = { audio: null, data: null };

function soundFile() {
  const anim = state.anim;
  return anim.lipsync && anim.lipsync.sound_file && state.uploads.audio || null;
}

function syncSound() {
  const file = soundFile();
  if (!file || !state.anim.playing || !$("#cue-sound").checked) {
    if (sound.audio) sound.audio.pause();
    return;
  }
  if (sound.data !== file.data) {
    if (sound.audio) sound.audio.pause();
    sound.audio = new Audio(file.data);
    sound.data = file.data;
  }
  sound.audio.currentTime = frameTime(state.anim.index);
  sound.audio.play().catch(() => { /* no sound device, or sound not allowed yet */ });
}

async function generateLine(row) {
  const gen = textGenerator();
  if (state.lineSeed === null) state.lineSeed = BigInt(state.seed);
  const seed = state.lineSeed;
  state.lineSeed += 1n;
  await request("line", "/api/generate", { generator: gen.id, seed: String(seed), count: 1 }, (result) => {
    state.animOptions.text = result.items[0].text;
    row.sync();
    row.classList.add("changed");
    optionsChanged(false);
  });
}

// -- pins -------------------------------------------------------------------------------------

function loadPins() {
  try {
    const pins = JSON.parse(localStorage.getItem(PINS_KEY) || "[]");
    return Array.isArray(pins) ? pins : [];
  } catch (_) {
    return [];
  }
}

function savePins(pins) {
  localStorage.setItem(PINS_KEY, JSON.stringify(pins));
  renderPins();
  fillExport();
  for (const cell of document.querySelectorAll("#grid .cell")) {
    const pin = cell.querySelector(".pin");
    const on = isPinned(cell.dataset.seed);
    pin.textContent = on ? "★" : "☆";
    pin.title = on ? "unpin" : "pin this seed";
  }
  markSelected();
}

function isPinned(seed) {
  return loadPins().some((p) => p.generator === state.gen.id && p.seed === String(seed));
}

function togglePin(item, kind) {
  const pins = loadPins();
  const at = pins.findIndex((p) => p.generator === state.gen.id && p.seed === String(item.seed));
  if (at >= 0) pins.splice(at, 1);
  else {
    pins.push({
      generator: state.gen.id,
      seed: String(item.seed),
      options: cleanOptions(state.options),
      png: kind === "text" ? null : item.png,
      text: kind === "text" ? `${item.speaker}: ${item.text}` : null,
    });
  }
  savePins(pins);
}

function renderPins() {
  const pins = loadPins();
  $("#pins-empty").hidden = pins.length > 0;
  $("#pins").replaceChildren(...pins.map((pin, index) => {
    const remove = el("button", { title: "unpin" }, "×");
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      const all = loadPins();
      all.splice(index, 1);
      savePins(all);
    });
    const node = el("div", { class: "pinned", dataset: { seed: pin.seed, generator: pin.generator },
      title: `${pin.generator} seed ${pin.seed} ${JSON.stringify(pin.options)}` },
    pin.png ? el("img", { src: pin.png, alt: "" }) : null,
    el("span", { class: "label" }, pin.text || `${pin.generator} ${pin.seed}`), remove);
    node.addEventListener("click", () => openPin(pin));
    return node;
  }));
}

async function openPin(pin) {
  if (pin.generator !== state.gen.id) await selectGenerator(pin.generator, pin.seed);
  state.options = { ...pin.options };
  buildControls();
  selectSeed(pin.seed);
  optionsChanged(true);
}

// -- export -----------------------------------------------------------------------------------

function fillExport() {
  const what = $("#export-what");
  const pins = loadPins();
  const choices = [["selected", state.gen.kind === "text" ? "this line" : "this image"],
    ["grid", state.gen.kind === "text" ? "the lines in the grid" : "the whole grid"]];
  if (state.gen.can_animate) choices.push(["animation", "the animation"]);
  if (pins.length) choices.push(["pins", `the pinned seeds (${pins.length}), as a batch`]);
  what.replaceChildren(...choices.map(([value, label]) => el("option", { value }, label)));
  if (!choices.some(([value]) => value === state.exportWhat)) state.exportWhat = "selected";
  what.value = state.exportWhat;
  const format = $("#export-format");
  if (state.exportWhat === "pins") {
    // each pin's run takes the chosen format where it can write that pin's kind of asset,
    // else the default formats of its kind
    const kinds = new Set(pins.map((p) => (generatorInfo(p.generator) || {}).kind).filter(Boolean));
    const formats = state.catalogue.exporters
      .filter((e) => e.accepts.some((k) => kinds.has(k))).map((e) => e.id);
    const before = format.dataset.kind === "pins" ? format.value : "";
    format.replaceChildren(el("option", { value: "" }, "default formats"),
      ...formats.map((id) => el("option", { value: id }, id)));
    format.dataset.kind = "pins";
    format.value = formats.includes(before) ? before : "";
    later("recipe", 0, refreshRecipe);
    return;
  }
  const kind = outputKind();
  const formats = state.catalogue.exporters.filter((e) => e.accepts.includes(kind)).map((e) => e.id);
  const before = format.dataset.kind === kind ? format.value : null;
  format.replaceChildren(...formats.map((id) => el("option", { value: id }, id)));
  format.dataset.kind = kind;
  const preferred = (state.catalogue.default_formats[kind] || [])[0];  // the engine's rule
  format.value = formats.includes(before) ? before
    : (formats.includes(preferred) ? preferred : formats[0] || "");
  later("recipe", 0, refreshRecipe);
}

function generatorInfo(id) {
  return state.catalogue.generators.find((g) => g.id === id) || null;
}

// The note under Export names the last file downloaded; it goes when what it named no longer
// matches what the panel would export.
function clearExportNote() {
  const result = $("#export-result");
  result.textContent = "";
  delete result.dataset.file;
}

async function exportNow() {
  const result = $("#export-result");
  result.textContent = "exporting…";
  delete result.dataset.file;
  const path = state.exportWhat === "pins" ? "/api/pins/export" : "/api/export";
  await request("export", path, exportRequest(), async (response) => {
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const name = match ? match[1] : "assetgen-export";
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    const files = response.headers.get("X-AssetGen-Files") || name;
    result.textContent = `downloaded ${name} (${files.split(",").join(", ")})`;
    result.dataset.file = name;
  }, { raw: true });
  if (state.errors.export) result.textContent = "";
}

async function copyText(id, button) {
  const text = $(`#${id}`).textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents($(`#${id}`));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  button.textContent = "copied";
  setTimeout(() => { button.textContent = "copy"; }, 1200);
}

// -- choosing a generator ---------------------------------------------------------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { generator: params.get("generator"), seed: params.get("seed") };
}

function writeHash() {
  history.replaceState(null, "", `#generator=${encodeURIComponent(state.gen.id)}&seed=${state.seed}`);
}

async function selectGenerator(id, seed) {
  const gen = state.catalogue.generators.find((g) => g.id === id);
  if (!gen) return;
  stopPlaying();
  stopPicking();
  state.gen = gen;
  state.options = {};
  state.animOptions = {};
  state.uploads = {};
  state.animation = null;
  state.anim.frames = [];
  state.anim.lipsync = null;
  state.anim.shapes = null;
  $("#cue-box").hidden = true;
  state.errors = {};
  state.exportWhat = gen.kind === "text" ? "grid" : "selected";
  clearExportNote();
  for (const channel of Object.keys(sequence)) sequence[channel] += 1; // drop answers in flight
  renderErrors();
  $("#generator").value = id;
  $("#anim-box").hidden = true;
  $("#stage").classList.remove("both");
  $("#still-box").hidden = gen.kind === "text";
  $("#line-box").hidden = gen.kind !== "text";
  $("#preview-row").hidden = gen.kind === "text"; // lines have no background
  $("#pin-current").hidden = false;
  const model = gen.model || {};
  $("#model-line").textContent = model.error ? "" :
    [model.name && `model ${model.name}`, model.sha256 && `sha256 ${String(model.sha256).slice(0, 12)}…`,
      model.license && `licence ${model.license}`].filter(Boolean).join(" · ");
  const notice = $("#notice");
  notice.hidden = !model.error;
  notice.textContent = model.error ? `This generator's model cannot be used: ${model.error}` : "";
  if (seed !== undefined && seed !== null && /^\d+$/.test(seed)) state.seed = seed;
  state.gridStart = BigInt(state.seed) - (BigInt(state.seed) % BigInt(pageSize()));
  $("#grid-start").value = String(state.gridStart);
  $("#seed").value = state.seed;
  $("#grid").replaceChildren();
  buildControls();
  fillExport();
  renderPins();
  writeHash();
  await Promise.all([refreshMain(), refreshGrid()]);
}

function setGridStart(start) {
  state.gridStart = start < 0n ? 0n : start;
  $("#grid-start").value = String(state.gridStart);
  refreshGrid();
  if (state.exportWhat === "grid") later("recipe", 50, refreshRecipe);
}

function wire() {
  $("#generator").addEventListener("change", (e) => selectGenerator(e.target.value));
  $("#grid-prev").addEventListener("click", () => setGridStart(state.gridStart - BigInt(pageSize())));
  $("#grid-next").addEventListener("click", () => setGridStart(state.gridStart + BigInt(pageSize())));
  $("#grid-random").addEventListener("click", () =>
    setGridStart(BigInt(Math.floor(Math.random() * 2 ** 31)) * BigInt(pageSize())));
  $("#grid-start").addEventListener("change", (e) => {
    const text = e.target.value.trim();
    if (/^\d+$/.test(text)) {
      e.target.classList.remove("invalid");
      setGridStart(BigInt(text));
    } else e.target.classList.add("invalid");
  });
  $("#seed").addEventListener("change", (e) => selectSeed(e.target.value.trim()));
  $("#pin-current").addEventListener("click", () => {
    const item = state.gen.kind === "text"
      ? { seed: state.seed, speaker: $("#line-speaker").textContent, text: $("#line-text").textContent }
      : { seed: state.seed, png: $("#still").src };
    togglePin(item, state.gen.kind);
  });
  $("#frames").addEventListener("change", (e) => {
    state.frames = e.target.value;
    if (state.anim.frames.length) loadAnimation(state.animation, false);
    else clearError("anim");
    later("recipe", 50, refreshRecipe);
  });
  $("#anim-toggle").addEventListener("click", () => (state.anim.playing ? stopPlaying() : startPlaying()));
  $("#anim-scrub").addEventListener("input", (e) => {
    stopPlaying();
    state.anim.index = Number(e.target.value);
    showFrame();
  });
  $("#cue-track").addEventListener("keydown", cueKeys);
  $("#cue-sound").addEventListener("change", syncSound);
  $("#export-what").addEventListener("change", (e) => {
    state.exportWhat = e.target.value;
    clearExportNote();
    fillExport();
  });
  $("#export-format").addEventListener("change", () => {
    clearExportNote();
    refreshRecipe();
  });
  $("#export-button").addEventListener("click", exportNow);
  for (const button of document.querySelectorAll("#backgrounds button")) {
    button.addEventListener("click", () => setBackground(button.dataset.bg));
  }
  $("#background-color").addEventListener("input", () => setBackground("color"));
  for (const button of document.querySelectorAll(".copy")) {
    button.addEventListener("click", () => copyText(button.dataset.copy, button));
  }
}

async function start() {
  wire();
  loadBackground();
  await request("catalogue", "/api/generators", undefined, async (catalogue) => {
    state.catalogue = catalogue;
    const select = $("#generator");
    select.replaceChildren(...catalogue.generators.map((g) =>
      el("option", { value: g.id }, (g.model || {}).error ? `${g.id} (no model)` : g.id)));
    if (!catalogue.generators.length) {
      setError("catalogue", "No generators are loaded: see `assetgen plugins`.");
      return;
    }
    const wanted = readHash();
    const usable = catalogue.generators.filter((g) => !(g.model || {}).error);
    const first = catalogue.generators.find((g) => g.id === wanted.generator) ||
      usable.find((g) => g.kind === "image") || usable[0] || catalogue.generators[0];
    await selectGenerator(first.id, wanted.seed);
  });
  document.body.dataset.ready = "1";
}

start();
