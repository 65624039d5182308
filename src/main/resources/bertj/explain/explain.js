// bertj explain: the report's only script, written for bertj. It loads nothing; it reads the values embedded in
// #bertj-data, switches the selected head, zooms the heatmap, reads values out under the pointer and draws the
// head view's lines. The heatmap pictures themselves are PNGs drawn by bertj in Java.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("bertj-data").textContent);
  const S = D.seq, PITCH = 18, cache = new Map();
  const $ = (sel) => document.querySelector(sel), $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const hm = $("#hm"), heat = $("#heat"), readout = $("#readout"), lines = $("#hv-lines");
  const keys = $$(".hm-keys span"), queries = $$(".hm-queries span");
  const left = $$(".hv-left span"), right = $$(".hv-right span"), chips = $$(".chips .tok");
  let cur = null, focus = -1, hot = [];

  // attention[l * heads + h]: base64 of zlib-deflated q = round(p * attention_scale) as two byte planes (n high
  // bytes, then n low bytes), row-major [query][key]
  async function values(l, h) {
    const k = l * D.heads + h;
    if (!cache.has(k)) {
      const bin = atob(D.attention[k]), bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      const b = new Uint8Array(await new Response(stream).arrayBuffer()), n = S * S, v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = ((b[i] << 8) | b[n + i]) / D.attention_scale;
      cache.set(k, v);
    }
    return cache.get(k);
  }

  const fmt = (p) => p.toFixed(4); // the values are multiples of 1/attention_scale
  const tok = (i) => "#" + i + " \u201c" + D.tokens[i] + "\u201d";
  const level = (p) => Math.min(255, Math.max(0, Math.round(255 * Math.sqrt(p))));

  async function select(l, h) {
    const v = await values(l, h);
    cur = { l, h, v };
    for (const t of $$(".thumb")) t.classList.toggle("sel", +t.dataset.l === l && +t.dataset.h === h);
    heat.src = D.heatmaps[l * D.heads + h] || $(`.thumb[data-l="${l}"][data-h="${h}"] img`).src;
    $("#head-title").textContent = `Layer ${l}, head ${h}`;
    drawHeadView();
    document.body.dataset.shown = l + "-" + h;
  }

  function zoom(choice) {
    const avail = $("#hm-scroll").clientWidth - 114;
    const cell = choice === "fit" ? Math.max(1, Math.min(16, Math.floor((4 * avail) / S) / 4)) : +choice;
    const step = Math.max(1, Math.ceil(11 / cell));
    hm.style.setProperty("--cell", cell + "px");
    hm.style.setProperty("--fs", step > 1 ? "10px" : Math.min(11, cell - 1) + "px");
    keys.forEach((s, i) => s.classList.toggle("off", i % step !== 0));
    queries.forEach((s, i) => s.classList.toggle("off", i % step !== 0));
    for (const b of $$(".zoom button")) b.classList.toggle("on", b.dataset.cell === String(choice));
    document.body.dataset.cell = String(cell);
  }

  function point(ev) {
    if (!cur) return;
    const r = heat.getBoundingClientRect();
    const j = Math.floor(((ev.clientX - r.left) / r.width) * S), i = Math.floor(((ev.clientY - r.top) / r.height) * S);
    if (i < 0 || j < 0 || i >= S || j >= S) return;
    hot.forEach((s) => s.classList.remove("hot"));
    hot = [queries[i], keys[j]];
    hot.forEach((s) => s.classList.add("hot"));
    readout.innerHTML = "";
    readout.append("query " + tok(i) + " \u2192 key " + tok(j) + ": ");
    const b = document.createElement("b");
    b.textContent = "p = " + fmt(cur.v[i * S + j]);
    readout.append(b);
  }

  function drawHeadView() {
    const v = cur.v, y = (i) => i * PITCH + PITCH / 2, out = [];
    for (let i = 0; i < S; i++) {
      if (focus >= 0 && i !== focus) continue;
      for (let j = 0; j < S; j++) {
        const p = v[i * S + j];
        if (p < (focus >= 0 ? 0.005 : 0.02)) continue;
        const a = focus >= 0 ? Math.sqrt(p) : p;
        out.push(`<line x1="2" y1="${y(i)}" x2="168" y2="${y(j)}" stroke-opacity="${a.toFixed(3)}"/>`);
      }
    }
    lines.innerHTML = out.join("");
    right.forEach((s, j) => {
      if (focus < 0) { s.style.background = ""; s.style.color = ""; return; }
      const k = level(v[focus * S + j]);
      s.style.background = D.palette[k];
      s.style.color = k > 150 ? "#fff" : "";
    });
    left.forEach((s, i) => s.classList.toggle("focus", i === focus));
    chips.forEach((s, i) => s.classList.toggle("focus", i === focus));
  }

  function setFocus(i, scroll) {
    focus = focus === i ? -1 : i;
    if (cur) drawHeadView();
    if (scroll && focus >= 0) $("#hv-scroll").scrollTop = Math.max(0, focus * PITCH - 120);
  }

  for (const t of $$(".thumb")) t.addEventListener("click", () => select(+t.dataset.l, +t.dataset.h));
  for (const b of $$(".zoom button")) b.addEventListener("click", () => zoom(b.dataset.cell));
  left.forEach((s, i) => s.addEventListener("click", () => setFocus(i, false)));
  chips.forEach((s, i) => s.addEventListener("click", () => setFocus(i, true)));
  heat.addEventListener("mousemove", point);
  zoom(S <= 40 ? "16" : S <= 64 ? "12" : "fit");
  select(0, 0).then(() => { document.body.dataset.ready = "1"; }, (err) => {
    // DecompressionStream: Chrome/Edge 80+, Firefox 113+, Safari 16.4+
    readout.textContent = "This browser cannot decode the report's attention values (" + err + "); the pictures still show.";
    heat.src = D.heatmaps[0] || $(".thumb img").src;
  });
})();
