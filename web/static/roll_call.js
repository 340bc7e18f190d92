// Evacuation roll call: everyone the readers show inside (door entry, or a desk session
// without one) with where that comes from; during an evacuation the warden starts a
// muster and marks each person safe (journaled). One click prints it with the time.
"use strict";

let current = null;
const notice = () => document.getElementById("rc-notice");

function sourceText(s) {
  if (s.kind === "door") return T("from_door") + " " + (s.reader || "") + " · " + fmtTime(s.at);
  return T("from_desk") + " " + (s.reader || "") + " (" + s.facility + ") · " + fmtTime(s.at);
}

function safeCell(p, running) {
  if (p.safe_at) {
    return h("td", { class: "safe" }, "✔ " + T("safe") + " " + fmtTime(p.safe_at), " ",
      h("span", { class: "small" }, p.safe_by));
  }
  if (!running) return h("td", {}, "–");
  return h("td", {}, h("button", { type: "button", class: "small-btn primary",
    "aria-label": T("mark_safe") + " " + p.name,
    onclick: (ev) => post(ev.target, `/api/v1/musters/${running.id}/safe`, { visit_id: p.visit_id }) },
  T("mark_safe")));
}

function row(p, running) {
  const where = p.sources.map((s) => h("div", {}, sourceText(s)));
  if (p.desk_only) where.push(h("div", { class: "small" }, T("no_door_entry")));
  if (!p.inside) where.push(h("div", { class: "small" }, T("left_room")));
  return h("tr", { "data-visit": p.visit_id, class: p.safe_at ? "marked" : "" },
    h("td", {}, p.name), h("td", {}, p.company), h("td", {}, where),
    h("td", {}, p.badge || "–"), safeCell(p, running),
    h("td", { class: "print-only" }, "☐"));
}

function show(r) {
  current = r;
  const m = r.muster;
  const running = m && !m.ended_at ? m : null;
  document.getElementById("rc-count").textContent = r.count;
  document.getElementById("rc-at").textContent = fmtTime(r.at);
  document.getElementById("muster-state").textContent = running
    ? T("muster_running").replace("{time}", fmtTime(m.started_at)).replace("{by}", m.started_by)
    : m ? T("muster_ended").replace("{start}", fmtTime(m.started_at)).replace("{end}", fmtTime(m.ended_at)) : "";
  document.getElementById("muster-counts").textContent = running
    ? T("muster_counts").replace("{marked}", m.marked).replace("{unmarked}", m.unmarked) : "";
  document.getElementById("muster-start").hidden = Boolean(running);
  document.getElementById("muster-end").hidden = !running;
  document.getElementById("rc-people").replaceChildren(...r.people.map((p) => row(p, running)));
}

async function load() {
  show(await api("GET", "/api/v1/roll-call"));
}

async function post(button, path, body) {
  button.disabled = true;
  try {
    show(await api("POST", path, body));
    notice().textContent = "";
  } catch (err) {
    flash(notice(), err.message, false);
    await load().catch(() => {});
  } finally { button.disabled = false; }
}

document.getElementById("muster-start").addEventListener("click", (ev) => post(ev.target, "/api/v1/musters", {}));
document.getElementById("muster-end").addEventListener("click", (ev) => {
  if (current && current.muster) post(ev.target, `/api/v1/musters/${current.muster.id}/end`, {});
});
document.getElementById("print").addEventListener("click", async () => {
  await load().catch(() => {});
  window.print();
});
live("/api/v1/events", "status", () => { load().catch(() => {}); });
