// The waiting-area TV: the latest call in numbers readable from 5 m, the last five calls,
// the room's name and a clock; each new call chimed, then spoken in Indonesian by the
// server's speech engine (/api/v1/queue/calls/{number}/speech, a WAV from espeak-ng).
// No login, no personal data: only /api/v1/queue/public, its event stream and the audio.
"use strict";

let audio = null; // the WebAudio context of the chime
let known = null; // the calls already announced (null until the first data)
const pending = []; // calls waiting for their announcement, oldest first
let speaking = false;
const body = document.body;

function bump(name) {
  // Counted on the page so a test (or a technician) can see what the TV did.
  body.dataset[name] = String(Number(body.dataset[name] || 0) + 1);
}

function soundBlocked() {
  document.getElementById("sound").hidden = false;
}

function chime() {
  bump("chimes");
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") soundBlocked();
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


async function chimeOnly(url) {
  // Why the server gave no speech (no espeak-ng, say), for the technician; the chime stays.
  body.dataset.speech = "off";
  let text = T("speech_off");
  try {
    const answer = await fetch(url, { headers: { Accept: "application/json" } });
    const data = await answer.json();
    if (data && data.message) text = data.message;
  } catch (_err) { /* the note's general text */ }
  const note = document.getElementById("speech-note");
  note.textContent = text;
  note.hidden = false;
}

function speak(call) {
  // Resolves when the sentence ended, failed, or took too long (the next call waits).
  const url = "/api/v1/queue/calls/" + encodeURIComponent(call.number) + "/speech";
  return new Promise((resolve) => {
    const voice = new Audio(url);
    const done = () => { clearTimeout(limit); resolve(); };
    const limit = setTimeout(done, 20000);
    voice.addEventListener("ended", done);
    voice.addEventListener("error", () => { chimeOnly(url); done(); });
    bump("spoken");
    const playing = voice.play();
    if (playing) {
      playing.then(() => {
        body.dataset.speech = "on";
        document.getElementById("speech-note").hidden = true;
      }).catch((err) => {
        if (err && err.name === "NotAllowedError") { soundBlocked(); done(); }
      });
    }
  });
}

async function announce() {
  if (speaking) return;
  speaking = true;
  try {
    while (pending.length) {
      const call = pending.shift();
      chime();
      await sleep(800); // the two tones, then the words
      await speak(call);
      await sleep(400);
    }
  } finally {
    speaking = false;
  }
}

document.getElementById("sound").addEventListener("click", (ev) => {
  audio = audio || new AudioContext();
  audio.resume();
  chime();
  ev.target.hidden = true;
});

const keyOf = (c) => c.number + "@" + c.called_at;

// A long number (a four-letter prefix on a narrow screen) is made smaller to stay on one
// line inside its box, never below a tenth of the screen's height.
function fit(el) {
  if (!el) return;
  el.style.fontSize = "";
  const box = getComputedStyle(el.parentElement);
  const room = el.parentElement.clientWidth - parseFloat(box.paddingLeft) - parseFloat(box.paddingRight);
  let size = parseFloat(getComputedStyle(el).fontSize);
  const least = window.innerHeight * 0.14; // digits are about 0.73 of the type size
  while (el.getBoundingClientRect().width > room && size > least) {
    size = Math.max(least, size * 0.94);
    el.style.fontSize = size + "px";
  }
}
window.addEventListener("resize", () => fit(document.querySelector("#called .tv-number")));

function render(q) {
  const calls = q.calls || [];
  const fresh = known === null ? [] : calls.filter((c) => !known.has(keyOf(c)));
  known = new Set([...(known || []), ...calls.map(keyOf)]);
  const latest = calls[0];
  document.getElementById("called").replaceChildren(latest
    ? h("div", { class: "tv-ticket" + (fresh.includes(latest) ? " fresh" : ""), "data-number": latest.number },
        h("span", { class: "tv-number" }, latest.number),
        h("span", { class: "tv-facility" }, "→ " + (latest.facility || latest.label)),
        h("span", { class: "tv-kind" }, latest.label))
    : h("p", { class: "empty" }, T("no_number")));
  fit(document.querySelector("#called .tv-number"));
  document.getElementById("last").replaceChildren(...calls.map((c) =>
    h("li", { class: "tv-last-item" + (c === latest ? " latest" : ""), "data-number": c.number },
      h("span", { class: "tv-last-number" }, c.number),
      h("span", { class: "tv-last-facility" }, "→ " + (c.facility || c.label)),
      h("span", { class: "tv-last-time" }, fmtTime(c.called_at)))));
  document.getElementById("waiting").replaceChildren(...q.kinds.filter((k) => k.waiting.length).map((k) =>
    h("p", {}, h("strong", {}, k.label + ": "), k.waiting.join(", "))));
  pending.push(...fresh.reverse()); // oldest first
  announce();
}

// The clock: the server's time (the TV's own may be wrong), in the site's time zone.
const clock = document.getElementById("clock");
const offset = Date.parse(clock.dataset.now) - Date.now();
const CLOCK_FMT = new Intl.DateTimeFormat(PAGE.lang === "en" ? "en-GB" : "id-ID", {
  timeZone: clock.dataset.tz, hour: "2-digit", minute: "2-digit", hour12: false, timeZoneName: "short",
});
function tick() {
  const now = new Date(Date.now() + offset);
  clock.textContent = CLOCK_FMT.format(now).replace(":", ".");
  clock.dateTime = now.toISOString();
}
tick();
setInterval(tick, 1000);

try {
  audio = new AudioContext();
  if (audio.state === "suspended") soundBlocked();
} catch (_err) { /* no audio device */ }

live("/api/v1/queue/events", "queue", render);
