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

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") {
    options.headers["X-CSRF-Token"] = CSRF;
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (_err) { // the daemon is gone or the network is down
    throw new ApiError(0, {});
  }
  let data = {};
  try { data = await response.json(); } catch (_err) { data = {}; }
  if (response.status === 401 && !location.pathname.startsWith("/login")) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
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
