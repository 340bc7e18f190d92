"use strict";
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  try {
    await api("POST", "/api/v1/login", {
      username: form.username.value.trim(),
      password: form.password.value,
    });
    location.href = form.dataset.next || "/";
  } catch (err) {
    showError(form, err);
    form.password.focus();
  }
});
