// The access form (SOP step 2): NIK checked as typed, a returning visitor prefilled,
// then the badge bound by a tap on the front-desk reader (or by label).
// Once saved, the form gives way to the result (slot, tap instruction, the badge when
// tapped) and the address becomes /arrival?visit=ID: the back button, a reload or a
// restored tab show that visit again and never a filled form to send twice.
"use strict";

const form = document.getElementById("arrival");
const after = document.getElementById("after");
let startedAt = null;
let visitId = null;

const kindSelect = form.wanted_kind;
for (const k of PAGE.kinds || []) kindSelect.append(h("option", { value: k.kind }, k.label));
const armSelect = document.getElementById("arm-reader");
for (const r of (PAGE.readers || []).filter((r) => r.role === "front_desk")) {
  armSelect.append(h("option", { value: r.name }, r.name));
}

form.addEventListener("input", () => { startedAt = startedAt || new Date().toISOString(); });

function addDevice(kind, serial) {
  const n = document.querySelectorAll("#device-rows .device-row").length + 1;
  const row = h("div", { class: "device-row" },
    h("label", { for: "dev-kind-" + n }, T("device_kind")),
    h("input", { id: "dev-kind-" + n, class: "dev-kind", value: kind || "", placeholder: "Laptop" }),
    h("label", { for: "dev-serial-" + n }, T("serial")),
    h("input", { id: "dev-serial-" + n, class: "dev-serial", value: serial || "" }));
  row.append(h("button", { type: "button", class: "small-btn", onclick: () => row.remove() }, T("remove")));
  document.getElementById("device-rows").append(row);
  row.querySelector(".dev-kind").focus();
}
document.getElementById("add-device").addEventListener("click", () => addDevice());

document.getElementById("back_entered").addEventListener("change", (ev) => {
  document.getElementById("back-entry").hidden = !ev.target.checked;
});

// NIK as it is typed: the server's own rules and messages.
let nikTimer = null;
let nikSeq = 0;
async function checkNik() {
  const msg = document.getElementById("nik-msg");
  const input = form.doc_number;
  if (form.doc_type.value !== "ktp" || !input.value.trim()) {
    msg.textContent = "";
    input.removeAttribute("aria-invalid");
    return;
  }
  const seq = ++nikSeq;
  const r = await api("POST", "/api/v1/nik/check", { nik: input.value }, { once: false });
  if (seq !== nikSeq) return;
  if (r.valid) {
    msg.textContent = "";
    msg.className = "field-ok";
    msg.textContent = T("nik_ok") + " (" + r.masked + ")";
    input.removeAttribute("aria-invalid");
    lookup();
  } else {
    msg.className = "field-error";
    msg.textContent = PAGE.lang === "en" ? r.message_en : r.message;
    input.setAttribute("aria-invalid", "true");
  }
}
form.doc_number.addEventListener("input", () => {
  clearTimeout(nikTimer);
  nikTimer = setTimeout(() => checkNik().catch(() => {}), 250);
});
form.doc_type.addEventListener("change", () => checkNik().catch(() => {}));
form.doc_number.addEventListener("change", () => { if (form.doc_type.value !== "ktp") lookup(); });

async function lookup() {
  // POST: the number travels in the body, never in a URL that proxies and histories keep.
  const q = { doc_type: form.doc_type.value, doc_number: form.doc_number.value };
  let r;
  try { r = await api("POST", "/api/v1/visitors/lookup", q, { once: false }); } catch (_err) { return; }
  const note = document.getElementById("lookup-msg");
  if (!r.found) { note.textContent = ""; return; }
  for (const field of ["name", "company", "npwp", "phone"]) {
    if (r[field] && !form[field].value) form[field].value = r[field];
  }
  note.textContent = T("returning");
}

function formBody() {
  const back = form.back_entered.checked;
  const devices = [...document.querySelectorAll("#device-rows .device-row")]
    .map((row) => ({ kind: row.querySelector(".dev-kind").value.trim(), serial: row.querySelector(".dev-serial").value.trim() }))
    .filter((d) => d.kind || d.serial);
  return {
    name: form.name.value.trim(), company: form.company.value.trim(),
    npwp: form.npwp.value.trim() || null, phone: form.phone.value.trim() || null,
    doc_type: form.doc_type.value, doc_number: form.doc_number.value.trim(),
    tender_code: form.tender_code.value.trim(), purpose: form.purpose.value.trim(),
    wanted_kind: form.wanted_kind.value || null, devices,
    rules_ack: form.rules_ack.checked, privacy_ack: form.privacy_ack.checked,
    back_entered: back,
    arrived_at: back && form.arrived_at.value ? form.arrived_at.value + ":00+07:00" : null,
    form_started_at: startedAt,
  };
}

