// The front desk on the return, arrival and visit pages: which front-desk reader this
// screen uses, the visit served there, and the question when the badge of another
// visit is tapped meanwhile ("return this visit, or ignore the tap"). The server keeps
// the question (it survives a reload or a restart); this only shows and answers it.
"use strict";

const DESK_KEY = "bidroom-desk-reader";

function deskReaders() {
  return (PAGE.readers || []).filter((r) => r.role === "front_desk").map((r) => r.name);
}

// Fill a <select> with the front-desk readers; the choice is remembered per browser.
function deskSelect(select) {
  const names = deskReaders();
  select.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
  const kept = localStorage.getItem(DESK_KEY);
  if (kept && names.includes(kept)) select.value = kept;
  select.addEventListener("change", () => localStorage.setItem(DESK_KEY, select.value));
  return select;
}

// Render the desk's state from a status snapshot into `box`:
// who is served here, and the pending question with its two answers.
// `onAnswered(answer, visit)` gets the visit the answer concerned (closed on return).
function deskShow(box, status, reader, onAnswered) {
  const served = (status.armed || []).find((a) => a.reader === reader) || null;
  const asked = served && served.asked;
  const key = asked ? asked.visit_id + "@" + asked.at : "";
  if (box.dataset.key === key) return served;
  box.dataset.key = key;
  if (!asked) {
    box.hidden = true;
    box.replaceChildren();
    return served;
  }
  const answer = async (kind, button) => {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      const body = { visit_id: asked.visit_id, answer: kind };
      const done = await api("POST", `/api/v1/desk/${encodeURIComponent(reader)}/answer`, body);
      box.dataset.key = "";
      box.hidden = true;
      box.replaceChildren();
      onAnswered(kind, done.visit);
    } catch (err) {
      flash(box.querySelector(".notice"), err.message, false);
      button.disabled = false;
    }
  };
  const returnBtn = h("button", { type: "button", class: "primary", id: "desk-return" },
    T("desk_return"));
  const ignoreBtn = h("button", { type: "button", id: "desk-ignore" }, T("desk_ignore"));
  returnBtn.addEventListener("click", () => answer("return", returnBtn));
  ignoreBtn.addEventListener("click", () => answer("ignore", ignoreBtn));
  box.replaceChildren(
    h("h2", {}, T("desk_asked")),
    h("p", { class: "asked-who" }, h("strong", {}, asked.name), " · " + asked.company),
    h("p", {}, T("slot") + " ", h("strong", { class: "slot" }, asked.slot || "–"),
      asked.badge ? " · " + T("badge_bound") + " " + asked.badge : "",
      " · " + fmtTime(asked.at)),
    h("p", { class: "small" }, T("desk_serving") + ": " + (asked.served_name || "–")),
    h("div", { class: "actions" }, returnBtn, ignoreBtn),
    h("p", { class: "notice", role: "status" }),
  );
  box.hidden = false;
  return served;
}
