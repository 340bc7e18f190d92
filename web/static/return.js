// Badge and document return (SOP steps 7-8): a front-desk tap of an issued badge
// closes the visit; the deposit waiting to be handed back opens here, slot first.
// A visit opened by hand is served at the chosen front-desk reader: a tap of another
// visitor's badge then asks (desk.js) instead of closing that visit silently.
"use strict";

let current = null;
let seenWaiting = null;
let openVisits = [];

function deviceList(visit) {
  const box = document.getElementById("cur-devices");
  if (!visit.devices.length) {
    box.replaceChildren(h("p", { class: "small" }, T("no_devices")));
    return;
  }
  box.replaceChildren(h("fieldset", {}, h("legend", {}, T("devices_checked")),
    visit.devices.map((d, i) => h("label", { class: "check" },
      h("input", { type: "checkbox", class: "dev-check", id: "dev-" + i }),
      " " + d.kind + (d.serial ? " — " + d.serial : "")))));
}

function showVisit(visit, keepDevices) {
  current = visit;
  document.getElementById("cur-empty").hidden = true;
  document.getElementById("cur-body").hidden = false;
  const dep = visit.deposit;
  document.getElementById("cur-slot").textContent = dep ? dep.slot : "–";
  document.getElementById("cur-name").textContent = visit.name;
  document.getElementById("cur-link").href = "/visits/" + visit.id;
  document.getElementById("cur-company").textContent = visit.company;
  document.getElementById("cur-doc").textContent = dep
    ? (PAGE.documents[dep.doc_type] || dep.doc_type) + " " + dep.doc_masked : "";
  document.getElementById("cur-meta").textContent = [
    visit.badge ? T("badge_bound") + " " + visit.badge.label : null,
    visit.facility ? T("facility") + " " + visit.facility : null,
    T("state_" + visit.state),
  ].filter(Boolean).join(" · ");
  if (!keepDevices) deviceList(visit);
  const closed = visit.state === "closed";
  const handed = dep && dep.returned_at;
  document.getElementById("do-checkout").hidden = closed;
  document.getElementById("do-return").hidden = !closed || !dep || Boolean(handed);
  const notice = document.getElementById("cur-notice");
  if (handed) flash(notice, T("handed_back") + " · " + fmtTime(dep.returned_at), true);
  else if (deskNote && deskNote.id === visit.id) flash(notice, deskNote.text, true);
  else if (!keepDevices) notice.textContent = "";
}

async function open(visitId) {
  showVisit(await api("GET", `/api/v1/visits/${visitId}`), false);
}

// The clerk opened a visit by hand: the desk serves it, so a tap of another visitor's
// badge meanwhile is asked about instead of closing that visit behind the clerk's back.
async function openAndServe(visitId) {
  await open(visitId);
  if (current && current.state !== "closed" && deskSelectEl.value) {
    await api("POST", `/api/v1/visits/${visitId}/serve`, { reader: deskSelectEl.value })
      .catch((err) => flash(document.getElementById("cur-notice"), err.message, false));
  }
}

const deskSelectEl = deskSelect(document.getElementById("desk-reader"));
const deskBox = document.getElementById("desk-question");
let served = null;

// What the clerk answered stays said on the visit it concerns (live updates redraw it).
let deskNote = null;

function onDeskAnswer(kind, visit) {
  if (kind === "return") {
    deskNote = { id: visit.id, text: T("desk_returned") + ": " + visit.name + " · " +
      visit.company + " · " + T("slot") + " " + (visit.deposit ? visit.deposit.slot : "–") };
    showVisit(visit, false);
  } else {
    deskNote = { id: current ? current.id : null, text: T("desk_ignored") + ": " + visit.name };
    flash(document.getElementById("cur-notice"), deskNote.text, true);
  }
}

document.getElementById("do-release").addEventListener("click", async (ev) => {
  if (!served) return;
  ev.target.disabled = true;
  try {
    await api("POST", `/api/v1/desk/${encodeURIComponent(served.reader)}/release`, { visit_id: served.visit_id });
  } catch (err) {
    flash(document.getElementById("cur-notice"), err.message, false);
  } finally { ev.target.disabled = false; }
});

function showServing(s) {
  served = deskShow(deskBox, s, deskSelectEl.value, onDeskAnswer);
  const name = served && (openVisits.find((v) => v.id === served.visit_id) || {}).name;
  document.getElementById("serving").textContent = served
    ? T("desk_serving") + ": " + (name || (current && current.id === served.visit_id ? current.name : "#" + served.visit_id))
    : "";
  document.getElementById("do-release").hidden = !served;
}

document.getElementById("do-checkout").addEventListener("click", async (ev) => {
  const checks = [...document.querySelectorAll(".dev-check")];
  const checked = checks.length ? checks.every((c) => c.checked) : null;
  ev.target.disabled = true;
  try {
    showVisit(await api("POST", `/api/v1/visits/${current.id}/checkout`, { devices_checked: checked }), true);
  } catch (err) {
    flash(document.getElementById("cur-notice"), err.message, false);
  } finally { ev.target.disabled = false; }
});

document.getElementById("do-return").addEventListener("click", async (ev) => {
  ev.target.disabled = true;
  try {
    showVisit(await api("POST", `/api/v1/visits/${current.id}/document-return`, { to: current.name }), true);
  } catch (err) {
    flash(document.getElementById("cur-notice"), err.message, false);
  } finally { ev.target.disabled = false; }
});

function renderOpen() {
  const q = document.getElementById("search").value.trim().toLowerCase();
  const rows = openVisits.filter((v) => !q || [v.name, v.company, v.badge && v.badge.label, v.facility]
    .filter(Boolean).join(" ").toLowerCase().includes(q));
  document.getElementById("open-visits").replaceChildren(...(rows.length ? rows.map((v) =>
    h("li", {}, h("button", { type: "button", class: "pick-btn", onclick: () => openAndServe(v.id) },
      v.name + " — " + v.company + (v.badge ? " · " + v.badge.label : "") +
      (v.facility ? " · " + v.facility : "")))) : [h("li", { class: "empty" }, T("none"))]));
}
document.getElementById("search").addEventListener("input", renderOpen);

async function onStatus(s) {
  const waiting = s.deposits.filter((d) => d.visit_closed);
  document.getElementById("waiting").replaceChildren(...(waiting.length ? waiting.map((d) =>
    h("li", {}, h("button", { type: "button", class: "pick-btn", onclick: () => open(d.visit_id) },
      h("strong", { class: "slot" }, d.slot), " " + d.name))) : [h("li", { class: "empty" }, T("none"))]));
  const ids = new Set(waiting.map((d) => d.id));
  const fresh = waiting.filter((d) => seenWaiting === null ? false : !seenWaiting.has(d.id));
  if (seenWaiting === null && waiting.length) fresh.push(waiting.reduce((a, b) => (a.id > b.id ? a : b)));
  seenWaiting = ids;
  if (fresh.length) await open(fresh[fresh.length - 1].visit_id);
  else if (current) showVisit(await api("GET", `/api/v1/visits/${current.id}`), true);
  const list = await api("GET", "/api/v1/visits?day=" + s.day);
  openVisits = list.visits.filter((v) => v.state !== "closed");
  renderOpen();
  showServing(s);
}

live("/api/v1/events", "status", (s) => { onStatus(s).catch(() => {}); });
