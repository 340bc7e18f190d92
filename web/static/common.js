// Shared by every page: the API client (cookie + CSRF header), live events with a
// visible connection indicator, the language switch, WIB time formatting, and a
// tiny DOM builder that only ever sets text (never HTML) from data.
"use strict";

const PAGE = JSON.parse(document.getElementById("page-data").textContent);
const CSRF = (document.querySelector('meta[name="csrf"]') || {}).content || "";

function T(key) {
  return (PAGE.strings && PAGE.strings[key]) || key;
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Never a bare status code, "Failed to fetch" or another browser phrase: without a
// message from the server, the clerk reads that the server cannot be reached.
const UNREACHABLE = [0, 502, 503, 504];

class ApiError extends Error {
  constructor(status, body) {
    const fallback = UNREACHABLE.includes(status) ? T("network_down") : T("error");
    const message = (PAGE.lang === "en" ? body.message_en : body.message) || body.message || fallback;
    super(message);
    this.status = status;
    this.body = body;
    this.field = body.field || null;
  }
}

// Every state-changing request carries an Idempotency-Key (the IETF draft's header):
// one key per user action, the same key on every retry of that action, so a double
// click, a lost connection or a browser retry never records anything twice — the
// server answers a repeated key with the first answer. An action is "the same" while
// it waits for its answer: the same request (method, path, body) sent again before an
// answer came back reuses its key; once answered, the next one is a new action.
const pendingKeys = new Map();
const RETRY_MS = [400, 1200, 2500];

function newKey() {
  return eventId();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The button (or the form's buttons) of the click or submit being handled: disabled
// while its request is in flight, so a second click cannot even start.
let actionTarget = null;
function noteAction(ev) {
  const target = ev.type === "submit" ? ev.target : ev.target.closest && ev.target.closest("button");
  if (!target) return;
  actionTarget = target;
  setTimeout(() => { if (actionTarget === target) actionTarget = null; }, 0);
}
document.addEventListener("submit", noteAction, true);
document.addEventListener("click", noteAction, true);

function holdButtons(target) {
  if (!target) return () => {};
  const buttons = target.tagName === "FORM"
    ? [...target.querySelectorAll("button[type=submit], button:not([type])")]
    : [target];
  const held = buttons.filter((b) => !b.disabled);
  for (const b of held) { b.disabled = true; b.setAttribute("aria-busy", "true"); }
  return () => { for (const b of held) { b.disabled = false; b.removeAttribute("aria-busy"); } };
}

// A change sent with its key may be pressed again safely; a read just failed.
function networkError(keyed) {
  if (!keyed) return new ApiError(0, {});
  return new ApiError(0, { error: "network", message: T("network_error"), message_en: T("network_error") });
}

async function api(method, path, body, options) {
  const opts = options || {};
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  let signature = null;
  let release = () => {};
  if (method !== "GET") {
    init.headers["X-CSRF-Token"] = CSRF;
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
    if (opts.once !== false) {
      signature = method + " " + path + " " + init.body;
      const key = opts.key || pendingKeys.get(signature) || newKey();
      pendingKeys.set(signature, key);
      init.headers["Idempotency-Key"] = '"' + key + '"';
      release = holdButtons(actionTarget);
    }
  }
  try {
    let response = null;
    for (let attempt = 0; ; attempt++) {
      const retry = signature !== null && attempt < RETRY_MS.length;
      try {
        response = await fetch(path, init);
      } catch (_err) {
        if (!retry) throw networkError(signature !== null);
        await sleep(RETRY_MS[attempt]);
        continue;
      }
      // Busy, stopping or still answering the same key: nothing was kept, ask again.
      if (retry && (response.status === 503 || response.status === 409)) {
        const peek = await response.clone().json().catch(() => ({}));
        if (response.status === 503 || peek.error === "idempotency_key_in_flight") {
          await sleep(RETRY_MS[attempt]);
          continue;
        }
      }
      break;
    }
    let data = {};
    try { data = await response.json(); } catch (_err) { data = {}; }
    if (signature !== null && response.status < 500) pendingKeys.delete(signature);
    if (response.status === 401 && !location.pathname.startsWith("/login")) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  } finally {
    release();
  }
}

const TIME_FMT = new Intl.DateTimeFormat("id-ID", {
  timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", hour12: false,
});

function fmtTime(iso) {
  if (!iso) return "–";
  return TIME_FMT.format(new Date(iso)).replace(":", ".") + " WIB";
}

function fmtAge(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + " " + T("seconds");
  return Math.floor(s / 60) + " " + T("minutes");
}

function ageOf(iso, nowIso) {
  const now = nowIso ? new Date(nowIso) : new Date();
  return (now - new Date(iso)) / 1000;
}

// Live events: EventSource reconnects by itself after a drop; if the server
// refused the stream (e.g. restarted and answered an error), open a new one. The
// server sends a ping every second: a stream silent for STALE_MS (a daemon that is
// gone without closing the connection) is shown as cut and opened again, so the
// indicator turns within 3 s whatever way the daemon went.
const STALE_MS = 2500;

function live(url, eventName, onData) {
  const conn = document.getElementById("conn");
  let source = null;
  let retry = null;
  let heard = Date.now();
  const show = (up) => {
    if (!conn) return;
    conn.hidden = false;
    conn.textContent = up ? T("connected") : T("disconnected");
    conn.className = "conn " + (up ? "up" : "down");
    document.body.classList.toggle("offline", !up);
  };
  const open = async () => {
    retry = null;
    // A refused stream may mean the session ended: api() sends the clerk to the login.
    if (PAGE.role) await api("GET", "/api/v1/me").catch(() => {});
    heard = Date.now();
    source = new EventSource(url);
    source.addEventListener("open", () => { heard = Date.now(); show(true); });
    source.addEventListener("ping", () => { heard = Date.now(); show(true); });
    source.addEventListener(eventName, (ev) => {
      heard = Date.now();
      show(true);
      onData(JSON.parse(ev.data));
    });
    source.addEventListener("error", () => {
      show(false);
      if (source.readyState === EventSource.CLOSED && retry === null) {
        retry = setTimeout(open, 2000);
      }
    });
  };
  open();
  setInterval(() => {
    if (!source || retry !== null || Date.now() - heard < STALE_MS) return;
    show(false);
    if (source.readyState !== EventSource.CLOSED) source.close();
    retry = setTimeout(open, 1000);
  }, 250);
  window.addEventListener("pagehide", () => source && source.close());
}

// Redraw a container but keep what someone is typing in it ([data-key] inputs).
function replaceKeeping(el, children) {
  const typed = {};
  let focused = null;
  for (const input of el.querySelectorAll("[data-key]")) {
    typed[input.dataset.key] = input.value;
    if (input === document.activeElement) focused = input.dataset.key;
  }
  el.replaceChildren(...children);
  for (const input of el.querySelectorAll("[data-key]")) {
    if (input.dataset.key in typed) input.value = typed[input.dataset.key];
    if (input.dataset.key === focused) input.focus();
  }
}

// Forms: say which field is wrong, keep what was typed.
function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = "";
}

function showError(form, err) {
  const summary = form.querySelector(".form-error");
  const message = err instanceof ApiError ? err.message : T("error");
  if (err.field) {
    const input = form.querySelector(`[name="${err.field}"]`);
    const slot = form.querySelector(`[data-error-for="${err.field}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    if (slot) slot.textContent = message;
  }
  if (summary) summary.textContent = message;
}

function flash(el, text, ok) {
  el.textContent = text;
  el.className = "notice " + (ok ? "ok" : "bad");
}

// A refused action, said where the clerk is looking (instead of a blocking dialog).
let toastTimer = null;
function notify(message) {
  const toast = document.getElementById("toast");
  if (!toast) return;
  toast.textContent = message;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 8000);
}

function eventId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(16) + Math.random().toString(16).slice(2);
}

document.addEventListener("DOMContentLoaded", () => {
  const toast = document.getElementById("toast");
  if (toast) toast.addEventListener("click", () => { toast.hidden = true; });
  const sw = document.getElementById("lang-switch");
  if (sw) sw.addEventListener("click", () => {
    document.cookie = "lang=" + sw.dataset.lang + "; path=/; max-age=31536000; samesite=strict";
    location.reload();
  });
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", async () => {
    try { await api("POST", "/api/v1/logout"); } finally { location.href = "/login"; }
  });
});
