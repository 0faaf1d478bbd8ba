// brokerd's web console: plain JavaScript over brokerd's own API
// (/api/v1), served from the same origin. The API key, when brokerd asks
// for one, is kept in this tab's sessionStorage and sent as the
// Authorization header only: never in a URL, never logged. The event
// stream is read with a streaming fetch (EventSource cannot send headers).
"use strict";

const API = "/api/v1";
const KEY = "brokerd.key";
const MAX_EVENTS = 300;
const MAX_FINISHED = 25;

const $ = (sel, root = document) => root.querySelector(sel);

const state = {
  operations: {},  // name → description (schema)
  names: [],
  terminals: {},   // name → /system/status terminal
  order: [],       // terminal names, the default first
  live: new Map(), // id → status view, queued/running and the latest finished
  storyID: "",
  historyOffset: 0,
  historyTotal: 0,
  watched: "",     // the id #submit-result follows
};

// --- the API ---------------------------------------------------------------

function apiKey() { return sessionStorage.getItem(KEY) || ""; }

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  const k = apiKey();
  if (k) h.Authorization = "Bearer " + k;
  return h;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// api calls brokerd and returns {status, env}: the HTTP status and the
// envelope {success, message, data, error_code}. A 401 asks for the key
// and tries again; a 429 (the rate limit) waits as told, for reads.
async function api(method, path, { body, query, extraHeaders } = {}) {
  let url = API + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== "" && v !== undefined && v !== null) q.set(k, v);
    const s = q.toString();
    if (s) url += "?" + s;
  }
  for (let attempt = 0; ; attempt++) {
    const init = { method, headers: headers(extraHeaders), cache: "no-store" };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      setHealth("unreachable", "s-down");
      throw new Error("brokerd is unreachable: " + e.message);
    }
    let env;
    try { env = await res.json(); } catch { env = { success: false, message: "not a JSON answer (HTTP " + res.status + ")", data: null, error_code: "bad_answer" }; }
    if (res.status === 401 && attempt === 0) {
      await askKey(env.message);
      continue;
    }
    if (res.status === 429 && method === "GET" && attempt < 3) {
      const after = Math.min(5, Number(res.headers.get("Retry-After")) || 1);
      await sleep(after * 1000);
      continue;
    }
    return { status: res.status, env };
  }
}

// --- the key ---------------------------------------------------------------

let keyWaiters = [];

function askKey(reason) {
  return new Promise((resolve) => {
    keyWaiters.push(resolve);
    const dlg = $("#key-dialog");
    $("#key-error").textContent = apiKey() ? (reason || "the key was refused") : "";
    if (!dlg.open) dlg.showModal();
    $("#key-input").focus();
  });
}

function initKey() {
  $("#key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = $("#key-input").value.trim();
    if (!k) return;
    sessionStorage.setItem(KEY, k);
    $("#key-input").value = "";
    $("#key-dialog").close();
    $("#key-forget").hidden = false;
    const waiters = keyWaiters;
    keyWaiters = [];
    waiters.forEach((w) => w());
    restartEvents();
  });
  $("#key-dialog").addEventListener("cancel", (ev) => ev.preventDefault()); // a key is needed
  $("#key-forget").hidden = !apiKey();
  $("#key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
}

// --- small rendering helpers -------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

const statusClass = (s) => "s-" + String(s || "").replace(/[^a-z_]/g, "");
const badge = (s, cls = "status") => el("span", { class: cls + " " + statusClass(s), text: s || "-" });
const shortID = (id) => (id || "").slice(-12);
const when = (t) => (t ? new Date(t).toLocaleTimeString([], { hour12: false }) + "." + String(new Date(t).getMilliseconds()).padStart(3, "0") : "-");
const whenFull = (t) => (t ? new Date(t).toLocaleString([], { hour12: false }) : "-");
const opLink = (id, text) => el("a", { href: "#op/" + encodeURIComponent(id), class: "mono", text: text || shortID(id) });

function seconds(a, b) {
  if (!a || !b) return "-";
  const d = (new Date(b) - new Date(a)) / 1000;
  return d.toFixed(3) + " s";
}

