// The "raise a help request" form, on the status board and on the help-desk page.
"use strict";

function setupHelpForm(form, facilityCodes, source) {
  const category = form.querySelector('[name="category"]');
  api("GET", "/api/v1/help/categories").then((items) => {
    for (const c of items) {
      category.append(h("option", { value: c.value }, PAGE.lang === "en" ? c.label_en : c.label));
    }
  }).catch((err) => notify(err.message));
  const facility = form.querySelector('[name="facility"]');
  for (const code of facilityCodes) facility.append(h("option", { value: code }, code));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const notice = form.querySelector(".notice");
    try {
      const item = await api("POST", "/api/v1/help", {
        category: category.value,
        facility: facility.value || null,
        problem: form.querySelector('[name="problem"]').value.trim(),
        source,
      });
      form.querySelector('[name="problem"]').value = "";
      flash(notice, "#" + item.id + " " + T("open"), true);
    } catch (err) {
      showError(form, err);
    }
  });
}
