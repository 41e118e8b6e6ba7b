/* CodedMapLayer: map objects coloured by a status code; CodedMapPair: two canvases taking turns.
 *
 * Why not ScatterplotLayer / PathLayer / PolygonLayer: those draw one GPU *instance* per
 * object or per path segment, and a software GL (SwiftShader, what a headless wall PC without
 * a GPU runs) pays a fixed cost per instance — about 20-40 µs, so 12 000 road segments took
 * ~0.9 s per frame. Here every object is expanded once, on the CPU, into plain indexed
 * triangles (a quad per line segment or point, a fan per grid cell), so a kind of object is a
 * few ordinary draw calls. Sizes stay in screen pixels (the extrusion is done in the vertex
 * shader), so pan/zoom look like the stock layers.
 *
 * Why two canvases: even so, a software GL spends about 1 µs per primitive. The 21 000
 * objects of a large city are ~38 000 triangles and lines, 35-60 ms of rasterising, and
 * Chromium's software compositor reads a changed, shown WebGL canvas back at the end of the
 * frame, waiting for all of it: drawing an update in one frame stretched that frame to 50-80
 * ms (measured in headless Chromium, bench/wall.py). So on a software GL the same layer sits
 * on two stacked canvases (CodedMapPair): the hidden one draws the next update a bounded
 * number of primitives per animation frame (each chunk followed by a fence + flush, so that
 * the GL runs it in the background: ANGLE would otherwise hold the whole render pass until
 * the next readback), and once complete the two swap their CSS visibility. Chromium never
 * reads a hidden canvas back, so no frame waits for more than one chunk, and showing the
 * update costs one readback (1-5 ms) instead of a full-canvas copy on the GL (~13 ms). A view
 * change (pan/zoom), a toggle or a picking pass draws the shown canvas directly, as before,
 * with the newest codes.
 *
 * Updates are colour-only: the page mutates the code arrays (one Uint8Array entry per object)
 * in place and calls pair.requestUpdate([kind ids], tag); only one byte per vertex (its
 * object's code; palette and sizes are compiled into the shader) and the re-sorted road
 * index lists are uploaded — the geometry is built when `kinds` change. The pair's
 * onPresent(tags) is called when the updates with those tags are on screen.
 *
 * Kinds: {id, mode: "lines" | "points" | "polygons", data (rows; lines read row.path =
 * [[lon, lat], ...], points row.p = [lon, lat], polygons row.polygon = a convex ring such as
 * an H3 cell), palette ([[r, g, b, a], ...] by code), pixelSizes ([px by code]: line width or
 * point radius), stroke ([r, g, b, a] ring, points only), thinBelow (lines only: segments
 * narrower than this many pixels are drawn as 1-px GL lines, 2 vertices and no extrusion,
 * re-sorted when codes change — a software GL's cost is mostly per primitive and per span)}.
 * Drawn in order, later kinds on top; picking reports info.kind and the row as info.index.
 *   var pair = new CodedMapPair({primitivesPerFrame: 6000, onPresent: fn});
 *   deckA.setProps({layers: [new CodedMapLayer({id: "coded", kinds, codes: {roads: ...},
 *                    hidden: {}, pair, slot: "a", primitivesPerFrame: 6000, pickable: true})]});
 *   deckB.setProps(... the same with slot: "b" ...);  pair.requestUpdate(["roads"], tag);
 * Without primitivesPerFrame (a GPU) one deck and one slot: updates are drawn directly.
 * CodedLayer is the same for one kind given as its own props (mode, data, codes, palette,
 * pixelSizes, stroke, thinBelow), drawn directly: the static district outlines.
 */
