// Day close and sign-off (SOP step 9): open items, breaches with justifications,
// close (front office) and sign off (Head of LPSE; refused while a breach lacks a reason).
"use strict";

const params = new URLSearchParams(location.search);
const DAY = params.get("day") || PAGE.today;
document.getElementById("day-input").value = DAY;
const CAN_CLOSE = ["front_office", "head", "admin"].includes(PAGE.role);
const CAN_SIGN = PAGE.role === "head";

function itemList(items) {
  const rows = [];
  for (const key of ["open_visits", "badges_out", "documents_held", "open_help"]) {
    const ids = items[key] || [];
    if (ids.length) rows.push(h("li", {}, h("strong", {}, T(key)), ": " + ids.length));
  }
  return rows.length ? rows : [h("li", { class: "empty" }, T("none"))];
}

function breachItem(b) {
  const li = h("li", { class: "breach" + (b.justification ? " justified" : "") },
    h("strong", {}, PAGE.steps[b.step] || b.step_name), " — " + b.label + " ",
    h("span", { class: "small" }, fmtTime(b.started) + " · " + fmtAge(b.duration_s) + " / " + fmtAge(b.standard_s)));
  if (b.justification) {
    li.append(h("p", { class: "small" }, T("justification") + ": " + b.justification + " (" + b.justified_by + ")"));
  } else if (CAN_CLOSE && !b.ongoing) {
    const id = "j-" + b.step + "-" + b.subject.replace(/[^a-z0-9]/gi, "-");
    const input = h("input", { id, name: "text", required: true, "data-key": id });
    const form = h("form", { class: "inline" }, h("label", { for: id }, T("justification")), input,
      h("button", { type: "submit" }, T("justify")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/api/v1/breaches/justify", { day: DAY, step: b.step, subject: b.subject, text: input.value.trim() });
        await load();
      } catch (err) { flash(document.getElementById("day-notice"), err.message, false); }
    });
    li.append(form);
  }
  return li;
}

let lastDay = null;

async function load() {
  const day = await api("GET", `/api/v1/days/${DAY}`);
  lastDay = day;
  const state = document.getElementById("day-state");
  state.textContent = day.state === "signed"
    ? T("signed_day") + " · " + T("signed_by") + " " + day.signed_by + " " + fmtTime(day.signed_at)
    : day.state === "closed" ? T("closed_day") + " · " + T("closed_by") + " " + day.closed_by + " " + fmtTime(day.closed_at)
      + (day.close_note ? " · " + day.close_note : "")
    : T("open_day");
  state.className = "state-" + day.state;
  document.getElementById("open-items").replaceChildren(...itemList(day.open_items));
  replaceKeeping(document.getElementById("day-breaches"), (day.breaches.length
    ? day.breaches.map(breachItem) : [h("li", { class: "empty" }, T("none"))]));
  showAmendments(day.amendments || []);
  document.getElementById("close-day").hidden = !(CAN_CLOSE && day.state === "open");
  document.getElementById("sign-day").hidden = !(CAN_SIGN && day.state === "closed");
  document.getElementById("reopen-day").hidden = !(CAN_SIGN && day.state === "closed");
  const list = await api("GET", "/api/v1/visits?day=" + DAY);
  document.getElementById("visit-count").textContent = list.visits.length;
  document.getElementById("day-visits").replaceChildren(...list.visits.map((v) => h("tr", {},
    h("td", {}, v.name), h("td", {}, v.company), h("td", {}, fmtTime(v.registered_at)),
    h("td", {}, fmtTime(v.closed_at)), h("td", {}, T("state_" + v.state)))));
  await loadReports();
}

// What happened after the signature: each amendment with when, what, the records it
// concerns and whether the Head has signed it; the Head signs the pending ones.
function showAmendments(items) {
  document.getElementById("amendments-box").hidden = items.length === 0;
  document.getElementById("amendments").replaceChildren(...items.map((a) => h("li",
    { class: a.signed_at ? "justified" : "breach" },
    h("strong", {}, fmtTime(a.at)), " — " + a.kind.split(",").map((k) => T("fact_" + k) || k).join(", "),
    h("span", { class: "small" }, " · " + a.rows.join(", ") + " · " + a.actor),
    h("p", { class: "small" }, a.signed_at
      ? T("signed_by") + " " + a.signed_by + " " + fmtTime(a.signed_at) : T("amendment_pending")))));
  document.getElementById("sign-amendments").hidden =
    !(CAN_SIGN && items.some((a) => !a.signed_at));
}