// renderData shows a result's data: rows as a table, an object as a list
// with its nested rows as tables, a string (a markdown table) as text.
function renderData(data) {
  if (data === null || data === undefined) return el("p", { class: "muted", text: "(no data)" });
  if (Array.isArray(data)) {
    if (data.length === 0) return el("p", { class: "muted", text: "(none)" });
    if (typeof data[0] !== "object" || data[0] === null) return el("pre", { text: JSON.stringify(data, null, 2) });
    const cols = [];
    for (const r of data) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    return el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, cols.map((c) => el("th", { text: c })))),
      el("tbody", {}, data.map((r) => el("tr", {}, cols.map((c) => el("td", { text: cellText(r[c]) })))))));
  }
  if (typeof data === "object") {
    const dl = el("dl", { class: "story" });
    const nested = [];
    for (const [k, v] of Object.entries(data)) {
      if (v !== null && typeof v === "object") { nested.push([k, v]); continue; }
      dl.append(el("dt", { text: k }), el("dd", { text: cellText(v) }));
    }
    return el("div", {}, dl, nested.map(([k, v]) => el("div", {}, el("h3", { text: k }), renderData(v))));
  }
  return el("pre", { text: String(data) });
}

function cellText(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// --- health, terminals and lanes --------------------------------------------

function setHealth(text, cls) {
  const h = $("#health");
  h.textContent = text;
  h.className = "pill " + cls;
}

async function loadHealth() {
  try {
    const { env } = await api("GET", "/system/health");
    const d = env.data || {};
    setHealth(d.status || "unknown", statusClass(d.status));
    $("#health").title = (d.problems || []).join("\n");
  } catch { /* setHealth said unreachable */ }
}

async function loadTerminals() {
  const { status, env } = await api("GET", "/system/status");
  if (status !== 200) return showPageError(env);
  $("#version").textContent = env.data.version;
  state.terminals = env.data.terminals;
  state.order = Object.keys(state.terminals).sort((a, b) => (state.terminals[b].default - state.terminals[a].default) || a.localeCompare(b));
  renderTerminals();
  fillTerminalSelects();
}

function renderTerminals() {
  const body = $("#terminals tbody");
  body.replaceChildren(...state.order.map((name) => {
    const t = state.terminals[name];
    const l = t.lane;
    const why = l.halted ? "halted by the kill switch" + (l.halt_reason ? ": " + l.halt_reason : "") : (l.blocked || l.stuck_on || "");
    const current = l.current_operation ? opLink(l.current_operation) : "-";
    const button = l.paused
      ? el("button", { type: "button", dataset: { action: "resume", terminal: name }, onclick: () => setPaused(name, false), text: "Resume" })
      : el("button", { type: "button", class: "danger", dataset: { action: "pause", terminal: name }, onclick: () => setPaused(name, true), text: "Pause" });
    return el("tr", { dataset: { terminal: name } },
      el("td", {}, el("strong", { text: name }), t.default ? el("span", { class: "muted", text: " (default)" }) : null),
      el("td", { text: t.driver }),
      el("td", {}, badge(t.state, "state")),
      el("td", { class: "lane" }, badge(l.state, "state"), l.paused && l.state !== "paused" ? el("span", { class: "muted", text: " (paused)" }) : null),
      el("td", { class: "queued", text: l.queued_count }),
      el("td", {}, current),
      el("td", { class: "muted", text: `${l.success_count} ok · ${l.failed_count} failed · ${l.cancelled_count} cancelled` }),
      el("td", { class: "why", text: why }),
      el("td", {}, button, " ", haltButton(name, l)));
  }));
}

// haltButton pulls or lifts a terminal's kill switch: a halt refuses every
// new order and cancels the queued ones (POST /risk/halt, admin).
function haltButton(terminal, lane) {
  return lane.halted
    ? el("button", { type: "button", dataset: { action: "lift-halt", terminal }, onclick: () => setHalted(terminal, false), text: "Lift halt" })
    : el("button", { type: "button", class: "danger", dataset: { action: "halt", terminal }, onclick: () => setHalted(terminal, true), text: "Halt orders" });
}

async function setHalted(terminal, halted) {
  const { status, env } = await api("POST", halted ? "/risk/halt" : "/risk/resume", { query: halted ? { terminal, reason: "from the console" } : { terminal } });
  if (status !== 200) alertBox(env);
  await loadTerminals();
}

async function setPaused(terminal, paused) {
  const { status, env } = await api("POST", paused ? "/queue/pause" : "/queue/resume", { query: { terminal } });
  if (status !== 200) alertBox(env);
  await loadTerminals();
}

function alertBox(env) {
  const box = $("#submit-error");
  box.textContent = (env.message || "failed") + (env.error_code ? " (" + env.error_code + ")" : "");
}

function showPageError(env) {
  setHealth(env.error_code || "error", "s-error");
  $("#health").title = env.message || "";
}

function fillTerminalSelects() {
  for (const sel of [$("#h-terminal"), $("#account-terminal")]) {
    const keep = sel.value;
    const first = sel.id === "h-terminal" ? [el("option", { value: "", text: "any" })] : [];
    sel.replaceChildren(...first, ...state.order.map((n) => el("option", { value: n, text: n })));
    if (keep) sel.value = keep;
  }
  fillOptTerminal();
}

// --- the live queue and the events -------------------------------------------

async function loadLive() {
  for (const status of ["running", "queued"]) {
    const { status: code, env } = await api("GET", "/history", { query: { status, limit: 200 } });
    if (code !== 200) continue;
    for (const op of env.data.operations) state.live.set(op.operation_id, op);
  }
  renderQueue();
}

function final(s) { return s === "success" || s === "failed" || s === "cancelled"; }

function renderQueue() {
  const ops = [...state.live.values()];
  const open = ops.filter((o) => !final(o.status)).sort((a, b) => (a.status === "running" ? -1 : 0) - (b.status === "running" ? -1 : 0) || b.priority - a.priority || String(a.submitted_at).localeCompare(String(b.submitted_at)));
  const done = ops.filter((o) => final(o.status)).sort((a, b) => String(b.finished_at).localeCompare(String(a.finished_at)));
  for (const o of done.slice(MAX_FINISHED)) state.live.delete(o.operation_id);
  const rows = [...open, ...done.slice(0, MAX_FINISHED)].map((o) => {
    const cancel = o.status === "queued"
      ? el("button", { type: "button", class: "danger", dataset: { action: "cancel", op: o.operation_id }, onclick: () => cancelOp(o.operation_id), text: "Cancel" })
      : null;
    return el("tr", { class: final(o.status) ? "final" : "", dataset: { op: o.operation_id, status: o.status } },
      el("td", {}, el("strong", { text: o.name }), " ", opLink(o.operation_id)),
      el("td", { text: o.terminal }),
      el("td", {}, badge(o.status), o.error_code ? el("span", { class: "muted", text: " " + o.error_code }) : null),
      el("td", { text: o.priority }),
      el("td", { text: when(o.submitted_at) }),
      el("td", {}, cancel));
  });
  $("#queue tbody").replaceChildren(...rows);
}

async function cancelOp(id) {
  const { status, env } = await api("DELETE", "/operations/" + encodeURIComponent(id));
  if (status !== 200) { alertBox(env); return; }
  if (env.data) operationChanged(env.data);
}

// operationChanged takes an operation's new status from an event or an
// answer, wherever it is shown.
function operationChanged(op) {
  const known = state.live.get(op.operation_id);
  if (known && final(known.status) && !final(op.status)) return; // a late event
  state.live.set(op.operation_id, op);
  renderQueue();
  if (state.watched === op.operation_id) renderSubmitResult(op);
  if (state.storyID === op.operation_id) renderStory(op);
}

function logEvent(type, data) {
  const list = $("#events");
  let text;
  const attrs = { dataset: { type } };
  if (type === "operation") {
    attrs.dataset.op = data.operation_id;
    attrs.dataset.status = data.status;
    text = `${data.status.padEnd(9)} ${data.name} ${shortID(data.operation_id)} on ${data.terminal}` + (data.error_code ? ` (${data.error_code}: ${data.error || ""})` : "");
  } else if (type === "lane" || type === "terminal") {
    attrs.dataset.terminal = data.terminal;
    text = `${type} ${data.terminal} is ${data.state}`;
  } else {
    text = type + " " + JSON.stringify(data);
  }
  const li = el("li", attrs, el("span", { class: "muted", text: new Date().toLocaleTimeString([], { hour12: false }) + " " }), el("span", { class: statusClass(data.status || data.state), text }));
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  if (type === "operation" && state.storyID === data.operation_id) {
    $("#story-events").prepend(li.cloneNode(true));
  }
}

let stream = null; // the AbortController of the open event stream
let refreshTimer = 0;

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadTerminals(); loadHealth(); }, 200);
}

