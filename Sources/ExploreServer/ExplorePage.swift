/// The explorer's one page: HTML, CSS and script inline, nothing fetched from elsewhere. It asks
/// /api/model for the sliders, decodes as they move (one request in flight, the newest point
/// next), walks between two images, and lists the runs with their curves and pictures.
enum ExplorePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>GenLab explorer</title>
        <style>
        body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f6f6f4; }
        header {
          padding: 12px 20px;
          background: #20303f;
          color: #fff;
          display: flex;
          gap: 24px;
          align-items: baseline;
        }
        header h1 { font-size: 19px; margin: 0; }
        header nav button {
          background: none;
          border: 0;
          color: #cfe;
          font-size: 15px;
          cursor: pointer;
          padding: 4px 8px;
        }
        header nav button.on { color: #fff; border-bottom: 2px solid #fff; }
        main { padding: 16px 20px; }
        .row { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
        .card { background: #fff; border-radius: 8px; padding: 14px 16px; box-shadow: 0 1px 3px #0002; }
        #decoded { width: 256px; height: 256px; image-rendering: auto; background: #000; display: block; }
        .muted { color: #666; font-size: 13px; }
        .dims {
          display: grid;
          grid-template-columns: 80px 1fr 48px;
          gap: 2px 8px;
          align-items: center;
          max-height: 520px;
          overflow-y: auto;
        }
        .dims label { font-family: ui-monospace, monospace; font-size: 13px; }
        .dims output { font-family: ui-monospace, monospace; font-size: 13px; text-align: right; }
        .inactive label { color: #aaa; }
        button.act {
          padding: 5px 12px;
          border-radius: 6px;
          border: 1px solid #8aa;
          background: #eef5f7;
          cursor: pointer;
        }
        #gallery img { width: 48px; height: 48px; margin: 2px; cursor: pointer; border: 2px solid transparent; }
        #gallery img.a { border-color: #d33; } #gallery img.b { border-color: #33d; }
        .ends { display: flex; gap: 10px; align-items: center; }
        .ends img { width: 72px; height: 72px; background: #ddd; }
        table.runs {
          border-collapse: collapse;
        }
        table.runs td {
          padding: 4px 10px;
          border-bottom: 1px solid #eee;
          vertical-align: top;
        }
        .pics img { height: 120px; margin: 4px; border: 1px solid #ddd; }
        svg.curve { background: #fff; }
        #error { color: #b00; font-size: 13px; min-height: 1em; }
        </style>
        </head>
        <body>
        <header><h1>GenLab explorer</h1><span id="model" class="muted" style="color:#cde"></span>
          <nav><button id="tab-latent" class="on">Latent space</button>
            <button id="tab-runs">Runs</button></nav></header>
        <main>
        <section id="latent">
          <div class="row">
            <div class="card" style="width:280px">
              <img id="decoded" alt="decoded image">
              <div class="muted">decoded in <span id="latency">–</span> ms · on screen <span id="shown">–</span> ms
                after the move · <span id="decodes">0</span> images</div>
              <div id="error"></div>
              <p>
                <button class="act" id="random">Random draw</button>
                seed <input id="seed" type="number" value="1" min="0" style="width:70px">
                <button class="act" id="zero">Origin</button>
                <button class="act" id="keep" hidden>Keep</button>
              </p>
              <div id="classes" class="muted"></div>
            </div>
            <div class="card" style="width:440px">
              <div><b>Latent dimensions</b> <span class="muted" id="ranked"></span></div>
              <label class="muted"><input type="checkbox" id="show-all"> show inactive dimensions too</label>
              <div class="dims" id="dims"></div>
            </div>
            <div class="card" style="width:400px">
              <b>Walk between two images</b>
              <div class="muted" id="walk-help"></div>
              <div class="ends">
                <div>A<br><img id="end-a" alt=""
                  src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"></div>
                <input id="walk-t" type="range" min="0" max="1" step="0.01" value="0" style="flex:1" disabled>
                <div>B<br><img id="end-b" alt=""
                  src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"></div>
              </div>
              <p class="muted">t = <span id="t-value">0</span> ·
                <label><input type="radio" name="mode" value="slerp" checked> slerp</label>
                <label><input type="radio" name="mode" value="linear"> linear</label></p>
              <div id="uploads" hidden>
                <p>Your own image as A: <input type="file" id="upload-a" accept="image/png,image/jpeg"></p>
                <p>Your own image as B: <input type="file" id="upload-b" accept="image/png,image/jpeg"></p></div>
              <p class="muted">Training images (click: A, shift-click: B)</p>
              <div id="gallery"></div>
              <p><button class="act" id="draw-ends">Two random draws as A and B</button></p>
            </div>
          </div>
        </section>
        <section id="runs" hidden>
          <div class="card"><table class="runs" id="run-table"></table></div>
        </section>
        </main>
        <script>
        "use strict";
        const $ = id => document.getElementById(id);
        let model = null, z = [], ends = { a: null, b: null };
        let inFlight = false, pending = null, decodes = 0, movedAt = null;

        function showError(message) { $("error").textContent = message || ""; }
        // A conditional model decodes (and encodes) for the chosen class.
        function chosenClass() { return $("class") ? $("class").value : null; }
        function classParam(first) {
          const c = chosenClass();
          return c === null ? "" : (first ? "?" : "&") + "class=" + encodeURIComponent(c);
        }
        function decodeURL(point) { return "/api/decode?z=" + point.map(v => v.toFixed(4)).join(",") + classParam(); }

        async function getJSON(url, options) {
          const response = await fetch(url, options);
          if (!response.ok) throw new Error((await response.text()) || response.statusText);
          return response.json();
        }

        // One decode in flight; a newer point waits and replaces any older waiting one.
        function requestDecode() {
          if (movedAt === null) movedAt = performance.now();
          pending = z.slice();
          if (!inFlight) pump();
        }
        async function pump() {
          if (pending === null) return;
          // The move this image answers: the first one not yet sent.
          const point = pending, since = movedAt; pending = null; movedAt = null; inFlight = true;
          const started = performance.now();
          try {
            const response = await fetch(decodeURL(point));
            if (!response.ok) throw new Error(await response.text());
            const blob = await response.blob();
            const old = $("decoded").src;
            $("decoded").onload = () => { $("shown").textContent = Math.round(performance.now() - since); };
            $("decoded").src = URL.createObjectURL(blob);
            if (old.startsWith("blob:")) URL.revokeObjectURL(old);
            $("latency").textContent = Math.round(performance.now() - started);
            $("decodes").textContent = ++decodes;
            $("decoded").dataset.decodes = decodes;
            showError("");
          } catch (e) { showError(e.message); }
          inFlight = false;
          if (pending !== null) pump();
        }

        function buildSliders() {
          const box = $("dims"); box.innerHTML = "";
          // An untrained or collapsed model has no active dimension: then every slider shows.
          const showAll = $("show-all").checked || !model.dimensions.some(d => d.active);
          for (const d of model.dimensions) {
            if (!d.active && !showAll) continue;
            const label = document.createElement("label");
            label.textContent = "z[" + d.index + "]" + (d.rank ? " #" + d.rank : "");
            label.title = model.rankedBy + ": " + d.score.toPrecision(3);
            const slider = document.createElement("input");
            slider.type = "range"; slider.min = -3; slider.max = 3; slider.step = 0.01;
            slider.value = z[d.index]; slider.className = "dim-slider"; slider.dataset.dim = d.index;
            const out = document.createElement("output"); out.textContent = (+z[d.index]).toFixed(2);
            slider.addEventListener("input", () => {
              z[d.index] = +slider.value; out.textContent = (+slider.value).toFixed(2); requestDecode();
            });
            if (!d.active) label.style.color = "#aaa";
            box.append(label, slider, out);
          }
        }
        function setPoint(point) { z = point.slice(); buildSliders(); requestDecode(); }

        function slerp(a, b, t, mode) {
          const dot = a.reduce((s, v, i) => s + v * b[i], 0);
          const na = Math.hypot(...a), nb = Math.hypot(...b);
          const omega = Math.acos(Math.max(-1, Math.min(1, dot / Math.max(na * nb, 1e-12))));
          if (mode === "linear" || Math.sin(omega) < 1e-6) return a.map((v, i) => (1 - t) * v + t * b[i]);
          const wa = Math.sin((1 - t) * omega) / Math.sin(omega), wb = Math.sin(t * omega) / Math.sin(omega);
          return a.map((v, i) => wa * v + wb * b[i]);
        }
        function walk() {
          if (!ends.a || !ends.b) return;
          const t = +$("walk-t").value;
          $("t-value").textContent = t.toFixed(2);
          const mode = document.querySelector("input[name=mode]:checked").value;
          setPoint(slerp(ends.a.z, ends.b.z, t, mode).map(v => Math.max(-6, Math.min(6, v))));
        }
        function setEnd(which, point, src) {
          ends[which] = { z: point };
          $("end-" + which).src = src;
          $("walk-t").disabled = !(ends.a && ends.b);
          if (ends.a && ends.b) walk();
        }
        async function decodedURL(point) {
          const r = await fetch(decodeURL(point));
          return URL.createObjectURL(await r.blob());
        }

        async function upload(which, file) {
          try {
            const result = await getJSON("/api/encode" + classParam(true), { method: "POST", body: file });
            setEnd(which, result.z, URL.createObjectURL(file));
          } catch (e) { showError(e.message); }
        }

        async function loadRuns() {
          const table = $("run-table"); table.innerHTML = "<tr><td>loading…</td></tr>";
          try {
            const runs = await getJSON("/api/runs");
            table.innerHTML = "";
            if (runs.length === 0) table.innerHTML = "<tr><td>No runs in the runs folder yet.</td></tr>";
            for (const run of runs) {
              const tr = document.createElement("tr");
              const name = document.createElement("td");
              name.innerHTML = "<b></b><br><span class=muted></span>";
              name.querySelector("b").textContent = run.name;
              name.querySelector("span").textContent = (run.kind || "") + " · " + run.rows.length + " metric rows";
              const curve = document.createElement("td"); curve.appendChild(plotCurve(run));
              const pics = document.createElement("td"); pics.className = "pics";
              const shown = run.pictures.filter(p => !/_epoch_/.test(p)).slice(0, 6);
              for (const p of shown) {
                const img = document.createElement("img");
                img.src = "/runs/picture?run=" + encodeURIComponent(run.name) + "&file=" + encodeURIComponent(p);
                img.title = p; img.alt = p; pics.appendChild(img);
              }
              tr.append(name, curve, pics); table.appendChild(tr);
            }
          } catch (e) { table.innerHTML = ""; showError(e.message); }
        }
        // The run's first loss-like column against its step column, as a small SVG.
        function plotCurve(run) {
          const ns = "http://www.w3.org/2000/svg", w = 320, h = 140, pad = 34;
          const svg = document.createElementNS(ns, "svg");
          svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "curve");
          const xi = run.columns.indexOf("step");
          const yi = run.columns.findIndex(c => c.startsWith("loss")) ;
          if (xi < 0 || yi < 0 || run.rows.length < 2) { svg.setAttribute("height", 20); return svg; }
          const pts = run.rows.filter(r => r[xi] !== null && r[yi] !== null).map(r => [r[xi], r[yi]]);
          const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
          const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
          const sx = x => pad + (x - x0) / Math.max(x1 - x0, 1e-12) * (w - pad - 8);
          const sy = y => h - 20 - (y - y0) / Math.max(y1 - y0, 1e-12) * (h - 30);
          const path = document.createElementNS(ns, "polyline");
          path.setAttribute("points", pts.map(p => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" "));
          path.setAttribute("fill", "none");
          path.setAttribute("stroke", "#1f5f8b");
          path.setAttribute("stroke-width", "1.5");
          svg.appendChild(path);
          const text = (x, y, s, anchor) => {
            const t = document.createElementNS(ns, "text");
            t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", "11");
            t.setAttribute("text-anchor", anchor || "start"); t.textContent = s; svg.appendChild(t);
          };
          text(2, 12, y1.toPrecision(3)); text(2, h - 22, y0.toPrecision(3));
          text(w - 8, h - 4, "step " + x1, "end"); text(pad, h - 4, run.columns[yi] + " vs step");
          return svg;
        }

        async function start() {
          try {
            model = await getJSON("/api/model");
          } catch (e) { showError(e.message); return; }
          $("model").textContent = model.kind.toUpperCase() + " · " + model.latentDim + " latent dimensions · " +
            model.channels + "×" + model.imageSize + "² · " + model.checkpoint;
          $("ranked").textContent = "(ordered by " + model.rankedBy + ")";
          $("classes").textContent = model.classes.length ? "Class " : "Unconditional model: no classes to choose.";
          if (model.classes.length) {
            const select = document.createElement("select"); select.id = "class";
            model.classes.forEach((c, i) => {
              const o = document.createElement("option");
              o.textContent = c; o.value = i; select.appendChild(o);
            });
            select.addEventListener("change", requestDecode);
            $("classes").appendChild(select);
          }
          $("uploads").hidden = !model.hasEncoder;
          $("walk-help").textContent = model.hasEncoder
            ? "Pick A and B from the training images or drop in your own; move t."
            : "A GAN has no encoder: walk between random draws.";
          for (let i = 0; i < model.galleryCount; i++) {
            const img = document.createElement("img");
            img.src = "/api/gallery/" + i; img.alt = "training image " + i; img.dataset.index = i;
            img.addEventListener("click", async ev => {
              if (!model.hasEncoder) { setPoint(z); return; }
              const which = ev.shiftKey ? "b" : "a";
              try {
                const point = await getJSON("/api/gallery/" + i + "/latent" + classParam(true));
                // A labelled gallery image is encoded as its own class: the walk takes that class.
                if (point.class !== undefined && point.class !== null && $("class")
                    && $("class").value !== String(point.class)) {
                  $("class").value = point.class; requestDecode();
                }
                document.querySelectorAll("#gallery img." + which).forEach(x => x.classList.remove(which));
                img.classList.add(which);
                setEnd(which, point.z, img.src);
              } catch (e) { showError(e.message); }
            });
            $("gallery").appendChild(img);
          }
          $("keep").hidden = !model.canSave;
          setPoint(new Array(model.latentDim).fill(0));
        }

        $("random").addEventListener("click", async () => {
          const seed = Math.max(0, Math.floor(+$("seed").value || 0));
          try { setPoint((await getJSON("/api/random?seed=" + seed)).z); $("seed").value = seed + 1; }
          catch (e) { showError(e.message); }
        });
        $("zero").addEventListener("click", () => setPoint(new Array(model.latentDim).fill(0)));
        $("keep").addEventListener("click", async () => {
          try {
            const c = chosenClass();
            const body = c === null ? { z: z } : { z: z, class: +c };
            const r = await getJSON("/api/save", { method: "POST", body: JSON.stringify(body) });
            showError("kept as " + r.saved);
          } catch (e) { showError(e.message); }
        });
        $("show-all").addEventListener("change", buildSliders);
        $("walk-t").addEventListener("input", walk);
        document.querySelectorAll("input[name=mode]").forEach(r => r.addEventListener("change", walk));
        $("upload-a").addEventListener("change", ev => ev.target.files[0] && upload("a", ev.target.files[0]));
        $("upload-b").addEventListener("change", ev => ev.target.files[0] && upload("b", ev.target.files[0]));
        $("draw-ends").addEventListener("click", async () => {
          const seed = Math.max(0, Math.floor(+$("seed").value || 0));
          try {
            const a = (await getJSON("/api/random?seed=" + seed)).z;
            const b = (await getJSON("/api/random?seed=" + (seed + 1))).z;
            setEnd("a", a, await decodedURL(a)); setEnd("b", b, await decodedURL(b));
            $("seed").value = seed + 2;
          } catch (e) { showError(e.message); }
        });
        for (const [tab, section] of [["tab-latent", "latent"], ["tab-runs", "runs"]]) {
          $(tab).addEventListener("click", () => {
            for (const [t, s] of [["tab-latent", "latent"], ["tab-runs", "runs"]]) {
              $(t).classList.toggle("on", t === tab); $(s).hidden = s !== section;
            }
            if (section === "runs") loadRuns();
          });
        }
        start();
        </script>
        </body>
        </html>
        """#
}
