// Emotion Studio's page script (loaded in the page's <head> by emostudio.render.page).
// 1. The language: ?lang= in the URL, else the last choice (localStorage), else the browser's language. The
//    中文/English radio follows it, and Gradio's own texts follow the radio (Gradio's changeLocale).
// 2. The Live tab: the microphone goes to the server's own WebSocket /v1/stream, every sample of it (an
//    AudioWorklet taps the raw PCM; nothing is dropped while the model is busy). The page keeps the stream's state
//    and hands a snapshot of it to a hidden textbox; the server renders the card and timeline from it. Late card
//    updates may be coalesced (counted and said on the card); audio never is.
(() => {
  const CHOICES = __LANG_CHOICES__; // label shown by the radio → code
  const LABELS = __GRADIO_LABELS__; // Gradio's English-only aria-labels → {zh, en}
  const STATUS = __GRADIO_STATUS__; // the first word of Gradio's status line over a busy component → {zh, en}
  const KEY = "emostudio.lang";
  const codes = Object.values(CHOICES);
  const labelOf = (code) => Object.keys(CHOICES).find((k) => CHOICES[k] === code);
  const gradioLocale = (code) => (code === "zh" ? "zh-CN" : "en");

  function wantedLang() {
    const fromUrl = new URLSearchParams(location.search).get("lang");
    if (codes.includes(fromUrl)) return fromUrl;
    let stored = null;
    try {
      stored = localStorage.getItem(KEY);
    } catch (e) {
      stored = null; // storage off (private mode): the URL and the browser decide
    }
    if (codes.includes(stored)) return stored;
    return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  async function gradioCore() {
    const url = performance
      .getEntriesByType("resource")
      .map((e) => e.name)
      .find((n) => /\/assets\/core-[^/]*\.js(\?|$)/.test(n));
    return url ? import(url) : null;
  }

  function relabelGradio() {
    const code = document.documentElement.getAttribute("data-es-lang") || "en";
    for (const el of document.querySelectorAll("[aria-label]")) {
      const original = el.dataset.esAria || el.getAttribute("aria-label");
      if (!LABELS[original]) continue;
      el.dataset.esAria = original;
      if (el.getAttribute("aria-label") !== LABELS[original][code]) el.setAttribute("aria-label", LABELS[original][code]);
    }
  }

  // Gradio writes "processing |" and "queue: 2/3 |" as text nodes of .progress-text, in English whatever the
  // locale; each such node is rewritten in the page's language (and again whenever Gradio rewrites it).
  function relabelStatus() {
    const code = document.documentElement.getAttribute("data-es-lang") || "en";
    for (const box of document.querySelectorAll(".progress-text")) {
      for (const node of box.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE) continue;
        const text = node.nodeValue;
        const english = node.esEnglish && text === node.esShown ? node.esEnglish : text;
        const word = english.trim().split(" ")[0];
        if (!STATUS[word]) continue;
        const shown = english.replace(word, STATUS[word][code]);
        node.esEnglish = english;
        node.esShown = shown;
        if (text !== shown) node.nodeValue = shown;
      }
    }
  }

  async function applyLocale(code) {
    const core = await gradioCore();
    if (core && core.changeLocale) core.changeLocale(gradioLocale(code));
    document.documentElement.setAttribute("data-es-lang", code);
    relabelGradio();
    relabelStatus();
  }

  function remember(code) {
    try {
      localStorage.setItem(KEY, code);
    } catch (e) {
      // storage off: the URL still remembers
    }
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    history.replaceState(null, "", url);
  }

  function radio(code) {
    return document.querySelector(`#lang input[type=radio][value="${labelOf(code)}"]`);
  }

  function onSwitch(ev) {
    const input = ev.target;
    if (!input.matches || !input.matches("#lang input[type=radio]")) return;
    const code = CHOICES[input.value];
    if (!code) return;
    document.body.classList.add("es-switching"); // feedback at once; cleared when the texts are relabelled
    remember(code);
    applyLocale(code);
  }

  function boot() {
    const code = wantedLang();
    const input = radio(code);
    if (!input) return setTimeout(boot, 100);
    document.addEventListener("change", onSwitch, true);
    let queued = false;
    let added = false;
    new MutationObserver((changes) => {
      relabelStatus(); // before the frame is painted: the English word is never seen
      added = added || changes.some((c) => c.type === "childList");
      if (queued || !added) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        added = false;
        relabelGradio();
      });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    if (!input.checked) input.click();
    remember(code);
    applyLocale(code);
  }

  window.esLang = { wanted: wantedLang, done: () => document.body.classList.remove("es-switching") };

  // ---- the Live tab ------------------------------------------------------------------------------------------
  const TAP = `class Tap extends AudioWorkletProcessor {
    process(inputs) { const i = inputs[0]; if (i && i.length) this.port.postMessage(i.map((c) => c.slice(0))); return true; }
  }
  registerProcessor("es-tap", Tap);`;
  const live = { ws: null, ctx: null, media: null, view: null, sent: 0, rate: 0, channels: 1 };
  let pushId = 0, pushing = false, dirty = false, pushedUpdates = 0;

  function freshView() {
    return {
      push: 0, state: "starting", rows: {}, seconds: 0, updates: 0, skipped: 0, ui_skipped: 0,
      notices: [], result: null, error: null, error_code: null, close_code: null, reason: null, sent_s: 0,
    };
  }

  function hand(view) {
    const box = document.querySelector("#live-events textarea, #live-events input");
    if (!box) return;
    view.push = ++pushId;
    view.sent_s = live.rate ? live.sent / live.rate : 0;
    box.value = JSON.stringify(view);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function rendered(id) {
    const s = document.querySelector("#live-status");
    return s && Number(s.dataset.push || 0) >= id;
  }

  function report() {
    const view = live.view;
    if (!view) return;
    if (pushing) {
      dirty = true;
      return;
    }
    const fresh = view.updates - pushedUpdates;
    if (fresh > 1) view.ui_skipped += fresh - 1; // updates never drawn on their own: said on the card
    pushedUpdates = view.updates;
    pushing = true;
    dirty = false;
    hand(view);
    const id = pushId, since = Date.now();
    const wait = () => {
      if (rendered(id) || Date.now() - since > 5000) {
        pushing = false;
        if (dirty) report();
      } else setTimeout(wait, 50);
    };
    setTimeout(wait, 50);
  }

  function apply(ev) {
    const view = live.view;
    if (ev.type === "update") {
      const key = String(ev.channel);
      const row = (view.rows[key] = view.rows[key] || { channel: ev.channel, role: ev.role || "", segments: [], points: [] });
      row.segments = row.segments.slice(0, ev.segments_from).concat(ev.segments.map((s) => [s.start_s, s.end_s, s.label]));
      if (ev.confidence !== null) {
        row.points.push([ev.time_s, ev.confidence]);
        row.points = row.points.filter((p) => p[0] >= ev.time_s - 120);
      }
      row.current = ev;
      view.seconds = Math.max(view.seconds, ev.time_s);
      view.updates += 1;
      view.skipped += ev.skipped || 0;
      view.state = "live";
    } else if (ev.type === "notice") {
      // the stream's own {zh, en}, or its code (the card says it from the catalogue)
      view.notices.push(ev.message && typeof ev.message === "object" ? ev.message : { code: ev.code });
    }
    else if (ev.type === "result") {
      view.result = ev;
      view.state = "ended";
    } else if (ev.type === "error" && ev.fatal) {
      view.error = ev.message; // the server's English; the card says its code in the UI's language
      view.error_code = ev.code || null;
      view.state = "ended";
    }
    report();
  }

  function send(frames) {
    // frames: one Float32Array per channel → interleaved little-endian f32 (every sample is sent)
    const n = frames[0].length, ch = live.channels, out = new Float32Array(n * ch);
    for (let c = 0; c < ch; c++) {
      const src = frames[Math.min(c, frames.length - 1)];
      for (let i = 0; i < n; i++) out[i * ch + c] = src[i];
    }
    live.ws.send(out.buffer);
    live.sent += n;
  }

  async function start(cfgText) {
    let cfg = null;
    try {
      cfg = JSON.parse(cfgText || "null");
    } catch (e) {
      cfg = null;
    }
    if (!cfg || !cfg.ticket || live.ws) return; // refused by the server (said on the card) or already running
    live.view = freshView();
    pushedUpdates = 0;
    live.sent = 0;
    live.channels = cfg.mode === "separate" ? 2 : 1;
    let media;
    try {
      // no channelCount asked: the settings then say what the microphone itself has (asked for 2, chromium
      // would copy a mono microphone into two channels)
      media = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (e) {
      live.view.state = "refused";
      live.view.reason = "no_mic";
      live.view.error = String((e && e.message) || e);
      live.view.error_code = (e && e.name) || null; // NotAllowedError, NotFoundError …: said from the catalogue
      return report();
    }
    const got = media.getAudioTracks()[0].getSettings().channelCount || 1;
    if (live.channels === 2 && got < 2) {
      media.getTracks().forEach((t) => t.stop()); // refused before anything is recorded
      live.view.state = "refused";
      live.view.reason = "mono";
      return report();
    }
    const ctx = new AudioContext();
    live.rate = ctx.sampleRate;
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([TAP], { type: "text/javascript" })));
    const src = ctx.createMediaStreamSource(media);
    const node = new AudioWorkletNode(ctx, "es-tap", {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: live.channels, channelCountMode: "explicit",
    });
    const root = (window.gradio_config && window.gradio_config.root) || location.origin;
    const url = new URL("v1/stream", root.replace(/\/?$/, "/"));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", cfg.ticket);
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    let queued = [], open = false, size = 0;
    const block = Math.round(live.rate / 10); // about 0.1 s a frame
    node.port.onmessage = (m) => {
      queued.push(m.data);
      size += m.data[0].length;
      if (open && size >= block) flush();
    };
    const flush = () => {
      if (!queued.length) return;
      const ch = queued[0].length, n = size, frames = [];
      for (let c = 0; c < ch; c++) {
        const all = new Float32Array(n);
        let at = 0;
        for (const q of queued) {
          all.set(q[c], at);
          at += q[c].length;
        }
        frames.push(all);
      }
      queued = [];
      size = 0;
      send(frames);
    };
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: "start", sample_rate: live.rate, format: "f32le", channels: live.channels,
        channel_mode: cfg.mode, roles: cfg.roles, name: "microphone (web)",
      }));
      open = true;
      flush();
    };
    ws.onmessage = (m) => apply(JSON.parse(m.data));
    ws.onclose = (e) => {
      if (live.view && live.view.state !== "ended" && live.view.state !== "refused") {
        live.view.state = "ended";
        if (!live.view.error) live.view.close_code = e.code; // closed without an error message
        report();
      }
      teardown();
    };
    Object.assign(live, { ws, ctx, media, node, src, flush });
    src.connect(node);
    report();
  }

  function teardown() {
    if (live.media) live.media.getTracks().forEach((t) => t.stop());
    if (live.ctx) live.ctx.close();
    Object.assign(live, { ws: null, ctx: null, media: null, node: null, src: null });
  }

  async function stop() {
    if (!live.ws) return;
    const { ws, src, node } = live;
    src.disconnect();
    await new Promise((r) => setTimeout(r, 50)); // the worklet's last posted blocks arrive
    node.port.onmessage = null;
    if (ws.readyState === WebSocket.OPEN) {
      live.flush();
      ws.send(JSON.stringify({ type: "stop" }));
      live.view.state = "stopping";
      report();
    }
    if (live.media) live.media.getTracks().forEach((t) => t.stop());
  }

  window.esLive = { start, stop, sentSeconds: () => (live.rate ? live.sent / live.rate : 0) };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
