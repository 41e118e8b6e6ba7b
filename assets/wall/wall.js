/* The wall page's live client: deck.gl map created once, Socket.IO diffs applied in place.
 *
 * Dash loads every script in assets/ on every page, so this file does nothing until the
 * wall's map container (#wall-map) appears. Then it
 *   1. fetches /wall/spec.json (pydeck's Deck.to_json() + palettes + messages),
 *   2. converts the spec with deck.JSONConverter (plus the layers of coded_layer.js) and
 *      creates the deck.Deck canvases once: the static land and district outlines at the
 *      bottom (redrawn only when the view or a toggle changes); every status-coded object
 *      (grid cells, roads, stations) in one deck.CodedMapLayer in the middle — on a
 *      software GL (SwiftShader) on two stacked canvases that take turns (CodedMapPair);
 *      units, incidents and district names on top (it owns the controller, mirrors its view
 *      state to the canvases below and picks the coded objects there for hover/click),
 *   3. joins the "wall" room over Socket.IO and applies wall:full / wall:update messages:
 *      code arrays per layer (columnar diffs, written in place into Uint8Arrays), KPI values,
 *      ticker, units, incidents, series;
 *   4. once per animation frame updates the panels and hands the changed code arrays to the
 *      CodedMapPair: one byte per vertex is uploaded and, on a software GL, the hidden
 *      canvas redraws the objects a bounded number of primitives per frame, then is shown
 *      (see coded_layer.js: drawing all 21 000 objects of a large city in one frame took
 *      50-80 ms there); the top canvas gets new layers only when units, incidents or texts
 *      changed. Pan/zoom and the WebGL contexts survive every update.
 * A watchdog shows the stale banner when no message or no new reading arrived for
 * staleAfterS seconds, and forces a reconnect when the socket went quiet.
 * window.citycc_wall.stats exposes latency samples (sampled → visible, published → visible)
 * and main-thread timings for tests and bench/wall.py.
 */