const openVisit = document.getElementById("open-visit");

async function save(extra) {
  const visit = await api("POST", "/api/v1/visits", Object.assign(formBody(), extra));
  history.replaceState(null, "", "/arrival?visit=" + visit.id);
  showAfter(visit);
  armFor(visit).catch((err) => { document.getElementById("tap-instruction").textContent = err.message; });
}

async function armFor(visit) {
  if (!armSelect.value || visit.badge || visit.state === "closed") return;
  await api("POST", `/api/v1/visits/${visit.id}/arm-badge`, { reader: armSelect.value });
  document.getElementById("tap-instruction").textContent = T("tap_badge") + " (" + armSelect.value + ")";
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors(form);
  openVisit.hidden = true;
  try {
    await save({});
  } catch (err) {
    if (err.body && err.body.error === "open_visit") {
      // A paper form for a document whose visit is still open: the clerk decides.
      document.getElementById("open-visit-msg").textContent = err.message;
      openVisit.hidden = false;
      document.getElementById("open-visit-yes").focus();
      return;
    }
    showError(form, err);
  }
});

document.getElementById("open-visit-yes").addEventListener("click", async () => {
  clearErrors(form);
  try {
    await save({ confirm_open_visit: true });
    openVisit.hidden = true;
  } catch (err) {
    openVisit.hidden = true;
    showError(form, err);
  }
});
document.getElementById("open-visit-no").addEventListener("click", () => { openVisit.hidden = true; });

armSelect.addEventListener("change", async () => {
  if (!visitId) return;
  await api("POST", `/api/v1/visits/${visitId}/arm-badge`, { reader: armSelect.value });
  document.getElementById("tap-instruction").textContent = T("tap_badge") + " (" + armSelect.value + ")";
});

function showAfter(visit) {
  visitId = visit.id;
  form.hidden = true;
  after.hidden = false;
  window.scrollTo(0, 0);
  document.getElementById("after-name").textContent = visit.name + " — " + visit.company;
  document.getElementById("after-slot").textContent = visit.deposit ? visit.deposit.slot : "–";
  showVisit(visit);
}

function showVisit(visit) {
  const badge = document.getElementById("badge-result");
  const ticket = document.getElementById("ticket-result");
  if (visit.badge) {
    badge.textContent = T("badge_bound") + ": " + visit.badge.label +
      (visit.facility ? " · " + T("facility") + ": " + visit.facility : "");
    document.getElementById("arm-box").hidden = true;
    document.getElementById("issue-label").hidden = true;
  }
  ticket.textContent = visit.ticket ? T("queued_number") + ": " + visit.ticket.number : "";
}

document.getElementById("issue-label").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  clearErrors(f);
  try {
    showVisit(await api("POST", `/api/v1/visits/${visitId}/badge`, { label: f.label.value.trim() }));
  } catch (err) { showError(f, err); }
});

// A saved visit shown again (back button, reload, restored tab): its result, not the form.
const shown = new URLSearchParams(location.search).get("visit");
if (shown && /^[0-9]+$/.test(shown)) {
  form.hidden = true;
  api("GET", `/api/v1/visits/${shown}`)
    .then((visit) => {
      showAfter(visit);
      armFor(visit).catch((err) => { document.getElementById("tap-instruction").textContent = err.message; });
    }, () => { location.replace("/arrival"); });
}

// While the desk waits for this visit's badge, a tap of another visitor's badge is
// asked about here (desk.js): return that visit, or ignore the tap.
function onDeskAnswer(kind, visit) {
  const box = document.getElementById("badge-result");
  if (kind === "return") {
    box.textContent = T("desk_returned") + ": " + visit.name + " · " + visit.company + " · " +
      T("slot") + " " + (visit.deposit ? visit.deposit.slot : "–");
  }
}

// The badge appears the moment it is tapped: every status change re-reads the visit.
live("/api/v1/events", "status", async (s) => {
  deskShow(document.getElementById("desk-question"), s, armSelect.value, onDeskAnswer);
  if (!visitId) return;
  try { showVisit(await api("GET", `/api/v1/visits/${visitId}`)); } catch (_err) { /* shown next time */ }
});
