// A visit's page: its whole history (from the store, any day) in WIB, and what can be
// done to it now: a badge by a tap on the front-desk reader or by label, the badge's
// return, the document's hand-back. Live: every status change re-reads it.
"use strict";

const visitId = Number(location.pathname.split("/").pop());
const notice = document.getElementById("v-notice");
const deskReader = deskSelect(document.getElementById("desk-reader"));
const deskBox = document.getElementById("desk-question");
let liveVisit = null;

function fact(term, value) {
  return value ? [h("dt", {}, term), h("dd", {}, value)] : [];
}

function detail(e) {
  const R = PAGE.reasons;
  switch (e.kind) {
    case "registered":
      return [e.back_entered ? T("ev_back_entered") : null,
        e.slot ? T("slot") + " " + e.slot : null,
        e.doc_masked ? (PAGE.documents[e.doc_type] || e.doc_type) + " " + e.doc_masked : null,
        e.by].filter(Boolean).join(" · ");
    case "badge_issued": case "badge_returned":
      return [e.badge, e.devices_checked === true ? T("devices_checked") : null].filter(Boolean).join(" · ");
    case "facility_assigned": case "usage_started": case "usage_ended":
      return [e.facility, e.by === "tap" ? T("ev_by_tap") : e.by === "staff" ? T("ev_by_staff") : e.by]
        .filter(Boolean).join(" · ");
    case "ticket_issued": case "ticket_called":
      return [e.number, e.facility].filter(Boolean).join(" → ");
    case "tap":
      return [e.reader, e.granted ? T("granted") : T("denied"), R[e.reason] || e.reason,
        e.anomaly ? (PAGE.anomalies[e.anomaly] || e.anomaly) : null].filter(Boolean).join(" · ");
    case "help_opened":
      return [PAGE.categories[e.category] || e.category, e.problem].filter(Boolean).join(": ");
    case "help_resolved": return [e.resolution, e.by].filter(Boolean).join(" · ");
    case "closed": return [e.forced ? T("ev_forced") : null, e.reason].filter(Boolean).join(": ");
    case "document_returned": return [T("slot") + " " + e.slot, e.to, e.by].filter(Boolean).join(" · ");
    case "amended":
      return [T("fact_" + e.what) !== "fact_" + e.what ? T("fact_" + e.what) : e.what,
        e.signed_at ? T("signed_day") : T("amendment_pending")].join(" · ");
    default: return "";
  }
}

function render(data) {
  const v = data.visit;
  liveVisit = data.live;
  document.title = v.name + " — bidroom";
  document.getElementById("v-title").textContent = v.name + " · " + v.company;
  document.getElementById("v-facts").replaceChildren(
    ...fact(T("state"), T("state_" + v.state)),
    ...fact(T("day"), v.day.split("-").reverse().join("-")),
    ...fact(T("slot"), v.slot),
    ...fact(T("document"), v.doc_masked ? (PAGE.documents[v.doc_type] || v.doc_type) + " " + v.doc_masked : ""),
    ...fact(T("badge_bound"), v.badge),
    ...fact(T("facility"), v.facility),
    ...fact(T("tender_code"), v.tender_code),
    ...fact(T("purpose"), v.purpose),
    ...fact(T("device_kind"), v.devices.map((d) => d.kind + (d.serial ? " " + d.serial : "")).join(", ")),
    ...fact(T("officer"), v.officer),
    ...fact(T("handed_back"), v.document_returned_at ? fmtTime(v.document_returned_at) : ""));
  document.getElementById("v-history").replaceChildren(...data.history.map((e) => h("tr", {},
    h("td", { class: "when" }, e.at.slice(0, 10) === data.visit.day ? fmtTime(e.at)
      : e.at.slice(0, 10).split("-").reverse().join("-") + " " + fmtTime(e.at)),
    h("td", {}, h("strong", {}, T("ev_" + e.kind)), " ", detail(e)))));
  const open = liveVisit && liveVisit.state !== "closed";
  document.getElementById("v-actions").hidden = !liveVisit;
  document.getElementById("issue-box").hidden = !(open && !liveVisit.badge && liveVisit.deposit);
  document.getElementById("do-checkout").hidden = !(open && liveVisit.badge);
  document.getElementById("do-return").hidden =
    !(liveVisit && liveVisit.state === "closed" && liveVisit.deposit && !liveVisit.deposit.returned_at);
  if (!(open && !liveVisit.badge)) document.getElementById("tap-instruction").textContent = "";
}

async function load() {
  try {
    render(await api("GET", `/api/v1/visits/${visitId}/history`));
  } catch (err) {
    flash(notice, err.message, false);
  }
}

async function act(button, path, body, done) {
  button.disabled = true;
  try {
    const visit = await api("POST", path, body);
    if (done) done(visit);
    await load();
  } catch (err) {
    flash(notice, err.message, false);
  } finally { button.disabled = false; }
}

document.getElementById("do-arm").addEventListener("click", (ev) => act(ev.target,
  `/api/v1/visits/${visitId}/arm-badge`, { reader: deskReader.value }, () => {
    document.getElementById("tap-instruction").textContent = T("tap_badge") + " (" + deskReader.value + ")";
  }));
document.getElementById("issue-label").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  clearErrors(f);
  try {
    const visit = await api("POST", `/api/v1/visits/${visitId}/badge`, { label: f.label.value.trim() });
    flash(notice, T("badge_bound") + ": " + visit.badge.label, true);
    await load();
  } catch (err) { showError(f, err); }
});
document.getElementById("do-checkout").addEventListener("click", (ev) => act(ev.target,
  `/api/v1/visits/${visitId}/checkout`, {}, (visit) => flash(notice, T("desk_returned") + ": " +
    visit.name + " · " + T("slot") + " " + (visit.deposit ? visit.deposit.slot : "–"), true)));
document.getElementById("do-return").addEventListener("click", (ev) => act(ev.target,
  `/api/v1/visits/${visitId}/document-return`, { to: liveVisit ? liveVisit.name : "" },
  () => flash(notice, T("handed_back"), true)));

function onDeskAnswer(kind, visit) {
  const slot = visit.deposit ? visit.deposit.slot : "–";
  flash(notice, (kind === "return" ? T("desk_returned") : T("desk_ignored")) + ": " +
    visit.name + (kind === "return" ? " · " + T("slot") + " " + slot : ""), true);
}

load();
live("/api/v1/events", "status", (s) => {
  deskShow(deskBox, s, deskReader.value, onDeskAnswer);
  load();
});
