// The status board: redrawn from the full status snapshot on every SSE event.
"use strict";

const KIND_LABEL = Object.fromEntries((PAGE.kinds || []).map((k) => [k.kind, k.label]));
const CAN_QUEUE = ["front_office", "head", "admin"].includes(PAGE.role);
Object.assign(PAGE.strings, JSON.parse(document.getElementById("board-strings").textContent));

// Inline forms stay open across redraws (every SSE event redraws the whole board):
// the waiting ticket whose priority reason is being typed, the facility whose
// service change awaits confirmation.
const editing = { priority: null, reasonInvalid: false, service: null, move: null };
let lastStatus = null;

function redraw(focusSelector) {
  if (lastStatus) render(lastStatus);
  if (focusSelector) {
    const el = document.querySelector(focusSelector);
    if (el) {
      el.focus();
      (el.closest("form, .confirm") || el).scrollIntoView({ block: "nearest" });
    }
  }
}

function section(id, ...children) {
  replaceKeeping(document.getElementById(id), children.flat());
}

function empty() {
  return h("p", { class: "empty" }, T("none"));
}

function facilityTile(f) {
  let detail = [];
  if (f.status === "in_use" || f.status === "assigned") {
    detail = [h("span", { class: "who" }, f.name), h("span", { class: "small" }, f.company),
      h("span", { class: "small" }, T("since") + " " + fmtTime(f.since))];
  } else if (f.status === "reserved") {
    detail = [h("span", { class: "who" }, f.ticket)];
  } else if (f.status === "turnover") {
    detail = [h("span", { class: "small" }, T("until") + " " + fmtTime(f.available_from))];
  }
  return h("div", { class: "tile " + f.status, "data-facility": f.code },
    h("span", { class: "code" }, f.code),
    h("span", { class: "state" }, T(f.status)),
    ...detail,
    serviceAction(f));
}

// Out of service (Nonaktifkan) or back (Aktifkan), after an inline confirmation; the
// confirmation opens on "Batal", so a second Enter or click does not confirm by accident.
function serviceAction(f) {
  if (!CAN_QUEUE) return null;
  if (editing.move && editing.move.code === f.code) return moveAction(f, editing.move);
  const out = f.status === "out_of_service";
  const verb = out ? T("activate") : T("deactivate");
  if (editing.service !== f.code) {
    return h("button", { type: "button", class: "tile-btn", "aria-label": verb + " " + f.code,
      onclick: () => { editing.service = f.code; redraw(`[data-facility="${f.code}"] .confirm .no`); } },
    verb);
  }
  const question = T(out ? "activate_q" : "deactivate_q");
  const [before, after] = question.split("{code}");
  const cancel = () => { editing.service = null; redraw(`[data-facility="${f.code}"] .tile-btn`); };
  return h("div", { class: "confirm", role: "group", "aria-label": question.replace("{code}", f.code),
    onkeydown: (ev) => { if (ev.key === "Escape") cancel(); } },
  h("span", {}, before, h("span", { class: "nowrap" }, f.code), after),
  h("span", { class: "confirm-btns" },
    h("button", { type: "button", class: "tile-btn yes", onclick: async (ev) => {
      const offer = await serviceChange(ev.target, f.code, { out_of_service: !out });
      editing.service = null;
      editing.move = offer;
      redraw(offer ? `[data-facility="${f.code}"] .confirm .no` : `[data-facility="${f.code}"] .tile-btn`);
    } }, T("yes")),
    h("button", { type: "button", class: "tile-btn no", onclick: cancel }, T("cancel"))));
}

// Taking out a facility in use: the server refuses with its occupant and the free ones
// of the same kind; the clerk confirms the move (one step on the server) or cancels.
async function serviceChange(button, code, body) {
  button.disabled = true;
  try {
    await api("POST", `/api/v1/facilities/${encodeURIComponent(code)}/service`, body);
    return null;
  } catch (err) {
    const offer = err.body || {};
    if (err.status === 409 && offer.error === "facility_occupied" && (offer.alternatives || []).length) {
      return { code, to: offer.alternatives[0], name: offer.occupant.name };
    }
    notify(err.message);
    return null;
  } finally {
    button.disabled = false;
  }
}