(function () {
  "use strict";
  if (!window.deck || !window.luma || window.deck.CodedMapLayer) { return; }
  var deck = window.deck, luma = window.luma;

  var VS = "#version 300 es\n#define SHADER_NAME coded-layer-vs\n" +
    "in vec2 commonHi;\nin vec2 commonLo;\nin vec2 dirs;\nin vec2 corners;\n" +
    "in float codes;\nin vec3 pickingColors;\n" +
    "out vec4 vColor;\nout vec2 vUv;\n" +
    // the kind's palette and sizes by code, compiled in: an update uploads one byte per vertex
    "const vec4 PALETTE[CODED_N] = vec4[CODED_N](CODED_PALETTE);\n" +
    "const float SIZES[CODED_N] = float[CODED_N](CODED_SIZES);\n" +
    "void main(void) {\n" +
    "  int code = int(codes * 255.0 + 0.5);\n" +
    "  if (code >= CODED_N) { code = 0; }\n" +
    "  float sizes = SIZES[code];\n" +
    "  geometry.pickingColor = pickingColors;\n" +
    // Web Mercator "common" coordinates computed once on the CPU (float64 split in two
    // float32): no log/tan per vertex; relative to the view's origin in deck's offset mode
    "  vec2 cpos = (commonHi - project.commonOrigin.xy) + commonLo;\n" +
    "  geometry.position = vec4(cpos, 0.0, 1.0);\n" +
    "  vec4 p = project_common_position_to_clipspace(geometry.position);\n" +
    "#ifdef CODED_POINTS\n" +
    "  vec2 offset = corners * sizes;\n" +
    "#elif defined(CODED_FLAT)\n" +
    // 1-px lines and polygon fills: the vertices are the geometry, no extrusion
    "  vec2 offset = vec2(0.0);\n" +
    "#else\n" +
    // the segment's direction in common (Web Mercator) space, precomputed: one projection
    // per vertex instead of two
    "  vec2 d = (project.viewProjectionMatrix * vec4(dirs, 0.0, 0.0)).xy * project.viewportSize;\n" +
    "  d = length(d) > 0.0 ? normalize(d) : vec2(1.0, 0.0);\n" +
    "  vec2 offset = vec2(-d.y, d.x) * corners.x * sizes * 0.5;\n" +
    "#endif\n" +
    "  vUv = corners;\n" +
    "  geometry.uv = corners;\n" +
    "  gl_Position = p + vec4(project_pixel_size_to_clipspace(offset), 0.0, 0.0);\n" +
    "  vec4 colors = PALETTE[code] / 255.0;\n" +
    "  vColor = vec4(colors.rgb, colors.a * layer.opacity);\n" +
    "  DECKGL_FILTER_COLOR(vColor, geometry);\n" +
    "}\n";
  var FS = "#version 300 es\n#define SHADER_NAME coded-layer-fs\nprecision highp float;\n" +
    "in vec4 vColor;\nin vec2 vUv;\nout vec4 fragColor;\n" +
    "void main(void) {\n" +
    "  fragColor = vColor;\n" +
    "#ifdef CODED_POINTS\n" +
    "  float r = length(vUv);\n" +
    "  if (r > 1.0) { discard; }\n" +
    "#ifdef CODED_RING\n" +
    "  if (r > 0.74 && !bool(picking.isActive)) { fragColor = vec4(CODED_RING); }\n" +
    "#endif\n" +
    "#endif\n" +
    "  geometry.uv = vUv;\n" +
    "  DECKGL_FILTER_COLOR(fragColor, geometry);\n" +
    "}\n";

  var LAYOUT = [
    ["commonHi", "float32x2"], ["commonLo", "float32x2"], ["dirs", "float32x2"],
    ["corners", "float32x2"], ["codes", "unorm8"], ["pickingColors", "uint8x4"]
  ].map(function (a) {
    var bytes = { float32x2: 8, unorm8: 1, uint8x4: 4 }[a[1]];
    return { name: a[0], byteStride: bytes, stepMode: "vertex",
             attributes: [{ attribute: a[0], format: a[1], byteOffset: 0 }] };
  });
  // the four corners of a quad (side ±1, end ±1) and its two triangles (as indices)
  var CORNERS = [[-1, -1], [1, -1], [-1, 1], [1, 1]];
  var QUAD = [0, 1, 2, 1, 3, 2];
  var DEG = Math.PI / 180;
  var WORLD = 512 / (2 * Math.PI);  // deck's common space: the world is 512 units wide
  // GL cost of one primitive of each part on a software GL, in short 1-px road lines (~0.8 µs
  // with SwiftShader at the default view: a grid cell's triangle ~1.1 µs, a wide road's or a
  // station's quad ~2.1 µs), and of one draw call (~0.3 ms)
  var COST = { thin: 1, wide: 2.6, points: 2.6, fill: 1.35 };
  var DRAW_COST = 400;
  var MIN_CHUNK_INTERVAL_MS = 12;
  // what deck's own draws use (Deck sets it once per context); depth is irrelevant in 2D
  var JOB_GL = { blend: true, blendFunc: [770, 771, 1, 771], blendEquation: 32774,
                       depthTest: false, scissorTest: false, cull: false };

  function mercY(lat) { return Math.log(Math.tan(Math.PI / 4 + lat * DEG / 2)); }
  function ringLength(ring) {
    var m = ring ? ring.length : 0;
    if (m > 1 && ring[0][0] === ring[m - 1][0] && ring[0][1] === ring[m - 1][1]) { m--; }
    return m;
  }
  function sameView(a, b) { return a === b || Boolean(a && b && a.equals(b)); }

  function geometry(rows, mode) {
    // vertices (Web Mercator common coordinates as hi + lo float32, the segment's unit
    // direction, the quad corner, the row each vertex belongs to) and the triangle indices
    var q = 0, n = 0, r, k;
    if (mode === "points") { q = rows.length; n = 4 * q; } else if (mode === "polygons") {
      for (r = 0; r < rows.length; r++) {
        var m0 = ringLength(rows[r].polygon);
        if (m0 >= 3) { n += m0; q += m0 - 2; }
      }
    } else {
      for (r = 0; r < rows.length; r++) { q += Math.max(0, rows[r].path.length - 1); }
      n = 4 * q;
    }
    var g = { n: n, prims: q, hi: new Float32Array(n * 2), lo: new Float32Array(n * 2),
              dirs: new Float32Array(n * 2), corners: new Float32Array(n * 2),
              obj: new Uint32Array(n), idx: new Uint32Array(q * (mode === "polygons" ? 3 : 6)),
              // polygons: where each row's triangles start in idx
              rowStart: mode === "polygons" ? new Uint32Array(rows.length + 1) : null };
    var v = 0, i = 0;
    function vertex(p, dx, dy, cx, cy, row) {
      var x = WORLD * (p[0] * DEG + Math.PI), y = WORLD * (Math.PI + mercY(p[1]));
      g.hi[v * 2] = x; g.hi[v * 2 + 1] = y;
      g.lo[v * 2] = x - g.hi[v * 2]; g.lo[v * 2 + 1] = y - g.hi[v * 2 + 1];
      g.dirs[v * 2] = dx; g.dirs[v * 2 + 1] = dy;
      g.corners[v * 2] = cx; g.corners[v * 2 + 1] = cy;
      g.obj[v] = row; v++;
    }
    function quad(a, b, row) {
      var dx = 0, dy = 0;
      if (b) {
        dx = (b[0] - a[0]) * DEG; dy = mercY(b[1]) - mercY(a[1]);
        var len = Math.sqrt(dx * dx + dy * dy) || 1;
        dx /= len; dy /= len;
      }
      for (k = 0; k < 6; k++) { g.idx[i++] = v + QUAD[k]; }
      for (k = 0; k < 4; k++) {
        vertex(b && CORNERS[k][1] > 0 ? b : a, dx, dy, CORNERS[k][0], CORNERS[k][1], row);
      }
    }
    for (r = 0; r < rows.length; r++) {
      if (mode === "points") { quad(rows[r].p, null, r); continue; }
      if (mode === "polygons") {
        var ring = rows[r].polygon, m = ringLength(ring), first = v;
        g.rowStart[r] = i; g.rowStart[r + 1] = i;
        if (m < 3) { continue; }
        for (k = 0; k < m; k++) { vertex(ring[k], 0, 0, 0, 0, r); }
        // a fan: grid cells (H3 hexagons, squares) are convex
        for (k = 1; k + 1 < m; k++) { g.idx[i++] = first; g.idx[i++] = first + k; g.idx[i++] = first + k + 1; }
        g.rowStart[r + 1] = i;
        continue;
      }
      var path = rows[r].path;
      for (var s = 0; s + 1 < path.length; s++) { quad(path[s], path[s + 1], r); }
    }
    return g;
  }

  // the draw units of a kind; their index lists are rebuilt from the codes on each update
  // (objects whose colour is fully transparent are left out; picking draws all of them)
  function partsOf(kind, g) {
    function part(name, topology, ipp, size) {
      return { name: name, topology: topology, ipp: ipp, cost: COST[name],
               idx: new Uint32Array(size), count: 0, chunks: [], used: 0, model: null };
    }
    if (kind.mode === "polygons") { return [part("fill", "triangle-list", 3, g.idx.length)]; }
    if (kind.mode === "points") { return [part("points", "triangle-list", 6, g.idx.length)]; }
    if (kind.thinBelow > 0) {
      // free-flowing roads as 1-px lines below, the wide (congested) ones drawn on top
      return [part("thin", "line-list", 2, g.prims * 2), part("wide", "triangle-list", 6, g.idx.length)];
    }
    return [part("wide", "triangle-list", 6, g.idx.length)];
  }

  // the palette and sizes by code as GLSL literals (a missing size: the first one)
  function shaderTables(palette, pixelSizes) {
    var n = palette.length;
    var pal = palette.map(function (c) {
      return "vec4(" + [c[0], c[1], c[2], c[3] === undefined ? 255 : c[3]].map(function (x) {
        return Number(x).toFixed(1);
      }).join(",") + ")";
    });
    var sizes = [];
    for (var c = 0; c < n; c++) {
      var px = pixelSizes[c] === undefined ? pixelSizes[0] : pixelSizes[c];
      sizes.push(Number(px || 0).toFixed(3));
    }
    return { CODED_N: n, CODED_PALETTE: pal.join(","), CODED_SIZES: sizes.join(",") };
  }

  // Two canvases take turns: the hidden one ("back") draws the next update a chunk per frame,
  // then the two swap their CSS visibility. Chromium reads a WebGL canvas back only while it
  // is shown, so no frame waits for more than a chunk of GL work, and showing an update costs
  // one readback (1-5 ms) instead of a full-canvas copy on the GL (~13 ms with SwiftShader).
  class CodedMapPair {
    constructor(opts) {
      var o = opts || {};
      this.budget = o.primitivesPerFrame > 0 ? o.primitivesPerFrame : Infinity;
      this.onPresent = o.onPresent || null;
      this.layers = {};       // slot ("a" / "b") -> the live layer drawing on that canvas
      this.front = "a";
      this.tags = [];         // updates requested and not shown yet
      this.job = null;
      this.raf = 0;
      this.chunkAt = -Infinity;
      // updates shown by a swap, frames that drew a chunk, direct draws (tests, bench)
      this.counts = { presented: 0, chunkFrames: 0, direct: 0 };
    }
    progressive() { return this.budget !== Infinity && Boolean(this.layers.a && this.layers.b); }
    backSlot() { return this.front === "a" ? "b" : "a"; }
    frontLayer() { return this.layers[this.front] || null; }
    attach(slot, layer) {
      this.layers[slot] = layer;
      this.showFront();
    }
    detach(slot, layer) {
      if (this.layers[slot] === layer) { delete this.layers[slot]; }
      if (this.job && this.job.slot === slot) { this.abortJob(); }
    }
    showFront() {
      var self = this;
      ["a", "b"].forEach(function (slot) {
        var l = self.layers[slot], c = l && l.context && l.context.deck && l.context.deck.getCanvas();
        var want = slot === self.front || !self.progressive() ? "visible" : "hidden";
        if (c && c.style.visibility !== want) { c.style.visibility = want; }
      });
    }
    // the page mutated the code arrays of `ids` (all kinds when null) in place
    requestUpdate(ids, tag) {
      var self = this;
      Object.keys(this.layers).forEach(function (slot) { self.layers[slot].markDirty(ids); });
      if (tag) { this.tags.push(tag); }
      if (!this.progressive()) {
        var f = this.frontLayer();
        if (f) { f.setNeedsRedraw(); }
        return;
      }
      // from an animation frame callback (the page's render) a new job starts in this frame
      if (!this.job && !this.raf) { this.step(); } else { this.schedule(); }
    }
    schedule() {
      var self = this;
      if (!this.raf) { this.raf = requestAnimationFrame(function () { self.raf = 0; self.step(); }); }
    }
    abortJob() {
      if (this.job) { this.tags = this.job.tags.concat(this.tags); this.job = null; }
    }
    shown(tags) {
      if (this.onPresent && tags.length) { this.onPresent(tags); }
    }
    // the front canvas drew everything directly with the newest codes (a view change, a
    // toggle, the first draw): every update requested so far is on screen
    drewDirectly(slot) {
      if (slot !== this.front) { return; }
      this.abortJob();
      var tags = this.tags;
      this.tags = [];
      this.counts.direct++;
      this.shown(tags);
    }
    // the back canvas was cleared by its deck: a job drawing there starts again
    backCleared(slot) {
      if (this.job && this.job.slot === slot) { this.abortJob(); this.schedule(); }
    }
    step() {
      // one animation frame: start a job on the back canvas, draw a chunk, or swap
      var back = this.layers[this.backSlot()];
      if (!this.progressive() || !back.state.kinds) { return; }
      var d = back.context.deck, vp = d.getViewports()[0];
      if (this.job && !sameView(vp, this.job.viewport)) { this.abortJob(); }
      if (!this.job) {
        if (!back.pendingDirty() && !this.tags.length) { return; }
        if (!back.drawnFor(vp)) {
          d.redraw("coded: uniforms for this view");  // hidden canvas: clears, records
          if (!back.drawnFor(vp)) { this.schedule(); return; }
        }
        back.applyDirty();
        this.job = { slot: this.backSlot(), layer: back, viewport: vp, queue: back.chunkQueue(),
                     cleared: false, tags: this.tags };
        this.tags = [];
      }
      var job = this.job, now = performance.now();
      if (job.queue.length) {
        // at most one chunk per frame interval, even when a late animation frame callback
        // and the next one run back to back: two chunks' GL at once delayed the frame after
        if (now - this.chunkAt < MIN_CHUNK_INTERVAL_MS) { this.schedule(); return; }
        this.chunkAt = now;
        back.drawChunks(job, this.budget);
        this.counts.chunkFrames++;
        this.schedule();
        return;
      }
      // every chunk was submitted in an earlier frame: show that canvas, hide the other
      this.front = this.backSlot();
      this.job = null;
      this.showFront();
      this.counts.presented++;
      this.shown(job.tags);
      if (this.tags.length || this.layers[this.backSlot()].pendingDirty()) { this.schedule(); }
    }
  }

  class CodedMapLayer extends deck.Layer {
    // ---------------------------------------------------------------- the kinds
    kindSpecs() { return this.props.kinds || []; }
    codeArray(id) { var c = this.props.codes; return c ? c[id] : null; }
    needsRebuild(params) {
      return params.changeFlags.dataChanged || params.props.kinds !== params.oldProps.kinds;
    }

    initializeState() {
      Object.assign(this.state, { kinds: null, dirty: {}, drawn: null, hiddenKey: null });
    }

    updateState(params) {
      super.updateState(params);
      var props = params.props, st = this.state;
      if (!st.kinds || this.needsRebuild(params) ||
          props.primitivesPerFrame !== params.oldProps.primitivesPerFrame) {
        this.build();
      } else if (this.codesChanged(params)) {
        this.markDirty(null);
      }
      var hidden = props.hidden || {};
      st.kinds.forEach(function (k) {
        k.codes = this.codeArray(k.id) || null;
        k.hidden = Boolean(hidden[k.id]);
      }, this);
      var key = st.kinds.map(function (k) { return k.hidden ? "0" : "1"; }).join("");
      if (key !== st.hiddenKey) {
        st.hiddenKey = key;  // a toggle: deck redraws on new props, the front directly
        if (props.pair && props.pair.job && props.pair.job.slot === props.slot) { props.pair.abortJob(); }
      }
      if (props.pair) { props.pair.attach(props.slot, this); }
    }
    codesChanged(params) {
      var p = params.props, o = params.oldProps, f = params.changeFlags.updateTriggersChanged;
      return p.codes !== o.codes || Boolean(f && (f.all || f.getCode));
    }

    build() {
      this.destroyResources();
      var st = this.state, device = this.context.device, self = this, offset = 0;
      st.budget = this.props.primitivesPerFrame > 0 ? this.props.primitivesPerFrame : Infinity;
      st.kinds = this.kindSpecs().map(function (spec) {
        var rows = spec.data || [], g = geometry(rows, spec.mode || "lines");
        var kind = {
          id: spec.id, mode: spec.mode || "lines", rows: rows, geom: g, offset: offset,
          palette: spec.palette && spec.palette.length ? spec.palette : [[128, 128, 128, 255]],
          pixelSizes: spec.pixelSizes && spec.pixelSizes.length ? spec.pixelSizes : [1],
          thinBelow: spec.thinBelow || 0, stroke: spec.stroke || null,
          codes: self.codeArray(spec.id) || null, hidden: false, codeData: new Uint8Array(g.n)
        };
        // codes whose colour is fully transparent (their objects are left out of the draws)
        kind.clear = kind.palette.map(function (c) { return c[3] === 0; });
        offset += rows.length;
        // picking colours: the object's index over all kinds (getPickingInfo maps it back)
        var pick = new Uint8Array(g.n * 4), rgb = [0, 0, 0];
        for (var v = 0; v < g.n; v++) {
          self.encodePickingColor(kind.offset + g.obj[v], rgb);
          pick[v * 4] = rgb[0]; pick[v * 4 + 1] = rgb[1]; pick[v * 4 + 2] = rgb[2];
        }
        function buffer(data) {
          return device.createBuffer({ usage: luma.Buffer.VERTEX | luma.Buffer.COPY_DST,
                                       data: data.length ? data : new Float32Array(4) });
        }
        kind.buffers = {
          commonHi: buffer(g.hi), commonLo: buffer(g.lo), dirs: buffer(g.dirs),
          corners: buffer(g.corners), pickingColors: buffer(pick), codes: buffer(kind.codeData)
        };
        kind.parts = partsOf(kind, g);
        kind.parts.forEach(function (part) { part.model = self.makeModel(kind, part); });
        // picking draws every object (a grid cell without data still has a tooltip) with the
        // quad / fill model
        kind.pickModel = kind.parts[kind.parts.length - 1].model;
        kind.pickIndices = device.createBuffer({ usage: luma.Buffer.INDEX, indexType: "uint32",
                                                 data: g.idx.length ? g.idx : new Uint32Array(3) });
        st.dirty[kind.id] = true;
        return kind;
      });
      st.models = [];
      st.kinds.forEach(function (k) { k.parts.forEach(function (p) { st.models.push(p.model); }); });
      st.hiddenKey = null; st.drawn = null;
      this.applyDirty();
    }

    makeModel(kind, part) {
      var defines = shaderTables(kind.palette, kind.pixelSizes);
      if (kind.mode === "points") { defines.CODED_POINTS = 1; }
      if (part.name === "thin" || part.name === "fill") { defines.CODED_FLAT = 1; }
      if (kind.stroke) {
        defines.CODED_RING = "vec4(" + kind.stroke.map(function (x) { return (x / 255).toFixed(4); }).join(",") + ")";
      }
      var shaders = this.getShaders({ vs: VS, fs: FS, modules: [deck.project32, deck.picking], defines: defines });
      return new luma.Model(this.context.device, Object.assign(shaders, {
        id: this.props.id + "-" + kind.id + "-" + part.name, bufferLayout: LAYOUT,
        topology: part.topology, isInstanced: false, vertexCount: 0, attributes: kind.buffers
      }));
    }

    // ---------------------------------------------------------------- codes → buffers
    markDirty(ids) {
      var st = this.state;
      if (!st.kinds) { return; }
      (ids || st.kinds.map(function (k) { return k.id; })).forEach(function (id) { st.dirty[id] = true; });
    }
    pendingDirty() {
      var st = this.state;
      return Boolean(st.kinds) && st.kinds.some(function (k) { return st.dirty[k.id]; });
    }
    applyDirty() {
      var st = this.state, self = this;
      st.kinds.forEach(function (kind) {
        if (!st.dirty[kind.id]) { return; }
        st.dirty[kind.id] = false;
        self.fillCodes(kind);
        self.sortByCode(kind);
        kind.parts.forEach(function (part) { self.chunkUp(part); });
      });
    }
    fillCodes(kind) {
      // one byte per vertex: its object's code (the shader looks up colour and size)
      var g = kind.geom, out = kind.codeData, codes = kind.codes, obj = g.obj;
      if (codes) {
        for (var v = 0; v < g.n; v++) { out[v] = codes[obj[v]]; }
      } else { out.fill(0); }
      if (g.n) { kind.buffers.codes.write(out); }
    }
    sortByCode(kind) {
      // the parts' index lists: invisible objects (alpha 0, e.g. grid cells without data) left
      // out; road segments at least thinBelow px wide as quads (6 indices), the others as one
      // GL line (their two centre-line ends: corners 0 and 2 of the quad)
      var g = kind.geom, out = kind.codeData, idx = g.idx, n = kind.palette.length;
      var clear = kind.clear;
      var part = kind.parts[0], k, m = 0;
      if (kind.mode === "polygons") {
        for (var r = 0; r + 1 < g.rowStart.length; r++) {
          var a = g.rowStart[r], b = g.rowStart[r + 1], c0 = a < b ? out[idx[a]] : 0;
          if (a === b || clear[c0 < n ? c0 : 0]) { continue; }
          for (k = a; k < b; k++) { part.idx[m++] = idx[k]; }
        }
        part.count = m / 3;
        return;
      }
      var thin = kind.thinBelow > 0 ? kind.parts[0] : null, wide = kind.parts[thin ? 1 : 0];
      var sizes = kind.pixelSizes, limit = thin ? kind.thinBelow : -Infinity, nt = 0, nw = 0;
      for (var s = 0; s < g.prims; s++) {
        var v = s * 4, c = out[v];
        if (c >= n) { c = 0; }
        if (clear[c]) { continue; }
        var w = sizes[c] === undefined ? sizes[0] : sizes[c];
        if (w >= limit) {
          for (k = 0; k < 6; k++) { wide.idx[nw++] = idx[s * 6 + k]; }
        } else { thin.idx[nt++] = v; thin.idx[nt++] = v + 2; }
      }
      wide.count = nw / 6;
      if (thin) { thin.count = nt / 2; }
    }
    chunkUp(part) {
      // the part's current index list cut into index buffers of at most one frame's budget;
      // each is written when it is next drawn (so a job's uploads spread over its frames)
      var device = this.context.device, cap = this.chunkCap(part), k = 0;
      for (var a = 0; a < part.count; a += cap, k++) {
        var b = Math.min(part.count, a + cap), ch = part.chunks[k];
        if (!ch) {
          ch = part.chunks[k] = { count: 0, first: 0, stale: true, buffer: device.createBuffer({
            usage: luma.Buffer.INDEX | luma.Buffer.COPY_DST, indexType: "uint32",
            byteLength: cap * part.ipp * 4 }) };
        }
        ch.first = a * part.ipp; ch.count = (b - a) * part.ipp; ch.stale = true;
      }
      part.used = k;
    }
    chunkCap(part) {
      var all = Math.max(1, part.idx.length / part.ipp);
      var budget = this.state.budget;
      if (budget === Infinity) { return all; }
      return Math.max(1, Math.min(all, Math.floor((budget - DRAW_COST) / part.cost)));
    }
    chunkQueue() {
      var queue = [];
      this.state.kinds.forEach(function (kind) {
        if (kind.hidden) { return; }
        kind.parts.forEach(function (part) {
          for (var k = 0; k < part.used; k++) { queue.push([part, part.chunks[k]]); }
        });
      });
      return queue;
    }

    // ---------------------------------------------------------------- drawing
    drawnFor(vp) {
      var d = this.state.drawn, size = this.context.device.canvasContext.getDrawingBufferSize();
      return Boolean(d) && sameView(vp, d.viewport) && d.size[0] === size[0] && d.size[1] === size[1];
    }
    drawChunks(job, budget) {
      // chunks of the job into this (hidden) canvas, up to `budget` primitives
      var st = this.state, device = this.context.device, gl = device.gl, self = this;
      // the projection of this canvas's last draw of the same view (a picking pass in
      // between may have left other uniforms in the models)
      this.setShaderModuleProps(st.drawn.props);
      var pass = device.beginRenderPass({
        parameters: { viewport: st.drawn.glViewport },
        clearColor: job.cleared ? false : [0, 0, 0, 0], clearDepth: false, clearStencil: false
      });
      job.cleared = true;
      device.withParametersWebGL(JOB_GL, function () {
        var used = 0;
        while (job.queue.length) {
          var part = job.queue[0][0], ch = job.queue[0][1];
          var cost = DRAW_COST + ch.count / part.ipp * part.cost;
          if (used > 0 && used + cost > budget) { break; }
          job.queue.shift(); used += cost;
          self.drawChunk(part, ch, pass);
        }
      });
      pass.end();
      // make the GL start now, in the background (see the header)
      var sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
      gl.flush();
      gl.deleteSync(sync);
    }
    drawChunk(part, ch, pass) {
      if (ch.stale) { ch.buffer.write(part.idx.subarray(ch.first, ch.first + ch.count)); ch.stale = false; }
      part.model.setIndexBuffer(ch.buffer);
      part.model.setVertexCount(ch.count);
      part.model.draw(pass);
    }
    draw(opts) {
      var st = this.state, pass = opts.renderPass || this.context.renderPass;
      var mp = opts.shaderModuleProps;
      if (mp && mp.picking && mp.picking.isActive) { this.drawAll(pass, true); return; }
      var device = this.context.device, vp = this.context.viewport, pair = this.props.pair;
      var size = device.canvasContext.getDrawingBufferSize();
      var dpr = (mp && mp.project && mp.project.devicePixelRatio) || device.canvasContext.cssToDeviceRatio();
      // the GL viewport deck's own pass uses for this view (LayersPass), for the job's chunks
      var glViewport = [vp.x * dpr, size[1] - (vp.y + vp.height) * dpr, vp.width * dpr, vp.height * dpr];
      st.drawn = { viewport: vp, props: mp, size: size, glViewport: glViewport };
      if (pair && pair.progressive() && pair.front !== this.props.slot) {
        pair.backCleared(this.props.slot);  // the hidden canvas: deck just cleared it, a job fills it
        return;
      }
      // the shown canvas after a new view, a toggle or the first draw, or any draw without
      // progressive jobs: everything, directly, with the newest codes
      this.applyDirty();
      this.drawAll(pass);
      if (pair) { pair.drewDirectly(this.props.slot); }
    }
    drawAll(pass, picking) {
      var self = this;
      this.state.kinds.forEach(function (kind) {
        if (kind.hidden) { return; }
        if (picking) {
          if (!kind.geom.idx.length) { return; }
          kind.pickModel.setIndexBuffer(kind.pickIndices);
          kind.pickModel.setVertexCount(kind.geom.idx.length);
          kind.pickModel.draw(pass);
          return;
        }
        kind.parts.forEach(function (part) {
          for (var k = 0; k < part.used; k++) { self.drawChunk(part, part.chunks[k], pass); }
        });
      });
    }
    getPickingInfo(params) {
      var info = params.info, st = this.state;
      if (!info || info.index < 0 || !st.kinds) { return info; }
      for (var k = st.kinds.length - 1; k >= 0; k--) {
        var kind = st.kinds[k];
        if (info.index >= kind.offset) {
          info.kind = kind.id;
          info.index -= kind.offset;
          info.object = kind.rows[info.index];
          return info;
        }
      }
      return info;
    }

    // ---------------------------------------------------------------- cleanup
    destroyResources() {
      var st = this.state;
      (st.kinds || []).forEach(function (kind) {
        kind.parts.forEach(function (part) {
          if (part.model) { part.model.destroy(); }
          part.chunks.forEach(function (ch) { ch.buffer.destroy(); });
        });
        Object.keys(kind.buffers).forEach(function (b) { kind.buffers[b].destroy(); });
        kind.pickIndices.destroy();
      });
      st.kinds = null; st.models = [];
    }
    finalizeState(context) {
      if (this.props.pair) { this.props.pair.detach(this.props.slot, this); }
      this.destroyResources();
      super.finalizeState(context);
    }
  }
  CodedMapLayer.layerName = "CodedMapLayer";
  CodedMapLayer.defaultProps = {
    kinds: { type: "object", value: [], compare: false },
    codes: { type: "object", value: null, compare: false },
    hidden: { type: "object", value: {}, compare: true },
    pair: { type: "object", value: null, compare: false },
    slot: "a",
    primitivesPerFrame: 0
  };

  // one kind from the layer's own props (a pydeck "CodedLayer" spec), always drawn directly
  class CodedLayer extends CodedMapLayer {
    kindSpecs() {
      var p = this.props;
      return [{ id: p.id, mode: p.mode, data: p.data, palette: p.palette, pixelSizes: p.pixelSizes,
                stroke: p.stroke, thinBelow: p.thinBelow }];
    }
    codeArray() { return this.props.codes; }
    needsRebuild(params) {
      var p = params.props, o = params.oldProps;
      return params.changeFlags.dataChanged || p.mode !== o.mode || p.thinBelow !== o.thinBelow ||
        String(p.stroke) !== String(o.stroke) || String(p.palette) !== String(o.palette) ||
        String(p.pixelSizes) !== String(o.pixelSizes);
    }
  }
  CodedLayer.layerName = "CodedLayer";
  CodedLayer.defaultProps = {
    mode: "lines", codes: null, palette: [[128, 128, 128, 255]], pixelSizes: [1], stroke: null,
    thinBelow: 0
  };
  deck.CodedMapLayer = CodedMapLayer;
  deck.CodedMapPair = CodedMapPair;
  deck.CodedLayer = CodedLayer;
})();
