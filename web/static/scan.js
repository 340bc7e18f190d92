// Reading the identity card into the access form: scanner (SANE), the desk camera
// (getUserMedia) or a file. The server reads the picture and forgets it; this page only
// fills the fields, marks them "from the scan — check", highlights the unsure ones and
// saves nothing: the clerk checks against the card and saves the form as always.
"use strict";

(() => {
  const box = document.getElementById("scan-box");
  if (!box) return;
  const form = document.getElementById("arrival");
  const why = document.getElementById("scan-why");
  const status = document.getElementById("scan-status");
  const scanner = document.getElementById("scanner");
  const scanBtn = document.getElementById("scan-btn");
  const cameraBtn = document.getElementById("camera-btn");
  const uploadBtn = document.getElementById("upload-btn");
  const upload = document.getElementById("upload");
  const cameraBox = document.getElementById("camera-box");
  const video = document.getElementById("camera");
  const snap = document.getElementById("snap");
  const result = document.getElementById("scan-result");
  const en = PAGE.lang === "en";
  let stream = null;
  let busy = false;
  const CARD_ORDER = ["province", "regency", "birth_place", "birth_date", "sex", "blood_type", "address",
    "rt_rw", "kelurahan", "kecamatan", "religion", "marital_status", "occupation", "nationality",
    "valid_until", "issuing_state", "expiry"];

  const say = (text, bad) => {
    status.textContent = text;
    status.className = bad ? "field-error" : "instruction";
  };

  async function setup() {
    let info;
    try { info = await api("GET", "/api/v1/scanners"); } catch (err) {
      why.append(h("li", {}, err.message));
      return;
    }
    if (!info.ocr.available) {
      why.append(h("li", {}, info.ocr.reason));  // the three buttons stay off; type as before
      return;
    }
    uploadBtn.disabled = false;
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) cameraBtn.disabled = false;
    else why.append(h("li", {}, T("camera_none")));
    if (info.sane.available && info.scanners.length) {
      for (const s of info.scanners) {
        scanner.append(h("option", { value: s.name }, `${s.vendor} ${s.model} (${s.name})`));
      }
      scanner.hidden = info.scanners.length < 2;
      scanBtn.disabled = false;
    } else {
      why.append(h("li", {}, T("scanner_off") + ": " + info.sane.reason));
    }
  }

  function setBusy(on) {
    busy = on;
    for (const b of [scanBtn, cameraBtn, uploadBtn]) b.setAttribute("aria-busy", on ? "true" : "false");
  }

  async function read(body, type, query) {
    if (busy) return;
    setBusy(true);
    say(T(query ? "scanning" : "reading"), false);
    const headers = { Accept: "application/json", "X-CSRF-Token": CSRF };
    if (type) headers["Content-Type"] = type;
    try {
      const response = await fetch("/api/v1/identity/scan" + (query || ""), {
        method: "POST", headers, body: body || undefined, credentials: "same-origin",
      });
      let data = {};
      try { data = await response.json(); } catch (_err) { data = {}; }
      if (!response.ok) throw new ApiError(response.status, data);
      show(data);
    } catch (err) {
      say(err instanceof ApiError ? err.message : T("error"), true);
    } finally {
      setBusy(false);
    }
  }

  function unmark(input) {
    input.classList.remove("from-scan", "scan-low");
    const tag = form.querySelector(`[data-scan-for="${input.name}"]`);
    if (tag) tag.remove();
  }

  function fill(input, field) {
    unmark(input);
    input.value = field.value;
    input.classList.add("from-scan");
    if (field.low) input.classList.add("scan-low");
    const note = field.low ? " · " + (en ? field.note_en || T("scan_low") : field.note || T("scan_low")) : "";
    const tag = h("span", { class: "scan-tag" + (field.low ? " low" : ""), dataset: { scanFor: input.name } },
      T("scan_mark") + note);
    input.after(tag);
    // The clerk's own typing takes the mark away (not the events this script sends).
    const typed = (ev) => {
      if (!ev.isTrusted) return;
      unmark(input);
      input.removeEventListener("input", typed);
    };
    input.addEventListener("input", typed);
  }

  function show(data) {
    const fields = data.fields || {};
    form.doc_type.value = data.doc_type;
    form.doc_type.dispatchEvent(new Event("change"));
    const number = data.document === "ktp" ? fields.nik : fields.doc_number;
    if (number) {
      fill(form.doc_number, number);
      form.doc_number.dispatchEvent(new Event("input"));  // the form's own NIK check runs
      form.doc_number.dispatchEvent(new Event("change"));
    }
    if (fields.name) fill(form.name, fields.name);
    const nik = document.getElementById("scan-nik");
    const check = data.nik_check;
    const mrz = data.mrz_check;
    if (check && !check.trusted) {
      nik.className = "field-error";
      nik.textContent = (en ? check.summary_en : check.summary) || T("scan_low");
    } else if (check) {
      nik.className = "field-ok";
      nik.textContent = T("nik_trusted");
    } else if (mrz) {
      nik.className = mrz.valid ? "field-ok" : "field-error";
      nik.textContent = T(mrz.valid ? "mrz_ok" : "mrz_bad");
    }
    document.getElementById("scan-other").textContent = T("scan_other");
    const list = document.getElementById("scan-fields");
    list.replaceChildren();
    const shown = (key, value) => (key.endsWith("date") || key === "expiry") && /^\d{4}-\d\d-\d\d$/.test(value)
      ? value.split("-").reverse().join("-") : value;  // as the card prints it: 17-08-1985
    for (const key of CARD_ORDER.filter((k) => fields[k])) {
      const field = fields[key];
      list.append(h("dt", {}, T("f_" + key)), h("dd", { class: field.low ? "scan-low" : "" }, shown(key, field.value)));
    }
    result.hidden = false;
    say(T("scan_filled") + " (" + data.seconds.toFixed(1).replace(".", en ? "." : ",") + " " + T("seconds") + ")", false);
  }

  function stopCamera() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    cameraBox.hidden = true;
  }

  scanBtn.addEventListener("click", () => read(null, null, "?scanner=" + encodeURIComponent(scanner.value)));
  uploadBtn.addEventListener("click", () => upload.click());
  upload.addEventListener("change", () => {
    const file = upload.files && upload.files[0];
    if (file) read(file, file.type || "image/jpeg");
    upload.value = "";
  });
  cameraBtn.addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1920 }, height: { ideal: 1080 }, facingMode: "environment" }, audio: false,
      });
    } catch (_err) {
      say(T("camera_denied"), true);
      return;
    }
    snap.disabled = true;
    video.srcObject = stream;
    cameraBox.hidden = false;
  });
  video.addEventListener("loadeddata", () => { snap.disabled = false; });
  snap.addEventListener("click", () => {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    stopCamera();
    canvas.toBlob((blob) => read(blob, "image/jpeg"), "image/jpeg", 0.92);
  });
  document.getElementById("camera-off").addEventListener("click", stopCamera);
  window.addEventListener("pagehide", stopCamera);
  setup();
})();
