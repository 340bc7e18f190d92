// The badge pool: every badge with its state (in words) and holder, a filter, lost /
// found / retire with a required reason, and enrolling new badges by tapping them on
// the front-desk reader (enrol mode).
"use strict";

const IS_ADMIN = PAGE.role === "admin";
const ACTIONS = {
  available: [["lost", "act_lost"]].concat(IS_ADMIN ? [["retire", "act_retire"]] : []),
  issued: [["lost", "act_lost"]],
  lost: [["found", "act_found"]].concat(IS_ADMIN ? [["retire", "act_retire"]] : []),
  retired: [],
};
let badges = [];
let chosen = null; // {badge, action}
let busy = false;

function stateText(state) {
  return PAGE.badge_states[state] || T("error");
}

function matches(b) {
  const state = document.getElementById("filter-state").value;
  const text = document.getElementById("filter-text").value.trim().toLowerCase();
  if (state && b.state !== state) return false;
  if (!text) return true;
  return [b.label, b.holder, b.company].some((v) => v && v.toLowerCase().includes(text));
}

function row(b) {
  const buttons = (ACTIONS[b.state] || []).map(([action, key]) => h("button", {
    type: "button", class: "small-btn", dataset: { action, badge: b.label },
    onclick: () => choose(b, action, key),
  }, T(key)));
  return h("tr", { class: "badge-" + b.state, dataset: { label: b.label } },
    h("td", {}, h("strong", {}, b.label)),
    h("td", {}, h("span", { class: "tag state-" + b.state }, stateText(b.state))),
    h("td", {}, b.holder || "–"), h("td", {}, b.company || "–"),
    h("td", { class: "small" }, b.note || ""), h("td", {}, buttons));
}

function draw() {
  const shown = badges.filter(matches);
  document.getElementById("badge-count").textContent = shown.length + " / " + badges.length;
  document.getElementById("badge-rows").replaceChildren(...(shown.length ? shown.map(row)
    : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, T("none")))]));
}

function choose(b, action, key) {
  chosen = { badge: b, action };
  const box = document.getElementById("action-box");
  const form = document.getElementById("action-form");
  clearErrors(form);
  document.getElementById("action-title").textContent = T(key) + " · " + b.label;
  form.reset();
  box.hidden = false;
  document.getElementById("action-reason").focus();
}

function closeAction() {
  chosen = null;
  document.getElementById("action-box").hidden = true;
}

async function act(ev) {
  ev.preventDefault();
  const form = ev.target;
  if (!chosen || busy) return;
  clearErrors(form);
  const note = form.note.value.trim(); // an empty reason is refused by the API, in words
  busy = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const done = await api("POST", `/api/v1/badges/${chosen.badge.id}/${chosen.action}`, { note });
    flash(document.getElementById("enrol-notice"), done.label + ": " + stateText(done.state), true);
    closeAction();
    await load();
  } catch (err) {
    showError(form, err);
  } finally {
    busy = false;
    button.disabled = false;
  }
}

function showMode(mode) {
  const state = document.getElementById("enrol-state");
  const armed = mode.armed[0];
  state.textContent = armed
    ? T("enrol_waiting") + " " + armed.reader + " · " + T("label") + " " + (armed.label || mode.proposed)
    : T("enrol_off") + " · " + T("proposed") + " " + mode.proposed;
  state.dataset.armed = armed ? "1" : "0";
  const form = document.getElementById("enrol-form");
  if (!form) return;
  const select = form.reader;
  if (!select.options.length) {
    for (const name of mode.readers) select.append(h("option", { value: name }, name));
  }
  form.label.placeholder = mode.proposed;
  document.getElementById("enrol-cancel").hidden = !armed;
}

async function load() {
  const [pool, mode] = await Promise.all([
    api("GET", "/api/v1/badges"), api("GET", "/api/v1/badges/enrol-mode"),
  ]);
  const before = new Set(badges.map((b) => b.label));
  badges = pool;
  draw();
  showMode(mode);
  const fresh = before.size ? pool.filter((b) => !before.has(b.label)) : [];
  if (fresh.length) {
    flash(document.getElementById("enrol-notice"), T("enrolled") + ": " + fresh.map((b) => b.label).join(", "), true);
  }
}

async function enrol(ev) {
  ev.preventDefault();
  const form = ev.target;
  if (busy) return;
  clearErrors(form);
  busy = true;
  const button = document.getElementById("enrol-start");
  button.disabled = true;
  try {
    showMode(await api("POST", "/api/v1/badges/enrol-mode", {
      reader: form.reader.value, label: form.label.value.trim(),
    }));
    form.label.value = "";
  } catch (err) {
    showError(form, err);
  } finally {
    busy = false;
    button.disabled = false;
  }
}

async function cancelEnrol() {
  const form = document.getElementById("enrol-form");
  try {
    showMode(await api("POST", "/api/v1/badges/enrol-mode/cancel", { reader: form.reader.value }));
  } catch (err) {
    showError(form, err);
  }
}

const stateSelect = document.getElementById("filter-state");
for (const [value, text] of Object.entries(PAGE.badge_states)) {
  stateSelect.append(h("option", { value }, text));
}
const filter = document.getElementById("badge-filter");
filter.addEventListener("input", draw);
filter.addEventListener("submit", (ev) => ev.preventDefault());
document.getElementById("action-form").addEventListener("submit", act);
document.getElementById("action-cancel").addEventListener("click", closeAction);
const enrolForm = document.getElementById("enrol-form");
if (enrolForm) {
  enrolForm.addEventListener("submit", enrol);
  document.getElementById("enrol-cancel").addEventListener("click", cancelEnrol);
}
live("/api/v1/events", "status", () => { load().catch((err) => notify(err.message)); });