function moveAction(f, move) {
  const question = T("move_q").replace("{name}", move.name).replace("{to}", move.to).replace("{code}", f.code);
  const cancel = () => { editing.move = null; redraw(`[data-facility="${f.code}"] .tile-btn`); };
  return h("div", { class: "confirm", role: "group", "aria-label": question,
    onkeydown: (ev) => { if (ev.key === "Escape") cancel(); } },
  h("span", {}, question),
  h("span", { class: "confirm-btns" },
    h("button", { type: "button", class: "tile-btn yes", onclick: async (ev) => {
      const again = await serviceChange(ev.target, f.code, { out_of_service: true, move_to: move.to });
      editing.move = again;
      redraw(again ? `[data-facility="${f.code}"] .confirm .no` : `[data-facility="${f.code}"] .tile-btn`);
    } }, T("move") + " → " + move.to),
    h("button", { type: "button", class: "tile-btn no", onclick: cancel }, T("cancel"))));
}

async function act(button, method, path, body) {
  button.disabled = true;
  try {
    await api(method, path, body);
  } catch (err) {
    notify(err.message);
  } finally {
    button.disabled = false;
  }
}

function queueBlock(kind) {
  const called = kind.called.map((t) => h("li", { class: "called" },
    h("strong", { class: "number" }, t.number), " → ", t.facility || "–",
    " ", h("span", { class: "small" }, fmtTime(t.called_at)),
    CAN_QUEUE ? h("button", { type: "button", class: "small-btn",
      onclick: (ev) => act(ev.target, "POST", `/api/v1/queue/tickets/${t.id}/skip`) }, T("skip")) : null));
  const waiting = kind.waiting.map(waitingRow);
  if (!called.length && !waiting.length) return null;
  return h("div", { class: "queue-kind" },
    h("h3", {}, kind.label),
    called.length ? h("ul", { class: "plain" }, called) : null,
    waiting.length ? h("p", { class: "small" }, T("waiting") + ": " + kind.waiting.length) : null,
    waiting.length ? h("ul", { class: "plain" }, waiting) : null,
    CAN_QUEUE && waiting.length ? h("button", { type: "button",
      onclick: (ev) => act(ev.target, "POST", `/api/v1/queue/${kind.kind}/call-next`) }, T("call_next")) : null);
}

function waitingRow(t) {
  const asking = CAN_QUEUE && editing.priority === t.id;
  return h("li", { class: t.priority ? "waiting priority" : "waiting", "data-number": t.number },
    h("strong", { class: "number" }, t.number), " ", t.name,
    t.priority ? h("span", { class: "badge" }, T("priority")) : null,
    " ", h("span", { class: "small" }, fmtTime(t.issued_at)),
    CAN_QUEUE && !t.priority && !asking ? h("button", { type: "button", class: "small-btn",
      onclick: () => { editing.priority = t.id; editing.reasonInvalid = false; redraw(`#prio-${t.id}`); } },
    T("prioritise")) : null,
    t.priority && t.priority_reason ? h("p", { class: "small reason" },
      T("priority_reason") + ": " + t.priority_reason) : null,
    asking ? priorityForm(t) : null);
}

// The reason goes to the server as typed: the server decides, a refusal is said in the notice.
function priorityForm(t) {
  const inputId = `prio-${t.id}`;
  const input = h("input", { id: inputId, name: "reason", "data-key": inputId, autocomplete: "off",
    maxlength: 500, "aria-invalid": editing.reasonInvalid ? "true" : null });
  const cancel = () => { editing.priority = null; redraw(); };
  return h("form", { class: "inline prio-form",
    onkeydown: (ev) => { if (ev.key === "Escape") cancel(); },
    onsubmit: async (ev) => {
      ev.preventDefault();
      const button = ev.target.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("POST", `/api/v1/queue/tickets/${t.id}/priority`, { reason: input.value.trim() });
        input.value = "";
        editing.priority = null;
        redraw();
      } catch (err) {
        notify(err.message);
        editing.reasonInvalid = err.field === "reason";
        redraw(`#${inputId}`);
      } finally {
        button.disabled = false;
      }
    } },
  h("label", { for: inputId }, T("priority_reason")), input,
  h("button", { type: "submit" }, T("save")),
  h("button", { type: "button", onclick: cancel }, T("cancel")));
}