// The day's reports from the reports API: books and visit report in three formats,
// and the files sealed when the day was signed off, byte for byte.
async function loadReports() {
  const formats = (kind) => ["pdf", "xlsx", "csv"].map((f) => h("a", {
    href: `/api/v1/reports/days/${DAY}/${kind}?format=${f}`, download: true, class: "fmt" }, f.toUpperCase()));
  const rows = [];
  if (["front_office", "head", "admin"].includes(PAGE.role)) rows.push(h("li", {}, T("books") + ": ", formats("books")));
  if (["head", "admin"].includes(PAGE.role)) rows.push(h("li", {}, T("visit_report") + ": ", formats("visits")));
  const sealed = rows.length ? await api("GET", `/api/v1/archive/${DAY}`).catch(() => []) : [];
  if (sealed.length) {
    rows.push(h("li", {}, T("sealed") + ":", h("ul", { class: "plain" }, sealed.map((f) => h("li", {},
      h("a", { href: f.url, download: f.name }, f.name),
      h("span", { class: "small" }, ` ${Math.ceil(f.size / 1024)} KB · SHA-256 ${f.sha256.slice(0, 12)}…`))))));
  }
  document.getElementById("reports").replaceChildren(...(rows.length ? rows : [h("li", { class: "empty" }, T("none"))]));
}

async function action(button, path) {
  const notice = document.getElementById("day-notice");
  button.disabled = true;
  try {
    await api("POST", path);
    notice.textContent = "";
    await load();
  } catch (err) {
    flash(notice, err.message, false);
  } finally { button.disabled = false; }
}

// Closing asks first: what is still open, and (before the room's closing time) a reason.
// The server decides; a refusal is said in the dialog, which keeps what was typed.
function openCloseDialog() {
  const day = lastDay;
  if (!day) return;
  const unjustified = day.breaches.filter((b) => !b.justification && !b.ongoing).length;
  const items = itemList(day.open_items).filter((li) => !li.classList.contains("empty"));
  if (unjustified) items.push(h("li", {}, h("strong", {}, T("unjustified_breaches")), ": " + unjustified));
  document.getElementById("close-open").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, T("none"))]));
  const early = document.getElementById("close-early");
  early.hidden = !day.reason_needed;
  early.textContent = T("close_early").replace("{time}", fmtTime(day.closing_at));
  document.getElementById("close-reason-label").textContent = T(day.reason_needed ? "close_reason" : "close_note");
  const reason = document.getElementById("close-reason");
  reason.setAttribute("aria-required", day.reason_needed ? "true" : "false");
  document.getElementById("close-error").textContent = "";
  document.getElementById("close-dialog").showModal();
  reason.focus();
}

function dialogFlow(name, path, field) {
  const dialog = document.getElementById(name + "-dialog");
  const input = document.getElementById(name + "-reason");
  const error = document.getElementById(name + "-error");
  const confirm = document.getElementById(name + "-confirm");
  document.getElementById(name + "-cancel").addEventListener("click", () => dialog.close());
  document.getElementById(name + "-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (confirm.disabled) return;
    confirm.disabled = true;
    try {
      await api("POST", path, { [field]: input.value.trim() });
      dialog.close();
      input.value = "";
      document.getElementById("day-notice").textContent = "";
      await load();
    } catch (err) {
      flash(error, err.message, false);
      input.focus();
      await load().catch(() => {});
    } finally { confirm.disabled = false; }
  });
}

dialogFlow("close", `/api/v1/days/${DAY}/close`, "note");
dialogFlow("reopen", `/api/v1/days/${DAY}/reopen`, "reason");
document.getElementById("close-day").addEventListener("click", openCloseDialog);
document.getElementById("reopen-day").addEventListener("click", () => {
  document.getElementById("reopen-error").textContent = "";
  document.getElementById("reopen-dialog").showModal();
  document.getElementById("reopen-reason").focus();
});
document.getElementById("sign-day").addEventListener("click", (ev) => action(ev.target, `/api/v1/days/${DAY}/sign`));
document.getElementById("sign-amendments").addEventListener("click",
  (ev) => action(ev.target, `/api/v1/days/${DAY}/amendments/sign`));
live("/api/v1/events", "status", () => { load().catch(() => {}); });
