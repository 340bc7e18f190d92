// Evacuation roll call: everyone inside right now; one click prints it.
"use strict";

async function load() {
  const r = await api("GET", "/api/v1/roll-call");
  document.getElementById("rc-count").textContent = r.count;
  document.getElementById("rc-at").textContent = fmtTime(r.at);
  document.getElementById("rc-people").replaceChildren(...r.people.map((p) => h("tr", {},
    h("td", {}, p.name), h("td", {}, p.company), h("td", {}, p.facility || "–"),
    h("td", {}, fmtTime(p.entered_at)), h("td", {}, p.badge || "–"),
    h("td", { class: "print-only" }, "☐"))));
}

document.getElementById("print").addEventListener("click", async () => {
  await load().catch(() => {});
  window.print();
});
live("/api/v1/events", "status", () => { load().catch(() => {}); });