function breachRow(b, day) {
  const key = b.step + ":" + b.subject;
  const row = h("li", { class: "breach" + (b.justification ? " justified" : "") },
    h("strong", {}, (PAGE.steps[b.step] || b.step)), " — ", b.label, " ",
    h("span", { class: "small" }, fmtAge(b.duration_s) + " / " + fmtAge(b.standard_s)));
  if (b.justification) {
    row.append(h("p", { class: "small" }, T("justification") + ": " + b.justification));
  } else if (!b.ongoing && CAN_QUEUE) {
    const inputId = "just-" + key.replace(/[^a-z0-9]/gi, "-");
    const input = h("input", { id: inputId, "data-key": key, name: "text", required: true });
    row.append(h("form", { class: "inline", onsubmit: async (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      try {
        await api("POST", "/api/v1/breaches/justify", { day, step: b.step, subject: b.subject, text });
        input.value = "";
      } catch (err) { notify(err.message); }
    } }, h("label", { for: inputId }, T("justification")), input,
    h("button", { type: "submit" }, T("justify"))));
  }
  return row;
}

function renderOccupancy(s) {
  const occ = s.occupancy;
  document.getElementById("occ-inside").textContent = occ.inside;
  document.getElementById("occ-capacity").textContent = occ.capacity;
  const bar = document.getElementById("occ-bar");
  bar.style.width = Math.min(100, (100 * occ.inside) / Math.max(1, occ.capacity)) + "%";
  bar.classList.toggle("full", occ.inside >= occ.capacity);
  document.getElementById("counts").textContent =
    `${T("visits_today")}: ${s.counts.visits_today} · ${T("badges_in_use")}: ${s.counts.badges_out} / ${s.counts.badges_out + s.counts.badges_available}`;
}

function renderFacilities(s) {
  const kinds = (PAGE.kinds || []).map((k) => k.kind);
  section("facilities", kinds.map((kind) => {
    const tiles = s.facilities.filter((f) => f.kind === kind);
    if (!tiles.length) return null;
    const compact = tiles.every((f) => !f.reader);
    return h("div", { class: "kind-group" }, h("h3", {}, KIND_LABEL[kind] || kind),
      h("div", { class: "tiles" + (compact ? " compact" : "") }, tiles.map(facilityTile)));
  }).filter(Boolean));
}

function renderLists(s) {
  const queues = s.queue.kinds.map(queueBlock).filter(Boolean);
  section("queue", queues.length ? queues : empty());
  section("deposits", s.deposits.length ? h("ul", { class: "plain" }, s.deposits.map((d) =>
    h("li", { class: d.visit_closed ? "waiting-doc" : "" },
      h("strong", { class: "slot" }, d.slot), " ", d.name, " ",
      h("span", { class: "small" }, (PAGE.documents[d.doc_type] || d.doc_type) + " " + d.doc_masked + " · " + fmtTime(d.taken_at)),
      d.visit_closed ? h("span", { class: "badge" }, T("waiting_doc")) : null))) : empty());
  section("help", s.help.length ? h("ul", { class: "plain" }, s.help.map((x) =>
    h("li", { class: "help-item " + x.state },
      h("strong", {}, "#" + x.id + " " + (PAGE.categories[x.category] || x.category)), " ",
      x.facility || "", " ", x.name || "", " ",
      h("span", { class: "small" }, T("age") + " " + fmtAge(x.age_s)),
      x.claimed_by ? h("span", { class: "small" }, " · " + T("claimed_by") + " " + x.claimed_by) : null,
      h("div", { class: "small" }, x.problem)))) : empty());
}

function renderAlerts(s) {
  section("anomalies", s.anomalies.length ? h("ul", { class: "plain" }, s.anomalies.map((a) =>
    h("li", { class: "anomaly " + a.kind },
      h("strong", {}, PAGE.anomalies[a.kind] || a.kind), " — ", a.name || "", " ",
      h("span", { class: "small" }, fmtTime(a.at) + (a.detail ? " · " + a.detail : ""))))) : empty());
  section("breaches", s.breaches.length ? h("ul", { class: "plain" }, s.breaches.map((b) => breachRow(b, s.day))) : empty());
}

function renderReaders(s) {
  const down = s.readers.filter((r) => !r.online);
  document.getElementById("readers-summary").textContent =
    `${T("online")}: ${s.readers.length - down.length} / ${s.readers.length}`;
  // The device's own error (English, technical) is a tooltip for the technician; the
  // clerk reads "Mati sejak 10.05 WIB".
  const offline = (r) => T("offline") + (r.since ? " " + T("since") + " " + fmtTime(r.since) : "");
  section("readers-down", down.map((r) => h("li", { class: "offline", title: r.last_error || null },
    h("span", { class: "dot", "aria-hidden": "true" }), r.name, " ",
    h("span", { class: "small" }, offline(r)))));
  section("readers", s.readers.map((r) => h("li", { class: r.online ? "online" : "offline",
    title: r.online ? null : r.last_error || null },
  h("span", { class: "dot", "aria-hidden": "true" }), r.name, " ",
  h("span", { class: "small" }, r.online ? T("online") : offline(r)))));
}

