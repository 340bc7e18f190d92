// Open alarms (forced door, held open, tamper, power, reader offline): a red strip
// until a staff member acknowledges each one with a note, and a chime (Web Audio)
// when a new one comes in, repeated while any is open. Shared by the board and the
// events page.
//
// Browsers let a page make sound only after someone clicked or typed on it (autoplay
// rules): the first click or key on the page unlocks the sound; until then the strip
// offers a button to turn it on. A kiosk started with
// --autoplay-policy=no-user-gesture-required sounds at once (see the README).
"use strict";

const Alarms = (() => {
  const REPEAT_MS = 15000;
  let audio = null;
  let seen = null; // alarm ids already announced (null before the first status)
  let open = [];
  let repeat = null;
  let shownKey = null;
  let strip = null;

  function context() {
    const Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) return null;
    if (!audio) {
      audio = new Ctor();
      audio.addEventListener("statechange", () => { drawSound(); if (audio.state === "running" && open.length) chime(); });
    }
    return audio;
  }

  function unlockSound() {
    const ctx = context();
    if (ctx && ctx.state !== "running") ctx.resume().catch(() => {});
  }
  document.addEventListener("pointerdown", unlockSound, { capture: true });
  document.addEventListener("keydown", unlockSound, { capture: true });

  // Two falling tones, twice: heard across a front office, not alarming to visitors.
  function chime() {
    const ctx = context();
    if (!ctx || ctx.state !== "running") { drawSound(); return; }
    const start = ctx.currentTime + 0.02;
    [[880, 0], [660, 0.3], [880, 0.7], [660, 1.0]].forEach(([freq, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.4, start + at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.28);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + at);
      osc.stop(start + at + 0.3);
    });
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  }

  function drawSound() {
    if (!strip) return;
    const button = strip.querySelector(".sound-on");
    const blocked = open.length > 0 && (!audio || audio.state !== "running");
    if (button) button.hidden = !blocked;
  }

  function label(a) {
    return T("door_ev_" + a.kind);
  }

  function row(a) {
    const inputId = "alarm-note-" + a.id;
    const input = h("input", { id: inputId, name: "note", "data-key": inputId, autocomplete: "off",
      maxlength: 500 });
    const when = fmtTime(a.at) + (a.repeats ? " · " + (a.repeats + 1) + "× · " + T("last") + " " + fmtTime(a.last_at) : "");
    return h("div", { class: "alarm kind-" + a.kind, "data-alarm": a.id },
      h("strong", {}, label(a)), " ", h("span", { class: "reader" }, a.reader), " ",
      h("span", { class: "when" }, when),
      h("form", { class: "inline", onsubmit: async (ev) => {
        ev.preventDefault();
        const button = ev.target.querySelector("button[type=submit]");
        if (button.disabled) return;
        button.disabled = true;
        input.removeAttribute("aria-invalid");
        try {
          await api("POST", `/api/v1/alarms/${a.id}/ack`, { note: input.value.trim() });
          input.value = "";
        } catch (err) {
          input.setAttribute("aria-invalid", "true");
          notify(err.message);
          input.focus();
        } finally {
          button.disabled = false;
        }
      } },
      h("label", { for: inputId }, T("alarm_note")), input,
      h("button", { type: "submit" }, T("alarm_ack"))));
  }

  // Redrawn only when the set of alarms changes, so typing a note is never interrupted.
  function show(alarms, el) {
    strip = el;
    open = alarms;
    const key = alarms.map((a) => a.id + ":" + a.repeats).join(",");
    const fresh = seen !== null && alarms.some((a) => !seen.has(a.id + ":" + a.repeats));
    const first = seen === null;
    seen = new Set(alarms.map((a) => a.id + ":" + a.repeats));
    if (key !== shownKey) {
      shownKey = key;
      const sound = h("button", { type: "button", class: "sound-on", hidden: true,
        onclick: () => { unlockSound(); } }, T("sound_on"));
      replaceKeeping(el, alarms.length ? [
        h("h2", {}, T("alarms_title") + " (" + alarms.length + ")"), sound,
        h("div", { class: "alarm-list" }, alarms.map(row))] : []);
      el.hidden = alarms.length === 0;
    }
    if (fresh || (first && alarms.length)) chime();
    if (alarms.length && repeat === null) repeat = setInterval(chime, REPEAT_MS);
    if (!alarms.length && repeat !== null) { clearInterval(repeat); repeat = null; }
    drawSound();
  }

  return { show, chime };
})();
