// Staff and devices (admin only): staff accounts (add, disable / enable, reset the
// password, change the role: each ends the account's sessions) and device tokens
// (made for one or more named readers and shown once, listed, revoked at once).
"use strict";

const notice = document.getElementById("admin-notice");
const STAFF_ROLES = ["front_office", "helpdesk", "head", "admin"];
let editing = null;
let busy = false;

function roleText(role) {
  return PAGE.roles[role] || T("error");
}

// A second, explicit click instead of a blocking dialog; the question stays in the row.
function confirmInline(cell, question, yesText, onYes) {
  const keep = [...cell.childNodes];
  const back = () => cell.replaceChildren(...keep);
  cell.replaceChildren(h("span", { class: "small" }, question), " ",
    h("button", { type: "button", class: "small-btn primary", dataset: { confirm: "yes" },
      onclick: async () => { back(); await onYes(); } }, yesText),
    h("button", { type: "button", class: "small-btn", onclick: back }, T("cancelled_btn")));
}

async function guarded(button, work) {
  if (busy) return;
  busy = true;
  if (button) button.disabled = true;
  try {
    await work();
  } finally {
    busy = false;
    if (button) button.disabled = false;
  }
}

function staffRow(s) {
  const actions = h("td", {});
  const toggle = h("button", { type: "button", class: "small-btn", dataset: { act: s.active ? "disable" : "enable" } },
    s.active ? T("disable") : T("enable"));
  toggle.addEventListener("click", () => {
    const run = () => guarded(null, async () => {
      try {
        const done = await api("POST", `/api/v1/staff/${encodeURIComponent(s.username)}/${s.active ? "disable" : "enable"}`);
        flash(notice, s.username + ": " + (done.active ? T("active") : T("disabled")) +
          (done.sessions_ended ? " · " + done.sessions_ended + " " + T("sessions_ended") : ""), true);
      } catch (err) { flash(notice, err.message, false); }
      await loadStaff();
    });
    if (s.active) confirmInline(actions, T("confirm_disable"), T("disable"), run);
    else run();
  });
  const edit = h("button", { type: "button", class: "small-btn", dataset: { act: "edit" },
    onclick: () => openEdit(s) }, T("edit"));
  actions.append(toggle, edit);
  return h("tr", { class: s.active ? "" : "inactive", dataset: { username: s.username } },
    h("td", {}, s.username), h("td", {}, s.name), h("td", {}, roleText(s.role)),
    h("td", {}, s.active ? T("active") : T("disabled")), actions);
}

async function loadStaff() {
  const staff = await api("GET", "/api/v1/staff");
  document.getElementById("staff-rows").replaceChildren(...staff.map(staffRow));
}

function openEdit(s) {
  editing = s;
  const form = document.getElementById("staff-edit");
  form.reset();
  clearErrors(form);
  form.role.value = s.role;
  document.getElementById("edit-title").textContent = T("edit") + " · " + s.username;
  form.hidden = false;
  form.role.focus();
}

async function saveEdit(ev) {
  ev.preventDefault();
  const form = ev.target;
  if (!editing) return;
  clearErrors(form);
  const who = editing;
  const path = `/api/v1/staff/${encodeURIComponent(who.username)}`;
  const current = form.current_password.value;
  const said = [];
  await guarded(form.querySelector("button[type=submit]"), async () => {
    try {
      if (form.role.value !== who.role) {
        await api("POST", path + "/role", { role: form.role.value, current_password: current });
        said.push(T("role_changed"));
      }
      if (form.new_password.value) {
        await api("POST", path + "/password", { new_password: form.new_password.value, current_password: current });
        said.push(T("password_reset"));
      }
      form.hidden = true;
      editing = null;
      if (said.length) flash(notice, who.username + ": " + said.join(", ") + " · " + T("sessions_ended"), true);
    } catch (err) {
      showError(form, err);
    }
    await loadStaff();
  });
}