const DATE_FMT = new Intl.DateTimeFormat(PAGE.lang === "en" ? "en-GB" : "id-ID", {
  timeZone: "Asia/Jakarta", day: "numeric", month: "long", year: "numeric",
});
let shownNotices = null;

// Notices an admin must acknowledge (a corrupt database moved aside): a red banner above
// the board until then. Redrawn only when the set changes, so a screen reader says it once.
function renderNotices(s) {
  const notices = s.notices || [];
  const db = s.database || { available: true };
  const key = notices.map((n) => n.id).join(",") + "|" + (db.available ? "" : db.unavailable_since + "/" + db.exits_spooled);
  if (key === shownNotices) return;
  shownNotices = key;
  // The database away: what the doors do now, until a probe finds it back (within 1 s).
  const away = db.available ? [] : [h("section", { class: "sys-notice", role: "alert", "data-notice": "database" },
    h("strong", {}, T("db_away_title")), " ",
    h("span", {}, T("db_away_text").replace("{at}", fmtTime(db.unavailable_since)).replace("{n}", String(db.exits_spooled))))];
  section("system-notices", away.concat(notices.map((n) => {
    const text = T("moved_aside_text").replace("{path}", n.path || "").replace("{aside}", n.aside || "")
      .replace("{at}", DATE_FMT.format(new Date(n.at)) + ", " + fmtTime(n.at));
    return h("section", { class: "sys-notice", role: "alert", "data-notice": n.id, "data-kind": n.kind },
      h("strong", {}, T("moved_aside_title")), " ", h("span", {}, text), " ",
      PAGE.role === "admin"
        ? h("button", { type: "button", class: "ack",
          onclick: (ev) => act(ev.target, "POST", `/api/v1/notices/${n.id}/ack`) }, T("acknowledge"))
        : h("span", { class: "who-acks" }, T("admin_acknowledges")));
  })));
}

function render(s) {
  lastStatus = s;
  renderNotices(s);
  Alarms.show(s.alarms || [], document.getElementById("alarm-strip"));
  renderOccupancy(s);
  renderFacilities(s);
  renderLists(s);
  renderAlerts(s);
  renderReaders(s);
}

function setupDemo() {
  const form = document.getElementById("demo-tap");
  if (!form) return;
  const reader = document.getElementById("demo-reader");
  for (const r of PAGE.readers) {
    reader.append(h("option", { value: r.name }, r.name + " (" + r.role + (r.facility ? " " + r.facility : "") + ")"));
  }
  const list = document.getElementById("demo-badges");
  const byLabel = {};
  for (const b of PAGE.demo_badges || []) {
    byLabel[b.label] = b.uid;
    list.append(h("option", { value: b.label }, b.uid));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("demo-result");
    const typed = form.uid.value.trim();
    out.dataset.count = String(Number(out.dataset.count || 0) + 1);
    try {
      const d = await api("POST", "/api/v1/taps", {
        reader: reader.value, uid: byLabel[typed] || typed, event_id: eventId(),
      });
      const text = (d.granted ? T("granted") : T("denied")) + ": " + (PAGE.reasons[d.reason] || d.reason) +
        (d.badge ? " · " + d.badge : "") + (d.slot ? " · " + T("slot") + " " + d.slot : "");
      flash(out, text, d.granted);
      out.dataset.done = out.dataset.count;
    } catch (err) {
      flash(out, err.message, false);
      out.dataset.done = out.dataset.count;
    }
  });
}

// Demo: a simulated door reports a door event (an alarm for most of them).
function setupDemoDoor() {
  const form = document.getElementById("demo-door");
  if (!form) return;
  for (const r of PAGE.readers.filter((x) => x.role.startsWith("door"))) {
    form.reader.append(h("option", { value: r.name }, r.name));
  }
  for (const kind of ["forced_open", "held_open", "tamper", "power_fail", "closed"]) {
    form.event.append(h("option", { value: kind }, T("door_ev_" + kind)));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await api("POST", `/api/v1/readers/${encodeURIComponent(form.reader.value)}/simulate-door`,
        { event: form.event.value });
    } catch (err) {
      notify(err.message);
    } finally {
      button.disabled = false;
    }
  });
}

setupDemoDoor();
setupHelpForm(document.querySelector(".help-form"), PAGE.facilities || [], "status_page");
setupDemo();
live("/api/v1/events", "status", render);
