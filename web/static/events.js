// Events and alarms: the doors (a tile each, buka pintu for the Head and admins),
// open alarms to acknowledge, and the day's list of taps and door/reader events,
// filterable by reader and kind; live over SSE.
"use strict";

const CAN_UNLOCK = ["head", "admin"].includes(PAGE.role);
const KINDS = ["granted", "denied", "forced_open", "held_open", "tamper", "power_fail",
  "offline", "online", "closed", "unlocked", "acknowledged"];
const RELOAD_ON = ["tap.decided", "device.event", "door.unlocked", "alarm.acknowledged",
  "alarm.raised", "alarm.repeated"];
const filters = document.getElementById("filters");
const unlocking = { reader: null, invalid: false };
let lastDoors = [];
let loading = null;
let again = false;

function who(actor) {
  if (!actor) return "–";
  return actor.startsWith("reader:") ? "–" : actor;
}

function detail(e) {
  if (e.kind === "granted" || e.kind === "denied") return (e.message || "") + (e.badge ? " · " + T("badge") + " " + e.badge : "");
  if (e.kind === "unlocked") return T("reason") + ": " + e.note + " (" + e.seconds + " " + T("seconds") + ")";
  if (e.kind === "acknowledged") return T("door_ev_" + (e.alarm && e.alarm.kind)) + " — " + e.note;
  return "";
}

function query() {
  const q = new URLSearchParams();
  for (const name of ["day", "reader", "event"]) {
    const value = filters.elements[name].value;
    if (value) q.set(name, value);
  }
  return q.toString();
}

// One request at a time; a change while one runs asks for one more afterwards.
async function load() {
  if (loading) { again = true; return; }
  loading = (async () => {
    try {
      const r = await api("GET", "/api/v1/events/log?" + query());
      document.getElementById("log-count").textContent = r.count + " " + T("events_count");
      document.getElementById("log").replaceChildren(...(r.events.length ? r.events.map((e) =>
        h("tr", { class: "ev " + e.kind, "data-kind": e.kind },
          h("td", {}, fmtTime(e.at)), h("td", {}, e.reader),
          h("td", {}, h("strong", {}, T("door_ev_" + e.kind))), h("td", {}, detail(e)),
          h("td", {}, who(e.actor)))) : [h("tr", {}, h("td", { colspan: 5, class: "empty" }, T("no_events")))]));
    } catch (err) {
      notify(err.message);
    } finally {
      loading = null;
      if (again) { again = false; load(); }
    }
  })();
}

function doorTile(d) {
  const asking = CAN_UNLOCK && unlocking.reader === d.reader;
  return h("div", { class: "tile door " + d.state, "data-door": d.reader },
    h("span", { class: "code" }, d.reader),
    h("span", { class: "state" }, T("door_" + d.state)),
    d.last_event ? h("span", { class: "small" }, T("door_ev_" + d.last_event) + " · " + fmtTime(d.last_at)) : null,
    CAN_UNLOCK && !asking ? h("button", { type: "button", class: "tile-btn", disabled: !d.can_unlock,
      title: d.can_unlock ? null : T("cannot_unlock"),
      onclick: () => { unlocking.reader = d.reader; unlocking.invalid = false; drawDoors(`#unlock-${d.reader}`); } },
    T("unlock")) : null,
    asking ? unlockForm(d) : null);
}

function unlockForm(d) {
  const inputId = "unlock-" + d.reader;
  const input = h("input", { id: inputId, name: "reason", "data-key": inputId, autocomplete: "off",
    maxlength: 500, "aria-invalid": unlocking.invalid ? "true" : null });
  const cancel = () => { unlocking.reader = null; drawDoors(); };
  return h("form", { class: "confirm", onkeydown: (ev) => { if (ev.key === "Escape") cancel(); },
    onsubmit: async (ev) => {
      ev.preventDefault();
      const button = ev.target.querySelector("button[type=submit]");
      if (button.disabled) return;
      button.disabled = true;
      try {
        await api("POST", `/api/v1/doors/${encodeURIComponent(d.reader)}/unlock`, { reason: input.value.trim() });
        input.value = "";
        unlocking.reader = null;
        drawDoors();
        notifyOk(T("unlocked_ok") + ": " + d.reader);
      } catch (err) {
        notify(err.message);
        unlocking.invalid = err.field === "reason";
        drawDoors(`#${inputId}`);
      } finally {
        button.disabled = false;
      }
    } },
  h("label", { for: inputId }, T("unlock_reason")), input,
  h("span", { class: "confirm-btns" },
    h("button", { type: "submit", class: "tile-btn yes" }, T("unlock")),
    h("button", { type: "button", class: "tile-btn no", onclick: cancel }, T("cancel"))));
}

function notifyOk(text) {
  const out = document.getElementById("toast");
  notify(text);
  out.classList.add("ok");
  setTimeout(() => out.classList.remove("ok"), 8000);
}

function drawDoors(focusSelector) {
  replaceKeeping(document.getElementById("doors"), lastDoors.length ? lastDoors.map(doorTile)
    : [h("p", { class: "empty" }, T("no_doors"))]);
  if (focusSelector) {
    const el = document.querySelector(focusSelector);
    if (el) el.focus();
  }
}

function onStatus(s) {
  lastDoors = s.doors || [];
  drawDoors();
  Alarms.show(s.alarms || [], document.getElementById("alarm-strip"));
  const today = filters.elements.day.value === PAGE.today || !filters.elements.day.value;
  if (today && (s.changes || []).some((c) => RELOAD_ON.includes(c))) load();
}

function setup() {
  const reader = filters.elements.reader;
  for (const r of PAGE.readers || []) reader.append(h("option", { value: r.name }, r.name));
  const kind = filters.elements.event;
  for (const k of KINDS) kind.append(h("option", { value: k }, T("door_ev_" + k)));
  filters.addEventListener("change", () => load());
  filters.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
}

setup();
load();
live("/api/v1/events", "status", onStatus);