(function () {
  "use strict";
  if (window.citycc_wall) { return; }
  var W = window.citycc_wall = {
    // latency: sample time of the newest reading → visible; latencyPub: its batch's publish
    // (producer) time → visible, when the server knows it (embedded process)
    stats: { latency: [], latencyPub: [], applied: 0, messages: 0, full: 0, lastSeq: 0,
             changed: 0, server: [], arrival: [], inPage: [], applyMs: [],
             renderMs: { map: [], panels: [] } },
    deck: null, socket: null, cfg: null
  };
  // append to a stats sample array, dropping the oldest beyond cap
  function sample(arr, x, cap) {
    arr.push(x);
    if (arr.length > cap) { arr.shift(); }
  }
  var S = null;            // live state of the current page (reset on each boot)
  var LANG_KEY = "zh-CN";

  function lang() {
    var root = document.getElementById("wall-root");
    var l = root && root.getAttribute("lang");
    return l === "en" ? "en" : LANG_KEY;
  }
  function tr(key) {
    var m = W.cfg && W.cfg.messages[key];
    if (!m) { return key; }
    return m[lang()] || m[LANG_KEY];
  }
  function pick(label) {
    if (!label) { return ""; }
    if (typeof label === "string") { return label; }
    return label[lang()] || label[LANG_KEY] || "";
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function rgba(c) { return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + (c[3] / 255) + ")"; }
  function rgb(c) { return "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")"; }
  var ROMAN = ["", "Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"];

  // ------------------------------------------------------------------ boot
  function watchForPage() {
    var el = document.getElementById("wall-map");
    if (el && !el.getAttribute("data-booted")) {
      el.setAttribute("data-booted", "1");
      boot(el);
    }
  }
  new MutationObserver(watchForPage).observe(document.documentElement,
                                              { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", watchForPage);

  function boot(el) {
    fetch("/wall/spec.json").then(function (r) { return r.json(); }).then(function (doc) {
      W.cfg = doc.config;
      start(el, doc);
    }).catch(function (e) { console.warn("wall: spec failed", e); });
  }

  function start(el, doc) {
    if (W.deck) { W.deck.finalize(); W.deck = null; }
    var converter = new deck.JSONConverter({ configuration: { classes: deck } });
    var props = converter.convert(doc.deck);
    var base = {};
    props.layers.forEach(function (l) { base[l.id] = l; });
    S = {
      el: el, base: base, order: props.layers.map(function (l) { return l.id; }),
      codes: {}, ver: {}, visible: {}, kpis: {}, ages: {}, agesAt: 0, lastMsgAt: performance.now(),
      newest: null, series: { t: [] }, bands: {}, ticker: { derived: true, items: [] },
      units: new Map(), incidents: new Map(), unitRows: [], incidentRows: [],
      paint: {}, paintRaf: 0, paintWaiters: [],
      dirty: { layers: {}, coded: {}, kpis: true, ticker: true, charts: true }, raf: 0, lang: lang(),
      fontSettings: { sdf: true, fontSize: 48, buffer: 6 },
      fontFamily: getComputedStyle(document.body).fontFamily || "sans-serif"
    };
    W.cfg.coded.forEach(function (id) {
      var n = base[id] && base[id].props.data ? base[id].props.data.length : 0;
      S.codes[id] = new Uint8Array(n); S.ver[id] = 0;
    });
    // the coded kinds in drawing order (the spec's order), one CodedMapLayer for all of them
    S.kinds = S.order.filter(function (id) { return W.cfg.coded.indexOf(id) >= 0 && base[id]; })
      .map(function (id) {
        var p = base[id].props;
        return { id: id, mode: p.mode, data: p.data, palette: p.palette, pixelSizes: p.pixelSizes,
                 stroke: p.stroke, thinBelow: p.thinBelow };
      });
    S.budget = softwareGL() ? PRIMITIVES_PER_FRAME_SOFTWARE : 0;
    S.codedPair = new deck.CodedMapPair({ primitivesPerFrame: S.budget, onPresent: onCodedPresent });
    S.ver.units = 0; S.ver.incidents = 0; S.ver.text = 0;
    W.cfg.toggles.forEach(function (id) { S.visible[id] = true; });
    W.state = S; W.buildLayers = buildLayers; W.setCoded = setCoded;
    // the static geometry (land, district outlines) below, drawn only when the view changes;
    // the coded objects, redrawn on every update; the rarely changing units, incidents and
    // names on top. A software GL (SwiftShader) pays per pixel and per primitive, and
    // Chromium reads back every shown WebGL canvas that changed in a frame.
    var common = {
      parent: el, views: props.views,
      // no MSAA: on a software GL (SwiftShader) 4x multisampling quadruples the fill cost
      deviceProps: { webgl: { antialias: false } }
    };
    if (W.base) { W.base.finalize(); }
    W.base = new deck.Deck(Object.assign({}, common, {
      viewState: props.initialViewState, controller: false, layers: [],
      style: { position: "absolute", left: 0, top: 0, pointerEvents: "none" }
    }));
    // the coded objects: two canvases taking turns on a software GL (coded_layer.js), one
    // with a GPU
    (W.codedDecks || []).forEach(function (d) { d.finalize(); });
    W.codedDecks = (S.budget ? ["a", "b"] : ["a"]).map(function () {
      return new deck.Deck(Object.assign({}, common, {
        viewState: props.initialViewState, controller: false, layers: [],
        style: { position: "absolute", left: 0, top: 0, pointerEvents: "none" }
      }));
    });
    W.deck = new deck.Deck(Object.assign({}, common, {
      initialViewState: props.initialViewState, controller: true, layers: [],
      getTooltip: function (info) { return tooltip(withCoded(info)); },
      onClick: function (info) { return onClick(withCoded(info)); },
      onViewStateChange: function (p) {
        W.base.setProps({ viewState: p.viewState });
        W.codedDecks.forEach(function (d) { d.setProps({ viewState: p.viewState }); });
        return p.viewState;
      },
      style: { position: "absolute", left: 0, top: 0 }
    }));
    setLayers(); setCoded();
    setupToggles(); legend(); translate(); connect();
    new MutationObserver(function () {
      if (S && S.lang !== lang()) { S.lang = lang(); onLanguage(); }
    }).observe(document.getElementById("wall-root"), { attributes: true,
                                                         attributeFilter: ["lang"] });
    if (!W.timer) { W.timer = setInterval(watchdog, 250); }
    window.addEventListener("resize", function () { if (S) { S.dirty.charts = true; schedule(); } });
  }

  // ------------------------------------------------------------------ layers
  // primitives a software GL draws per animation frame for an update (about 6-8 ms of
  // SwiftShader on one core); with a GPU an update is drawn directly, in one frame
  var PRIMITIVES_PER_FRAME_SOFTWARE = 6000;
  function softwareGL() {
    var c = document.createElement("canvas"), gl = c.getContext("webgl2");
    if (!gl) { return true; }
    var ext = gl.getExtension("WEBGL_debug_renderer_info");
    var name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    var lose = gl.getExtension("WEBGL_lose_context");
    if (lose) { lose.loseContext(); }
    return /swiftshader|llvmpipe|lavapipe|softpipe|software/i.test(name);
  }
  var STATIC_LAYERS = { land: true, districts: true };
  function setLayers() {
    var all = buildLayers();
    var below = all.filter(function (l) { return STATIC_LAYERS[l.id]; });
    var above = all.filter(function (l) { return !STATIC_LAYERS[l.id]; });
    // the static deck gets new props only when a toggle changed them (same layer objects
    // otherwise), so it does not redraw on data updates
    var key = below.map(function (l) { return l.id + ":" + l.props.visible; }).join(",");
    if (key !== S.baseKey) { S.baseKey = key; W.base.setProps({ layers: below }); }
    W.deck.setProps({ layers: above });
  }
  function setCoded() {
    // a new layer object only for a toggle: code updates go through requestUpdate
    var hidden = {};
    S.kinds.forEach(function (k) { if (S.visible[k.id] === false) { hidden[k.id] = true; } });
    var key = JSON.stringify([hidden, S.budget]);
    if (key === S.codedKey) { return; }  // a toggle of another layer
    S.codedKey = key;
    W.codedDecks.forEach(function (d, i) {
      d.setProps({ layers: [new deck.CodedMapLayer({
        id: "coded", kinds: S.kinds, codes: S.codes, hidden: hidden, pair: S.codedPair,
        slot: i ? "b" : "a", primitivesPerFrame: S.budget, pickable: true
      })] });
    });
  }
  // the coded canvas on screen (hover, click, tests)
  function codedDeck() {
    var l = S && S.codedPair.frontLayer();
    return l ? l.context.deck : W.codedDecks && W.codedDecks[0];
  }
  W.codedDeck = codedDeck;
  function onCodedPresent(tags) { tags.forEach(recordLatency); }
  // hover and click reach the top canvas only: objects there win, else the coded object
  // (station, road, grid cell) below
  function withCoded(info) {
    var d = codedDeck();
    if (info.object || info.x == null || !d) { return info; }
    return d.pickObject({ x: info.x, y: info.y, radius: 0 }) || info;
  }
  function buildLayers() {
    var P = W.cfg.palettes;
    return S.order.filter(function (id) { return W.cfg.coded.indexOf(id) < 0; }).map(function (id) {
      var l = S.base[id];
      var vis = S.visible[id] === undefined ? true : S.visible[id];
      if (id === "units") {
        var groups = { fire: 0, ems: 1, police: 2 };
        return l.clone({ visible: vis, data: S.unitRows,
          getPosition: function (d) { return d.p; },
          getFillColor: function (d) {
            var c = P.unit_groups[groups[d.group] || 0];
            return d.state === "available" ? [c[0], c[1], c[2], 150] : c;
          },
          getRadius: function (d) { return d.state === "available" ? 250 : 450; },
          updateTriggers: { getFillColor: S.ver.units, getRadius: S.ver.units } });
      }
      if (id === "incidents") {
        return l.clone({ visible: vis, data: S.incidentRows,
          getPosition: function (d) { return d.p; },
          getFillColor: function (d) { return P.incidents[(d.level || 4) - 1]; },
          updateTriggers: { getFillColor: S.ver.incidents } });
      }
      if (id === "district-names") {
        var key = lang() === "en" ? "name_en" : "name_zh";
        // same objects every time: a new fontSettings/fontFamily would rebuild the glyph atlas
        return l.clone({ visible: S.visible.districts, characterSet: W.cfg.characterSet,
          fontSettings: S.fontSettings, fontFamily: S.fontFamily,
          getText: function (d) { return d[key]; }, updateTriggers: { getText: key } });
      }
      return vis === l.props.visible ? l : l.clone({ visible: vis });
    });
  }

  // ------------------------------------------------------------------ messages
  function connect() {
    if (W.socket) {
      W.socket.emit("wall:join", { role: "wall" });
      return;
    }
    var socket = W.socket = io({ reconnection: true, reconnectionDelay: 500,
                                  reconnectionDelayMax: 3000 });
    socket.on("connect", function () { socket.emit("wall:join", { role: "wall" }); });
    socket.on("wall:full", function (msg) { if (S) { W.stats.full++; apply(msg, true); } });
    socket.on("wall:update", function (msg) {
      if (!S) { return; }
      var t0 = performance.now();
      apply(msg, false);
      sample(W.stats.applyMs, performance.now() - t0, 600);
    });
  }

  function applyCodes(id, d) {
    var arr = S.codes[id];
    if (!arr) { return; }
    W.stats.changed += d.full ? d.full.length : d.i.length;
    if (d.full) {
      var n = Math.min(arr.length, d.full.length);
      for (var k = 0; k < n; k++) { arr[k] = d.full[k]; }
    } else {
      var I = d.i, V = d.v;
      for (var j = 0; j < I.length; j++) { arr[I[j]] = V[j]; }
    }
    S.ver[id]++;
    S.dirty.coded[id] = true;
  }

  function applyRows(map, diff, ptKey) {
    (diff.remove || []).forEach(function (id) { map.delete(id); });
    var up = diff.upsert, cols = Object.keys(up);
    for (var r = 0; r < up.id.length; r++) {
      var row = {};
      cols.forEach(function (c) { row[c] = up[c][r]; });
      row[ptKey] = [row.lon, row.lat];
      map.set(row.id, row);
    }
    return Array.from(map.values());
  }

  function apply(msg, full) {
    W.stats.messages++;
    S.lastMsgAt = performance.now();
    if (!full && msg.seq <= W.stats.lastSeq) { return; }
    if (full) {
      S.series = { t: [] }; S.units.clear(); S.incidents.clear();
    }
    W.stats.lastSeq = msg.seq;
    S.ages = msg.ages || {}; S.agesAt = performance.now();
    var layers = msg.layers || {};
    Object.keys(layers).forEach(function (id) { applyCodes(id, layers[id]); });
    if (msg.kpis) { Object.assign(S.kpis, msg.kpis); S.dirty.kpis = true; }
    if (msg.ticker) { S.ticker = msg.ticker; S.dirty.ticker = true; }
    if (msg.units) { S.unitRows = applyRows(S.units, msg.units, "p"); S.ver.units++; S.dirty.layers.units = true; }
    if (msg.incidents) {
      S.incidentRows = applyRows(S.incidents, msg.incidents, "p"); S.ver.incidents++;
      S.dirty.layers.incidents = true;
    }
    if (msg.series) { appendSeries(msg.series); S.dirty.charts = true; }
    if (msg.bands) { S.bands = msg.bands; S.dirty.charts = true; }
    if (msg.pub != null && (S.pub == null || msg.pub > S.pub)) {
      // first message carrying this publish time (a heartbeat may have shown part of it)
      S.pub = msg.pub; S.pendingPub = msg.pub;
    }
    var fresh = msg.newest != null && (S.newest == null || msg.newest > S.newest);
    if (fresh) {
      S.newest = msg.newest; S.pendingLatency = msg.newest;
      // split of the latency: reading → server frame (pipeline + push loop) and arrival
      sample(W.stats.server, msg.t - msg.newest, 5000);
      sample(W.stats.arrival, Date.now() - msg.newest, 5000);
    }
    // arrival of the oldest update not yet on screen (for the in-page share of the latency)
    if (S.pendingArrival == null) { S.pendingArrival = Date.now(); }
    schedule();
  }

  function appendSeries(cols) {
    var names = Object.keys(cols);
    for (var k = 0; k < cols.t.length; k++) {
      var t = cols.t[k], last = S.series.t.length ? S.series.t[S.series.t.length - 1] : -Infinity;
      if (t <= last) { continue; }
      names.forEach(function (n) {
        (S.series[n] = S.series[n] || []).push(cols[n][k]);
      });
    }
    if (S.series.t.length > 600) {
      var cut = S.series.t.length - 600;
      Object.keys(S.series).forEach(function (n) { S.series[n] = S.series[n].slice(cut); });
    }
  }

  function schedule() {
    if (S.raf) { return; }
    S.raf = requestAnimationFrame(render);
  }

  function render() {
    S.raf = 0;
    var t0 = performance.now();
    var coded = Object.keys(S.dirty.coded), top = S.dirty.layers;
    S.dirty.coded = {}; S.dirty.layers = {};
    if (top.toggle) { setCoded(); }
    if (Object.keys(top).length) { setLayers(); }
    var t1 = performance.now();  // deck updates buffers and draws in its own frame callback
    ["left", "right"].forEach(function (side) {
      if (S.dirty.kpis) { markPaint(side, "kpis"); }
      if (S.dirty.charts) { markPaint(side, "charts"); }
      markPaint(side, "ages");
    });
    if (S.dirty.ticker) { markPaint("bottom", "ticker"); }
    S.dirty.kpis = S.dirty.ticker = S.dirty.charts = false;
    if (!S.paintRaf) { paintNext(); }  // the first region in this frame, the others after it
    W.stats.applied++;
    sample(W.stats.renderMs.map, t1 - t0, 600);
    var seen = null;
    if (S.pendingLatency != null || S.pendingPub != null) {
      seen = { sampled: S.pendingLatency, published: S.pendingPub, arrived: S.pendingArrival };
      S.pendingLatency = null; S.pendingPub = null;
    }
    S.pendingArrival = null;
    // the coded canvases start drawing the new codes in this frame and report the update
    // visible (onCodedPresent) once a canvas shows them; without map changes the update is
    // visible the frame after the last panel region was painted
    if (coded.length) { S.codedPair.requestUpdate(coded, seen); } else if (seen) {
      S.paintWaiters.push(function () { recordLatency(seen); });
    }
  }

  // Panels are painted one region per frame: Chromium's software compositor redraws the
  // bounding box of everything that changed in a frame, so the left column, the right column
  // and the ticker changing together made it redraw the whole screen, the map's canvases
  // included (10-35 ms on its thread, measured); one region per frame keeps each redraw to
  // that region.
  var REGIONS = { left: ".wall-left", right: ".wall-right", bottom: ".wall-ticker-bar" };
  function markPaint(region, what) {
    (S.paint[region] = S.paint[region] || {})[what] = true;
  }
  function schedulePaint() {
    if (!S.paintRaf) { S.paintRaf = requestAnimationFrame(paintNext); }
  }
  function paintNext() {
    S.paintRaf = 0;
    var name = Object.keys(REGIONS).filter(function (r) { return S.paint[r]; })[0];
    if (name) {
      var job = S.paint[name], root = document.querySelector(REGIONS[name]), t0 = performance.now();
      delete S.paint[name];
      if (root) {
        if (job.kpis) { renderKpis(root); }
        if (job.charts) { renderCharts(root); }
        if (job.ages) { renderAges(root); }
        if (job.ticker) { renderTicker(); }
      }
      if (job.clock) { renderClock(); }
      // main-thread cost of painting one region (KPIs, charts, ages or the ticker)
      sample(W.stats.renderMs.panels, performance.now() - t0, 600);
    }
    if (Object.keys(S.paint).length) { schedulePaint(); return; }
    var waiters = S.paintWaiters;
    S.paintWaiters = [];
    waiters.forEach(function (fn) { requestAnimationFrame(fn); });
  }
  function recordLatency(seen) {
    var now = Date.now();
    if (seen.sampled != null) { sample(W.stats.latency, now - seen.sampled, 5000); }
    if (seen.published != null) { sample(W.stats.latencyPub, now - seen.published, 5000); }
    if (seen.arrived != null) {  // the part spent in this page: message received → visible
      sample(W.stats.inPage, now - seen.arrived, 5000);
    }
  }

  // ------------------------------------------------------------------ panels
  function setKpi(root, key, text, color, sub, subColor) {
    // only the tiles inside root (a panel region); unchanged values are left alone
    var v = root.querySelector('[data-kv="' + key + '"]');
    if (v) {
      if (v.textContent !== text) { v.textContent = text; }
      if (v.style.color !== (color || "")) { v.style.color = color || ""; }
    }
    var s = root.querySelector('[data-ks="' + key + '"]');
    if (s) {
      if (s.innerHTML !== (sub || "")) { s.innerHTML = sub || ""; }
      if (s.style.color !== (subColor || "")) { s.style.color = subColor || ""; }
    }
  }
  function num(v, digits) { return v == null ? "—" : Number(v).toFixed(digits); }

  function renderKpis(root) {
    var K = S.kpis, P = W.cfg.palettes, N = W.cfg.codeNames;
    var tl = K.tpi_level || 0;
    setKpi(root, "tpi", num(K.tpi, 1), tl ? rgb(P.roads[tl]) : "",
           tl ? esc(pick(N.roads[tl])) : "", tl ? rgb(P.roads[tl]) : "");
    setKpi(root, "congested_pct", num(K.congested_pct, 1));
    var al = K.aqi_level || 0;
    setKpi(root, "aqi", K.aqi == null ? "—" : String(K.aqi), al ? rgb(P.air[al]) : "",
           al ? esc(pick(N.air[al])) : "", al ? rgb(P.air[al]) : "");
    setKpi(root, "primary", K.primary && K.primary.length ? K.primary.join(" / ") : "—");
    var low = K.pressure_pct != null && K.pressure_pct < K.pressure_target_pct;
    setKpi(root, "pressure_pct", num(K.pressure_pct, 1), low ? "var(--bad)" : "",
           K.pressure_target_pct != null ? esc(tr("wall.kpi.target")) + " ≥ " + K.pressure_target_pct + "%" : "");
    setKpi(root, "quality_breaches", K.quality_breaches == null ? "—" : String(K.quality_breaches),
           K.quality_breaches ? "var(--level-2)" : "");
    setKpi(root, "alarm2", K.alarm2 == null ? "—" : String(K.alarm2), K.alarm2 ? "var(--level-1)" : "");
    setKpi(root, "alarm1", K.alarm1 == null ? "—" : String(K.alarm1), K.alarm1 ? "var(--level-2)" : "");
    var by = K.incidents_by_level || [0, 0, 0, 0];
    var sub = by.map(function (n, i) {
      return '<span class="lv lv-' + (i + 1) + '">' + ROMAN[i + 1] + " " + n + "</span>";
    }).join(" ");
    setKpi(root, "incidents", K.incidents == null ? "—" : String(K.incidents), "", sub);
    setKpi(root, "units_free", K.units_free == null ? "—" : K.units_free + "/" + K.units_total);
  }

  function ageOf(domain) {
    var elapsed = (performance.now() - S.agesAt) / 1000;
    if (domain === "push") { return (performance.now() - S.lastMsgAt) / 1000; }
    var a = S.ages[domain];
    return a == null ? null : a + elapsed;
  }

  function renderAges(root) {
    var limit = W.cfg.staleAfterS;
    root.querySelectorAll("[data-age]").forEach(function (el) {
      var a = ageOf(el.getAttribute("data-age")), v = el.querySelector(".age-value");
      var text = a == null ? "—" : a.toFixed(1);
      if (v.textContent !== text) { v.textContent = text; }
      var panel = el.closest(".panel");
      if (panel) { panel.classList.toggle("is-stale", a == null || a > limit); }
    });
  }

  function watchdog() {
    if (!S) { return; }
    var limit = W.cfg.staleAfterS;
    var quiet = (performance.now() - S.lastMsgAt) / 1000;
    var dataAge = S.newest == null ? null : ((Date.now() - S.newest) / 1000);
    var ages = Object.keys(S.ages).map(ageOf).filter(function (a) { return a != null; });
    var newestAge = ages.length ? Math.min.apply(null, ages) : dataAge;
    var banner = document.getElementById("wall-stale");
    var msg = "";
    if (quiet > limit || (W.socket && !W.socket.connected)) {
      msg = tr("wall.disconnected");
      // socket looks alive but the server went quiet: reconnect ourselves
      if (W.socket && W.socket.connected && quiet > limit) {
        W.socket.disconnect(); W.socket.connect(); S.lastMsgAt = performance.now();
      }
    } else if (newestAge == null || newestAge > limit) {
      msg = tr("wall.stale").replace("{s}", String(limit));
    }
    if (banner) {
      banner.hidden = !msg;
      if (banner.textContent !== msg) { banner.textContent = msg; }
    }
    markPaint("left", "ages"); markPaint("right", "ages"); markPaint("right", "clock");
    schedulePaint();
  }

  // times on the wall are the city's (China Standard Time, UTC+8), as on the alert and dispatch
  // pages, whatever the time zone of the PC that drives the video wall
  var CITY_UTC_OFFSET_MS = 8 * 3600 * 1000;
  function pad2(x) { return (x < 10 ? "0" : "") + x; }
  function cityTime(ms) {
    var d = new Date(ms + CITY_UTC_OFFSET_MS);
    return pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds());
  }

  function renderClock() {
    var clock = document.getElementById("wall-clock");
    if (!clock) { return; }
    var now = Date.now(), d = new Date(now + CITY_UTC_OFFSET_MS);
    var text = d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) +
      " " + cityTime(now);
    if (clock.textContent !== text) { clock.textContent = text; }
  }

  function tickerText(e) {
    if (!e.derived) { return pick(e.title); }
    var dist = W.cfg.districts[e.district];
    var parts = [dist ? pick(dist) : e.district, tr("wall.metric." + e.metric), e.sensor];
    if (e.fault) { parts.push(tr("wall.ticker.fault") + " #" + e.fault); }
    else { parts.push(tr("wall.ticker.score") + " " + Number(e.score).toFixed(2)); }
    return parts.join(" · ");
  }

  function hhmmss(ms) {
    if (!ms) { return "--:--:--"; }
    return cityTime(ms);
  }

  function renderTicker() {
    var box = document.getElementById("wall-ticker");
    if (!box) { return; }
    var items = S.ticker.items || [];
    var html = "";
    if (S.ticker.derived) {
      html += '<span class="ticker-derived">' + esc(tr("wall.ticker.derived")) + "</span>";
    }
    if (!items.length) {
      html += '<span class="ticker-empty">' + esc(tr("wall.ticker.empty")) + "</span>";
    }
    items.forEach(function (e) {
      html += '<span class="tick lv-' + e.level + '"><b class="badge">' +
        esc(tr("wall.level." + e.level)) + "</b> " + esc(hhmmss(e.ts)) + " " +
        esc(tickerText(e)) + "</span>";
    });
    if (S.tickerHtml !== html) { S.tickerHtml = html; box.innerHTML = html; }
  }

  // ------------------------------------------------------------------ charts
  function drawChart(canvas, t, v, band, color) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) { return; }
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); }
    if (canvas.height !== Math.round(h * dpr)) { canvas.height = Math.round(h * dpr); }
    var g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var xs = t, ys = v;  // read only
    var allT = xs.concat(band ? band.t : []);
    var allY = ys.concat(band ? band.lo.concat(band.hi) : []).filter(function (y) { return y != null && isFinite(y); });
    if (!allY.length || !allT.length) { return; }
    var t0 = Math.min.apply(null, allT), t1 = Math.max.apply(null, allT);
    var y0 = Math.min.apply(null, allY), y1 = Math.max.apply(null, allY);
    if (y1 - y0 < 1e-9) { y0 -= 1; y1 += 1; }
    var pad = (y1 - y0) * 0.1; y0 -= pad; y1 += pad;
    if (t1 - t0 < 1) { t0 -= 1000; t1 += 1000; }
    var X = function (x) { return 4 + (x - t0) / (t1 - t0) * (w - 8); };
    var Y = function (y) { return h - 14 - (y - y0) / (y1 - y0) * (h - 20); };
    g.strokeStyle = "rgba(138,155,184,0.25)"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, h - 14); g.lineTo(w, h - 14); g.stroke();
    if (band && band.t.length) {
      g.fillStyle = "rgba(58,160,255,0.22)";
      g.beginPath();
      band.t.forEach(function (x, i) { var px = X(x), py = Y(band.hi[i]); if (i) { g.lineTo(px, py); } else { g.moveTo(px, py); } });
      for (var i = band.t.length - 1; i >= 0; i--) { g.lineTo(X(band.t[i]), Y(band.lo[i])); }
      g.closePath(); g.fill();
      g.setLineDash([4, 3]); g.strokeStyle = "rgba(58,160,255,0.9)"; g.beginPath();
      band.t.forEach(function (x, i) { var px = X(x), py = Y(band.yhat[i]); if (i) { g.lineTo(px, py); } else { g.moveTo(px, py); } });
      g.stroke(); g.setLineDash([]);
    }
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    var started = false;
    for (var k = 0; k < xs.length; k++) {
      if (ys[k] == null) { started = false; continue; }
      if (started) { g.lineTo(X(xs[k]), Y(ys[k])); } else { g.moveTo(X(xs[k]), Y(ys[k])); started = true; }
    }
    g.stroke();
    // the page's font, read once (getComputedStyle per chart forced a style recalc)
    g.fillStyle = "rgba(200,210,230,0.8)"; g.font = "11px " + (S ? S.fontFamily : "sans-serif");
    g.fillText(fmtAxis(y1 - pad), 6, 12);
    g.fillText(fmtAxis(y0 + pad), 6, h - 17);
  }
  function fmtAxis(y) { return Math.abs(y) >= 100 ? y.toFixed(0) : y.toFixed(1); }

  function renderCharts(root) {
    root.querySelectorAll("canvas[data-series]").forEach(function (c) {
      var name = c.getAttribute("data-series");
      drawChart(c, S.series.t || [], S.series[name] || [], S.bands[name], "#3aa0ff");
    });
  }

  // ------------------------------------------------------------------ map interaction
  function codeLabel(layer, code) {
    var keys = W.cfg.codeLabels[layer];
    if (keys) { return tr(keys[code] || keys[0]); }
    var names = W.cfg.codeNames[layer];
    return names ? pick(names[code] || names[0]) : "";
  }

  function tooltip(info) {
    var o = info.object, layer = info.layer;
    if (!o || !layer) { return null; }
    var id = info.kind || layer.id, lines = [];
    lines.push("<b>" + esc(tr("wall.layer." + id)) + "</b>");
    if (id === "cells") {
      var dist = W.cfg.districts[o.district];
      lines.push(esc(dist ? pick(dist) : o.district) + " · " + esc(o.cell));
      lines.push(esc(codeLabel("cells", S.codes.cells[info.index])));
    } else if (id === "roads") {
      lines.push(esc(o.name) + " · " + esc(o.segment));
      lines.push(esc(codeLabel("roads", S.codes.roads[info.index])));
    } else if (id === "air" || id === "hazard" || id === "water") {
      lines.push(esc(lang() === "en" ? (o.name_en || o.id) : (o.name_zh || o.id)) + " · " + esc(o.id));
      lines.push(esc(codeLabel(id, S.codes[id][info.index])));
    } else if (id === "units") {
      lines.push(esc(o.id) + " · " + esc(tr("wall.unit." + o.group)) + " · " +
                 esc(tr("wall.unit." + o.state)) + (o.home ? " " + esc(tr("wall.unit.at_station")) : ""));
    } else if (id === "incidents") {
      lines.push(esc(pick(o.title)) + " · " + esc(tr("wall.level." + o.level)));
    }
    return { html: lines.join("<br>"), className: "wall-tooltip",
             style: { background: "rgba(18,27,46,0.95)", color: "#e6edf7", fontSize: "0.9rem",
                      border: "1px solid #3aa0ff", borderRadius: "4px", padding: "6px 8px" } };
  }

  function onClick(info) {
    var o = info.object, layer = info.layer;
    if (!o || !layer) { return; }
    var id = info.kind || layer.id;
    var key = id === "cells" ? o.cell : id === "roads" ? o.segment : o.id;
    if (["cells", "roads", "air", "water", "hazard"].indexOf(id) < 0) {
      showDetail({ layer: id, id: key, name: o.title || null, sensors: [] });
      return;
    }
    var panel = document.getElementById("wall-detail");
    panel.hidden = false;
    panel.innerHTML = '<div class="detail-loading">' + esc(tr("wall.detail.loading")) + "</div>";
    fetch("/wall/detail?layer=" + encodeURIComponent(id) + "&id=" + encodeURIComponent(key))
      .then(function (r) { return r.json(); }).then(showDetail)
      .catch(function (e) { console.warn("wall: detail failed", e); });
  }
  W.openDetail = onClick;

  function showDetail(d) {
    var panel = document.getElementById("wall-detail");
    panel.hidden = false;
    var title = (d.name ? pick(d.name) + " · " : "") + d.id;
    var html = '<div class="detail-head"><b>' + esc(tr("wall.layer." + d.layer)) + "</b> " +
      esc(title) + '<button class="detail-close">' + esc(tr("wall.detail.close")) + "</button></div>";
    if (d.district) { html += '<div class="muted">' + esc(tr("wall.detail.district")) + ": " + esc(pick(d.district)) + "</div>"; }
    if (!d.sensors.length) { html += '<div class="muted">' + esc(tr("wall.detail.no_sensors")) + "</div>"; }
    d.sensors.forEach(function (s, i) {
      html += '<div class="detail-sensor"><div class="detail-row"><b>' + esc(tr("wall.metric." + s.metric)) +
        "</b> " + esc(s.id) + "</div><div class=\"detail-row\">" + esc(tr("wall.detail.value")) + ": " +
        (s.value == null ? "—" : esc(Number(s.value).toPrecision(4)) + " " + esc(s.unit)) + " · " +
        esc(tr("wall.detail.score")) + ": " + (s.score == null ? "—" : Number(s.score).toFixed(2)) +
        (s.band ? "" : " · " + esc(tr("wall.detail.no_forecast"))) +
        '</div><canvas class="detail-chart" data-i="' + i + '"></canvas></div>';
    });
    panel.innerHTML = html;
    panel.querySelector(".detail-close").addEventListener("click", function () { panel.hidden = true; });
    d.sensors.forEach(function (s, i) {
      var c = panel.querySelector('canvas[data-i="' + i + '"]');
      var t = s.window.t.slice(), v = s.window.v.slice();
      if (s.ts != null && (!t.length || s.ts > t[t.length - 1])) { t.push(s.ts); v.push(s.value); }
      drawChart(c, t, v, s.band, "#f1c40f");
    });
  }

  // ------------------------------------------------------------------ toggles, legend, language
  function setupToggles() {
    document.querySelectorAll("#wall-toggles [data-layer]").forEach(function (btn) {
      btn.classList.add("is-on");
      btn.setAttribute("aria-pressed", "true");
      btn.addEventListener("click", function () {
        var id = btn.getAttribute("data-layer"), on = !S.visible[id];
        S.visible[id] = on;
        btn.classList.toggle("is-on", on);
        btn.setAttribute("aria-pressed", on ? "true" : "false");
        S.dirty.layers.toggle = true; schedule();
      });
    });
  }

  function swatches(title, colors, names) {
    var html = '<div class="legend-block"><div class="legend-title">' + esc(title) + "</div>";
    colors.forEach(function (c, i) {
      if (names[i] == null) { return; }
      html += '<span class="sw"><i style="background:' + rgba([c[0], c[1], c[2], 255]) + '"></i>' + esc(names[i]) + "</span>";
    });
    return html + "</div>";
  }

  function legend() {
    var box = document.getElementById("wall-legend");
    if (!box) { return; }
    var P = W.cfg.palettes, N = W.cfg.codeNames;
    box.innerHTML =
      swatches(tr("wall.legend.roads"), P.roads.slice(1), N.roads.slice(1).map(pick)) +
      swatches(tr("wall.legend.air"), P.air.slice(1), N.air.slice(1).map(pick)) +
      swatches(tr("wall.legend.cells"), P.cells.slice(2), W.cfg.codeLabels.cells.slice(2).map(tr)) +
      swatches(tr("wall.legend.levels"), P.incidents, [1, 2, 3, 4].map(function (i) { return tr("wall.level." + i); }));
  }

  function translate() {
    document.querySelectorAll("#wall-root [data-t]").forEach(function (el) {
      var key = el.getAttribute("data-t");
      var txt = tr(key);
      if (el.textContent !== txt) { el.textContent = txt; }
    });
  }

  function onLanguage() {
    translate(); legend();
    S.dirty.kpis = true; S.dirty.ticker = true; S.dirty.layers.text = true;
    schedule(); watchdog();
  }
})();
