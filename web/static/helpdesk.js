// The help-desk queue (SOP steps 5-6): claim, then resolve with problem and resolution.
"use strict";

const drafts = {};

function resolveForm(item) {
  const key = "r" + item.id;
  const draft = drafts[key] || { problem: item.problem, resolution: "" };
  drafts[key] = draft;
  const problem = h("textarea", { id: key + "-p", name: "problem", rows: 2 });
  problem.value = draft.problem;
  problem.addEventListener("input", () => { draft.problem = problem.value; });
  const resolution = h("textarea", { id: key + "-r", name: "resolution", rows: 2, required: true });
  resolution.value = draft.resolution;
  resolution.addEventListener("input", () => { draft.resolution = resolution.value; });
  const form = h("form", { class: "stacked", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("label", { for: key + "-p" }, T("problem")), problem,
    h("label", { for: key + "-r" }, T("resolution")), resolution,
    h("span", { class: "field-error", "data-error-for": "resolution" }),
    h("button", { type: "submit", class: "primary" }, T("resolve")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api("POST", `/api/v1/help/${item.id}/resolve`, {
        problem: problem.value.trim(), resolution: resolution.value.trim(),
      });
      delete drafts[key];
      await refresh();
    } catch (err) { showError(form, err); }
  });
  return form;
}

function requestItem(item, now) {
  const li = h("li", { class: "help-item " + item.state, "data-help": item.id },
    h("strong", {}, "#" + item.id + " " + (PAGE.categories[item.category] || item.category)),
    " · " + T(item.state),
    item.facility ? h("span", { class: "tag" }, T("facility") + " " + item.facility) : null,
    item.name ? " · " + item.name : "",
    h("span", { class: "small" }, " · " + fmtTime(item.opened_at) + " (" + T("age") + " " + fmtAge(ageOf(item.opened_at, now)) + ")"),
    h("p", {}, item.problem));
  if (item.state === "open") {
    li.append(h("button", { type: "button", onclick: async (ev) => {
      ev.target.disabled = true;
      try { await api("POST", `/api/v1/help/${item.id}/claim`); await refresh(); }
      catch (err) { notify(err.message); ev.target.disabled = false; }
    } }, T("claim")));
  } else if (item.state === "claimed") {
    li.append(h("p", { class: "small" }, T("claimed_by") + " " + item.claimed_by), resolveForm(item));
  }
  return li;
}

let lastNow = null;
async function refresh() {
  const items = await api("GET", "/api/v1/help?all=1");
  const active = items.filter((i) => i.state === "open" || i.state === "claimed");
  const done = items.filter((i) => i.state === "resolved");
  const focused = document.activeElement && document.activeElement.id;
  document.getElementById("requests").replaceChildren(...(active.length
    ? active.map((i) => requestItem(i, lastNow)) : [h("li", { class: "empty" }, T("none"))]));
  document.getElementById("resolved").replaceChildren(...(done.length ? done.map((i) =>
    h("li", { class: "help-item resolved" }, h("strong", {}, "#" + i.id + " " + (PAGE.categories[i.category] || i.category)),
      " · " + (i.resolution || "") + " · " + i.resolved_by + " " + fmtTime(i.resolved_at))) : [h("li", { class: "empty" }, T("none"))]));
  if (focused) { const el = document.getElementById(focused); if (el) el.focus(); }
}

setupHelpForm(document.querySelector(".help-form"), PAGE.facilities || [], "staff");
live("/api/v1/events", "status", (s) => { lastNow = s.now; refresh().catch(() => {}); });