async function addStaff(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  await guarded(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", "/api/v1/staff", {
        username: form.username.value.trim(), name: form.name.value.trim(), role: form.role.value,
        password: form.password.value, current_password: form.current_password.value,
      });
      flash(notice, T("staff_added") + ": " + form.username.value.trim(), true);
      form.reset();
      await loadStaff();
    } catch (err) {
      showError(form, err);
    }
  });
}

function tokenRow(t) {
  const actions = h("td", {});
  if (!t.revoked_at) {
    const revoke = h("button", { type: "button", class: "small-btn", dataset: { act: "revoke" } }, T("revoke"));
    revoke.addEventListener("click", () => confirmInline(actions, T("confirm_revoke"), T("revoke"),
      () => guarded(null, async () => {
        try {
          await api("POST", `/api/v1/tokens/${encodeURIComponent(t.name)}/revoke`);
          flash(notice, T("token_revoked") + ": " + t.name, true);
        } catch (err) { flash(notice, err.message, false); }
        await loadTokens();
      })));
    actions.append(revoke);
  }
  const readers = t.readers === null ? T("any_reader") : t.readers.join(", ");
  const state = t.revoked_at ? T("revoked") + " " + fmtTime(t.revoked_at) + (t.revoked_by ? " (" + t.revoked_by + ")" : "") : T("in_force");
  return h("tr", { class: t.revoked_at ? "revoked" : "", dataset: { token: t.name } },
    h("td", {}, t.name, t.role !== "device" ? h("span", { class: "small" }, " · " + roleText(t.role)) : null),
    h("td", {}, readers),
    h("td", {}, fmtTime(t.created_at), h("br"), h("span", { class: "small", dataset: { lastUsed: t.last_used_at || "" } },
      t.last_used_at ? T("last_used") + " " + fmtTime(t.last_used_at) : T("never_used"))),
    h("td", {}, state), actions);
}

async function loadTokens() {
  const tokens = await api("GET", "/api/v1/tokens");
  document.getElementById("token-rows").replaceChildren(...(tokens.length ? tokens.map(tokenRow)
    : [h("tr", {}, h("td", { colspan: 5, class: "empty" }, T("none")))]));
}

async function addToken(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const readers = [...form.querySelectorAll("input[name=readers]:checked")].map((i) => i.value);
  await guarded(form.querySelector("button[type=submit]"), async () => {
    try {
      const made = await api("POST", "/api/v1/tokens", {
        name: form.name.value.trim(), role: "device", readers, current_password: form.current_password.value,
      });
      document.getElementById("token-value").textContent = made.token;
      document.getElementById("token-shown").hidden = false;
      form.reset();
      await loadTokens();
    } catch (err) {
      showError(form, err);
    }
  });
}

async function copyToken() {
  const text = document.getElementById("token-value").textContent;
  try {
    await navigator.clipboard.writeText(text);
    flash(notice, T("copied"), true);
  } catch (_err) {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("token-value"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    flash(notice, T("copy_failed"), false);
  }
}

for (const select of [document.getElementById("edit-role"), document.getElementById("add-role")]) {
  for (const role of STAFF_ROLES) select.append(h("option", { value: role }, roleText(role)));
}
document.getElementById("token-readers").replaceChildren(...(PAGE.readers || []).map((r, n) =>
  h("label", { for: "reader-" + n }, h("input", { type: "checkbox", id: "reader-" + n, name: "readers", value: r.name }),
    r.name + (r.facility ? " (" + r.facility + ")" : ""))));
document.getElementById("staff-edit").addEventListener("submit", saveEdit);
document.getElementById("edit-cancel").addEventListener("click", () => {
  document.getElementById("staff-edit").hidden = true;
  editing = null;
});
document.getElementById("staff-add").addEventListener("submit", addStaff);
document.getElementById("token-add").addEventListener("submit", addToken);
document.getElementById("token-copy").addEventListener("click", copyToken);
document.getElementById("token-hide").addEventListener("click", () => {
  document.getElementById("token-value").textContent = "";
  document.getElementById("token-shown").hidden = true;
});
Promise.all([loadStaff(), loadTokens()]).catch((err) => flash(notice, err.message, false));