// restartEvents reopens an open stream with a new key; the first stream
// is opened by start.
function restartEvents() {
  if (!stream) return;
  stream.abort();
  followEvents();
}

// followEvents reads /events with fetch, so that the key goes in a
// header, and reconnects when the stream ends.
async function followEvents() {
  const ctl = new AbortController();
  stream = ctl;
  const badgeEl = $("#stream");
  while (!ctl.signal.aborted) {
    try {
      const res = await fetch(API + "/events", { headers: headers({ Accept: "text/event-stream" }), signal: ctl.signal, cache: "no-store" });
      if (res.status === 401) {
        badgeEl.textContent = "events: need a key";
        badgeEl.className = "pill s-error";
        await askKey();
        continue;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      badgeEl.textContent = "events: live";
      badgeEl.className = "pill s-live";
      // What happened while the stream was down is read again.
      loadTerminals(); loadLive();
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          dispatch(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    badgeEl.textContent = "events: reconnecting";
    badgeEl.className = "pill s-reconnecting";
    await sleep(3000);
  }
}

function dispatch(block) {
  let type = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return;
  let payload;
  try { payload = JSON.parse(data.join("\n")); } catch { return; }
  logEvent(type, payload);
  if (type === "operation") {
    operationChanged(payload);
    refreshSoon();
  } else if (type === "lane" || type === "terminal") {
    refreshSoon();
  } else if (type === "dropped") {
    loadTerminals(); loadLive();
  }
}

// --- the submit form --------------------------------------------------------

async function loadOperations() {
  const { status, env } = await api("GET", "/operations/");
  if (status !== 200) return showPageError(env);
  state.operations = env.data.operations;
  state.names = env.data.names;
  const sel = $("#op-select");
  sel.replaceChildren(...state.names.map((n) => el("option", { value: n, text: n + (state.operations[n].side_effect ? "" : " (query)") })));
  const hn = $("#h-name");
  hn.replaceChildren(el("option", { value: "", text: "any" }), ...state.names.map((n) => el("option", { value: n, text: n })));
  renderForm();
}

function fillOptTerminal() {
  const op = state.operations[$("#op-select").value];
  const sel = $("#opt-terminal");
  const supported = op ? op.terminals : state.order;
  const keep = sel.value;
  sel.replaceChildren(...supported.map((n) => el("option", { value: n, text: n })));
  if (supported.includes(keep)) sel.value = keep;
}

function renderForm() {
  const name = $("#op-select").value;
  const op = state.operations[name];
  if (!op) return;
  $("#op-description").textContent = op.description_en + (op.description ? " · " + op.description : "");
  const fields = op.parameter_order.map((p) => {
    const q = op.parameters[p];
    const id = "param-" + p;
    let input;
    if (q.enum && q.enum.length) {
      input = el("select", { id, name: p, dataset: { kind: q.type } },
        q.required ? null : el("option", { value: "", text: q.default !== undefined ? `(default: ${q.default})` : "(none)" }),
        q.enum.map((v) => el("option", { value: String(v), text: String(v) })));
      if (q.required && q.default !== undefined) input.value = String(q.default);
    } else if (q.type === "boolean") {
      input = el("input", { id, name: p, type: "checkbox", dataset: { kind: q.type } });
      input.checked = q.default === true;
    } else {
      const numeric = q.type === "number" || q.type === "integer";
      input = el("input", {
        id, name: p, autocomplete: "off", dataset: { kind: q.type },
        inputmode: numeric ? (q.type === "integer" ? "numeric" : "decimal") : null,
        placeholder: q.default !== undefined ? "default: " + q.default : (q.example !== undefined ? "e.g. " + q.example : ""),
      });
    }
    const bounds = [];
    if (q.minimum !== undefined) bounds.push((q.exclusive_minimum ? "> " : "≥ ") + q.minimum);
    if (q.maximum !== undefined) bounds.push("≤ " + q.maximum);
    if (q.multiple_of) bounds.push("multiple of " + q.multiple_of);
    return el("div", { class: "row" },
      el("label", { for: id }, p, q.required ? el("span", { class: "req", text: " *" }) : null),
      input,
      el("div", { class: "hint", text: [q.description_en || q.description, bounds.join(", ")].filter(Boolean).join(" · ") }),
      el("div", { class: "field-error", id: "err-param-" + p, role: "alert" }));
  });
  $("#param-fields").replaceChildren(...fields);
  fillOptTerminal();
  clearErrors();
}

function clearErrors() {
  for (const e of document.querySelectorAll("#submit-form .field-error")) e.textContent = "";
  for (const e of document.querySelectorAll("#submit-form [aria-invalid]")) e.removeAttribute("aria-invalid");
  $("#submit-error").textContent = "";
}

// fieldTarget maps an API field name (params.quantity, priority, …) to
// the form's error slot and input.
function fieldTarget(field) {
  if (field.startsWith("params.")) {
    const p = field.slice("params.".length).split(/[.[]/)[0];
    return [$("#err-param-" + CSS.escape(p)), $("#param-" + CSS.escape(p))];
  }
  const inputs = { priority: "#opt-priority", terminal: "#opt-terminal", timeout: "#opt-timeout", expire_after: "#opt-expire", "Idempotency-Key": "#opt-key", client_id: "#opt-key" };
  return [$("#err-" + CSS.escape(field)), inputs[field] ? $(inputs[field]) : null];
}

async function submitForm(ev) {
  ev.preventDefault();
  clearErrors();
  const name = $("#op-select").value;
  const op = state.operations[name];
  const params = {};
  for (const p of op.parameter_order) {
    const input = $("#param-" + CSS.escape(p));
    if (input.type === "checkbox") { params[p] = input.checked; continue; }
    const v = input.value.trim();
    if (v === "") continue;
    // Numbers go as their exact text: brokerd reads "10.50" as a number
    // and refuses what is not one, at the field.
    params[p] = v;
  }
  const body = { params, terminal: $("#opt-terminal").value };
  const num = (sel) => $(sel).value.trim();
  if (num("#opt-priority") !== "") body.priority = Number(num("#opt-priority"));
  if (num("#opt-timeout") !== "") body.timeout = Number(num("#opt-timeout"));
  if (num("#opt-expire") !== "") body.expire_after = Number(num("#opt-expire"));
  const extraHeaders = {};
  if (num("#opt-key") !== "") extraHeaders["Idempotency-Key"] = num("#opt-key");
  for (const k of ["priority", "timeout", "expire_after"]) if (Number.isNaN(body[k])) body[k] = $("#opt-" + (k === "expire_after" ? "expire" : k)).value;

  const button = $("#submit-button");
  button.disabled = true;
  try {
    const { status, env } = await api("POST", "/operations/" + encodeURIComponent(name), { body, extraHeaders });
    if (status === 422 && env.data && env.data.errors) {
      const rest = [];
      for (const fe of env.data.errors) {
        const [slot, input] = fieldTarget(fe.field);
        if (slot) {
          slot.textContent = slot.textContent ? slot.textContent + "; " + fe.reason : fe.reason;
          if (input) input.setAttribute("aria-invalid", "true");
        } else {
          rest.push(fe.field + ": " + fe.reason);
        }
      }
      if (rest.length) $("#submit-error").textContent = rest.join("; ");
      if ($("#submit-options").querySelector("[aria-invalid]")) $("#submit-options").open = true;
      return;
    }
    if (status !== 200) { alertBox(env); return; }
    const sub = env.data;
    state.watched = sub.operation_id;
    const known = state.live.get(sub.operation_id);
    const view = known || { operation_id: sub.operation_id, name, terminal: sub.terminal, status: sub.status, priority: body.priority || 0, submitted_at: new Date().toISOString() };
    renderSubmitResult(view, sub.duplicate);
    if (!known) operationChanged(view);
    refreshSoon();
  } finally {
    button.disabled = false;
  }
}

function renderSubmitResult(op, duplicate) {
  const box = $("#submit-result");
  box.hidden = false;
  box.dataset.op = op.operation_id;
  box.replaceChildren(...[
    el("div", {}, el("strong", { text: op.name }), " ", opLink(op.operation_id, op.operation_id), " ", badge(op.status),
      duplicate ? el("span", { class: "muted", text: " (duplicate: this key was used before)" }) : null),
    op.error ? el("p", { class: "error", text: (op.error_code ? op.error_code + ": " : "") + op.error }) : null,
    op.result && op.result.message ? el("p", { class: "muted", text: op.result.message }) : null].filter(Boolean));
}

// --- one operation's story --------------------------------------------------

async function showStory(id) {
  state.storyID = id;
  $("#story-id").textContent = id;
  $("#story").replaceChildren(el("p", { class: "muted", text: "loading…" }));
  $("#story-events").replaceChildren(...[...document.querySelectorAll(`#events li[data-op="${CSS.escape(id)}"]`)].map((li) => li.cloneNode(true)));
  const { status, env } = await api("GET", "/operations/" + encodeURIComponent(id) + "/status");
  if (status !== 200) {
    $("#story").replaceChildren(el("p", { class: "error", text: env.message || "not found" }));
    return;
  }
  renderStory(env.data);
}

// paramsOf finds an operation's params in the journal: the history of its
// name and terminal within a second of its submit time.
async function paramsOf(op) {
  if (!op.submitted_at) return null;
  const since = op.submitted_at;
  const until = new Date(new Date(since).getTime() + 1000).toISOString();
  const { status, env } = await api("GET", "/history", { query: { name: op.name, terminal: op.terminal, since, until, limit: 1000 } });
  if (status !== 200) return null;
  const found = env.data.operations.find((o) => o.operation_id === op.operation_id);
  return found ? found.params : null;
}

async function renderStory(op) {
  if (state.storyID !== op.operation_id) return;
  const dl = el("dl", { class: "story" });
  const add = (k, v) => dl.append(el("dt", { text: k }), el("dd", {}, v));
  add("Operation", el("strong", { text: op.name }));
  add("Terminal", op.terminal);
  add("Status", badge(op.status));
  add("Priority", String(op.priority));
  add("Submitted", whenFull(op.submitted_at));
  add("Started", whenFull(op.started_at) + (op.started_at ? "  (waited " + seconds(op.submitted_at, op.started_at) + ")" : ""));
  add("Finished", whenFull(op.finished_at) + (op.finished_at && op.started_at ? "  (ran " + seconds(op.started_at, op.finished_at) + ")" : ""));
  if (op.error_code) add("Error code", el("span", { class: "s-failed", text: op.error_code }));
  if (op.error) add("Error", op.error);
  if (op.status === "queued") add("", el("button", { type: "button", class: "danger", dataset: { action: "cancel", op: op.operation_id }, onclick: () => cancelOp(op.operation_id), text: "Cancel" }));
  const paramsBox = el("div", {}, el("p", { class: "muted", text: "reading the journal…" }));
  const result = op.result
    ? el("div", {}, el("h3", { text: "Result" }), op.result.message ? el("p", { text: op.result.message }) : null, renderData(op.result.data))
    : null;
  $("#story").replaceChildren(...[dl, el("h3", { text: "Parameters" }), paramsBox, result].filter(Boolean));
  const params = await paramsOf(op);
  paramsBox.replaceChildren(params ? renderData(params) : el("p", { class: "muted", text: "(not in the journal)" }));
}

// --- history ----------------------------------------------------------------

async function loadHistory() {
  const limit = Number($("#h-limit").value);
  const query = {
    status: $("#h-status").value, name: $("#h-name").value, terminal: $("#h-terminal").value,
    since: $("#h-since").value, until: $("#h-until").value, limit, offset: state.historyOffset,
  };
  const { status, env } = await api("GET", "/history", { query });
  $("#history-error").textContent = status === 200 ? "" : env.message;
  if (status !== 200) return;
  state.historyTotal = env.data.total;
  $("#history tbody").replaceChildren(...env.data.operations.map((o) => el("tr", {
    class: "clickable", dataset: { op: o.operation_id }, onclick: () => { location.hash = "#op/" + encodeURIComponent(o.operation_id); },
  },
    el("td", { text: whenFull(o.submitted_at) }),
    el("td", {}, el("strong", { text: o.name }), " ", opLink(o.operation_id)),
    el("td", { text: o.terminal }),
    el("td", {}, badge(o.status)),
    el("td", { text: o.error_code || "" }),
    el("td", { class: "params", text: JSON.stringify(o.params) }))));
  const from = env.data.operations.length ? state.historyOffset + 1 : 0;
  $("#h-page").textContent = `${from}–${state.historyOffset + env.data.operations.length} of ${env.data.total}`;
  $("#h-prev").disabled = state.historyOffset === 0;
  $("#h-next").disabled = state.historyOffset + limit >= env.data.total;
}

// --- account ----------------------------------------------------------------

async function loadAccount(ev) {
  if (ev) ev.preventDefault();
  const terminal = $("#account-terminal").value;
  $("#account-error").textContent = "";
  const reads = [["funds_query", {}, "#account-funds", (d) => d],
    ["holding_query", { return_type: "json" }, "#account-holdings", (d) => d.holdings],
    ["order_query", { return_type: "json" }, "#account-orders", (d) => d.orders]];
  for (const [name, params, target] of reads) $(target).replaceChildren(el("p", { class: "muted", text: "reading…" }));
  for (const [name, params, target, pick] of reads) {
    if (!state.operations[name] || !state.operations[name].terminals.includes(terminal)) {
      $(target).replaceChildren(el("p", { class: "muted", text: `${terminal} does not support ${name}` }));
      continue;
    }
    const { status, env } = await api("POST", "/operations/" + name, { body: { params, terminal }, query: { wait: 15 } });
    if (status !== 200 || !env.data.result) {
      $(target).replaceChildren(el("p", { class: "error", text: (env.message || "failed") + (env.error_code ? " (" + env.error_code + ")" : "") }));
      continue;
    }
    const data = env.data.result.data;
    if (!env.success) {
      $(target).replaceChildren(el("p", { class: "error", text: env.message || env.error_code }));
      continue;
    }
    let shown = pick(data);
    if (name === "funds_query" && shown && typeof shown === "object") {
      shown = Object.fromEntries(Object.entries(shown).filter(([k]) => !["success", "message", "timestamp"].includes(k)));
    }
    $(target).replaceChildren(renderData(shown));
  }
}

// --- pages ------------------------------------------------------------------

function route() {
  const hash = location.hash || "#overview";
  let page = hash.slice(1);
  if (page.startsWith("op/")) {
    showStory(decodeURIComponent(page.slice(3)));
    page = "op";
  } else {
    state.storyID = "";
  }
  if (!["overview", "history", "account", "op"].includes(page)) page = "overview";
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + page;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.page === page);
  if (page === "history") loadHistory();
}

async function start() {
  initKey();
  $("#op-select").addEventListener("change", renderForm);
  $("#submit-form").addEventListener("submit", submitForm);
  $("#history-form").addEventListener("submit", (ev) => { ev.preventDefault(); state.historyOffset = 0; loadHistory(); });
  $("#h-prev").addEventListener("click", () => { state.historyOffset = Math.max(0, state.historyOffset - Number($("#h-limit").value)); loadHistory(); });
  $("#h-next").addEventListener("click", () => { state.historyOffset += Number($("#h-limit").value); loadHistory(); });
  $("#account-form").addEventListener("submit", loadAccount);
  window.addEventListener("hashchange", route);
  await loadTerminals();
  await loadOperations();
  route();
  loadHealth();
  followEvents();
  // The lanes change without events too (a terminal's state is polled);
  // a slow refresh keeps the table true within the rate limit.
  setInterval(() => { if (!document.hidden) { loadTerminals(); loadHealth(); } }, 5000);
  document.body.dataset.ready = "true";
}

start();
