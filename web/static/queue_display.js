// The waiting-area TV: called numbers big with their facility, a chime on each call.
// No login, no personal data: only /api/v1/queue/public and its event stream.
"use strict";

let audio = null;
let known = null;

function chime() {
  // Counted on the page so a test (or a technician) can see that a call chimed.
  document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  try {
    audio = audio || new AudioContext();
    const start = audio.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.35 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.35 + 0.33);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + i * 0.35);
      osc.stop(start + i * 0.35 + 0.35);
    }
  } catch (_err) { /* no audio device: the flash still shows the call */ }
}

document.getElementById("sound").addEventListener("click", (ev) => {
  audio = audio || new AudioContext();
  audio.resume();
  chime();
  ev.target.hidden = true;
});

function render(q) {
  const called = [];
  for (const kind of q.kinds) {
    for (const t of kind.called) called.push({ ...t, label: kind.label, key: kind.kind + ":" + t.number + ":" + t.called_at });
  }
  called.sort((a, b) => (b.called_at || "").localeCompare(a.called_at || ""));
  const keys = new Set(called.map((t) => t.key));
  const fresh = known === null ? new Set() : new Set([...keys].filter((k) => !known.has(k)));
  known = keys;
  document.getElementById("called").replaceChildren(...(called.length ? called.map((t) =>
    h("div", { class: "tv-ticket" + (fresh.has(t.key) ? " fresh" : ""), "data-number": t.number },
      h("span", { class: "tv-number" }, t.number),
      h("span", { class: "tv-facility" }, "→ " + (t.facility || t.label)),
      h("span", { class: "tv-kind" }, t.label))) : [h("p", { class: "empty" }, T("no_number"))]));
  document.getElementById("waiting").replaceChildren(...q.kinds.filter((k) => k.waiting.length).map((k) =>
    h("p", {}, h("strong", {}, k.label + ": "), k.waiting.join(", "))));
  if (fresh.size) chime();
}

live("/api/v1/queue/events", "queue", render);
