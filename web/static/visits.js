// Visit search across days: the terms go in the body of a POST (never in the address),
// the last search is kept in this tab's session storage so the back button from a
// visit's page shows the same results again.
"use strict";

const form = document.getElementById("search-form");
const KEPT = "bidroom-visit-search";
let page = 1;

function terms() {
  const body = {};
  for (const input of form.querySelectorAll("input[name]")) {
    const value = input.value.trim();
    if (value) body[input.name] = value;
  }
  return body;
}

function cell(text) { return h("td", {}, text || "–"); }

async function run(body, wanted) {
  clearErrors(form);
  let found;
  try {
    found = await api("POST", "/api/v1/visits/search", { ...body, page: wanted });
  } catch (err) {
    showError(form, err);
    return;
  }
  page = found.page;
  sessionStorage.setItem(KEPT, JSON.stringify({ body, page }));
  const rows = found.visits.map((v) => h("tr", {},
    cell(v.day.split("-").reverse().join("-")),
    h("td", {}, h("a", { href: "/visits/" + v.id }, v.name)),
    cell(v.company),
    cell(v.doc_masked ? (PAGE.documents[v.doc_type] || v.doc_type) + " " + v.doc_masked : ""),
    cell(v.slot), cell(v.badge), cell(v.tender_code),
    cell(T("state_" + v.state))));
  document.getElementById("results").replaceChildren(...(rows.length ? rows
    : [h("tr", {}, h("td", { colspan: 8, class: "empty" }, T("no_results")))]));
  const first = (found.page - 1) * found.page_size;
  document.getElementById("r-count").textContent = rows.length
    ? "(" + (first + 1) + "–" + (first + rows.length) + ")" : "";
  document.getElementById("prev").hidden = found.page <= 1;
  document.getElementById("next").hidden = !found.more;
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(terms(), 1);
});
form.addEventListener("reset", () => {
  sessionStorage.removeItem(KEPT);
  setTimeout(() => run({}, 1), 0);
});
document.getElementById("prev").addEventListener("click", () => run(terms(), page - 1));
document.getElementById("next").addEventListener("click", () => run(terms(), page + 1));

// Back from a visit's page (or a reload): the same search, the same page.
const kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
if (kept) {
  for (const [name, value] of Object.entries(kept.body)) {
    const input = form.querySelector(`input[name="${name}"]`);
    if (input) input.value = value;
  }
  run(kept.body, kept.page);
} else {
  run({}, 1);
}
