/* CodedMapLayer: map objects coloured by a status code, redrawn progressively off screen.
 *
 * Why not ScatterplotLayer / PathLayer / PolygonLayer: those draw one GPU *instance* per
 * object or per path segment, and a software GL (SwiftShader, what a headless wall PC without
 * a GPU runs) pays a fixed cost per instance — about 20-40 µs, so 12 000 road segments took
 * ~0.9 s per frame. Here every object is expanded once, on the CPU, into plain indexed
 * triangles (a quad per line segment or point, a fan per grid cell), so a kind of object is a
 * few ordinary draw calls. Sizes stay in screen pixels (the extrusion is done in the vertex
 * shader), so pan/zoom look like the stock layers.
 *
 * Why progressive: even so, a software GL spends about 1 µs per primitive. The 21 000 objects
 * of a large city are ~38 000 triangles and lines, 40-60 ms of rasterising, and Chromium's
 * software compositor reads a changed WebGL canvas back at the end of the frame, waiting for
 * all of it: drawing an update in one frame stretched that frame to 50-80 ms (measured in
 * headless Chromium, bench/wall.py). So with `primitivesPerFrame` set, an update is drawn
 * into an offscreen framebuffer a bounded number of primitives per animation frame (each
 * chunk followed by a fence + flush, so that the GL runs it in the background: ANGLE would
 * otherwise hold the whole render pass until the next readback) and, once complete, copied
 * onto the canvas with one blit. The canvas changes once per update and no frame waits for
 * more than one chunk of GL work. A view change (pan/zoom), a toggle or a picking pass draws
 * everything directly, as before, with the newest codes.
 *
 * Updates are colour-only: the page mutates the code arrays (one Uint8Array entry per object)
 * in place and calls requestUpdate([kind ids], tag) on the live layer (props.handle.layer);
 * only the colour and size buffers are rewritten — the geometry is built when `kinds`
 * change. props.onPresent(tags) is called when the updates with those tags became visible.
 *
 * Kinds: {id, mode: "lines" | "points" | "polygons", data (rows; lines read row.path =
 * [[lon, lat], ...], points row.p = [lon, lat], polygons row.polygon = a convex ring such as
 * an H3 cell), palette ([[r, g, b, a], ...] by code), pixelSizes ([px by code]: line width or
 * point radius), stroke ([r, g, b, a] ring, points only), thinBelow (lines only: segments
 * narrower than this many pixels are drawn as 1-px GL lines, 2 vertices and no extrusion,
 * re-sorted when codes change — a software GL's cost is mostly per primitive and per span)}.
 * Drawn in order, later kinds on top; picking reports info.kind and the row as info.index.
 *   new CodedMapLayer({id: "coded", kinds, codes: {roads: Uint8Array, ...}, hidden: {},
 *                      primitivesPerFrame: 6000, handle: {}, onPresent: fn, pickable: true})
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
  // relative GL cost of one primitive of each part on a software GL (measured with
  // SwiftShader: a triangle of a ~30 px grid cell costs ~1.5 short 1-px road lines)
  var COST = { thin: 1, wide: 2, points: 2, fill: 1.5 };
  // what deck's own draws use (Deck sets it once per context); depth is irrelevant in 2D
  var OFFSCREEN_GL = { blend: true, blendFunc: [770, 771, 1, 771], blendEquation: 32774,
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
              bbox: [Infinity, Infinity, -Infinity, -Infinity] };  // lon/lat bounds
    var v = 0, i = 0;
    function vertex(p, dx, dy, cx, cy, row) {
      var bb = g.bbox;
      if (p[0] < bb[0]) { bb[0] = p[0]; }
      if (p[1] < bb[1]) { bb[1] = p[1]; }
      if (p[0] > bb[2]) { bb[2] = p[0]; }
      if (p[1] > bb[3]) { bb[3] = p[1]; }
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
        if (m < 3) { continue; }
        for (k = 0; k < m; k++) { vertex(ring[k], 0, 0, 0, 0, r); }
        // a fan: grid cells (H3 hexagons, squares) are convex
        for (k = 1; k + 1 < m; k++) { g.idx[i++] = first; g.idx[i++] = first + k; g.idx[i++] = first + k + 1; }
        continue;
      }
      var path = rows[r].path;
      for (var s = 0; s + 1 < path.length; s++) { quad(path[s], path[s + 1], r); }
    }
    return g;
  }

  // draw units of a kind: [name, topology, indices per primitive, flat shader?]
  function partsOf(kind, g) {
    function part(name, topology, ipp, idx, count, split) {
      return { name: name, topology: topology, ipp: ipp, cost: COST[name], idx: idx, count: count,
               split: Boolean(split), uploaded: false, chunks: [], used: 0, model: null };
    }
    if (kind.mode === "polygons") { return [part("fill", "triangle-list", 3, g.idx, g.prims)]; }
    if (kind.mode === "points") { return [part("points", "triangle-list", 6, g.idx, g.prims)]; }
    if (kind.thinBelow > 0) {
      // free-flowing roads as 1-px lines below, the wide (congested) ones drawn on top
      return [part("thin", "line-list", 2, new Uint32Array(g.prims * 2), 0, true),
              part("wide", "triangle-list", 6, new Uint32Array(g.prims * 6), 0, true)];
    }
    return [part("wide", "triangle-list", 6, g.idx, g.prims)];
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

  class CodedMapLayer extends deck.Layer {
    // ---------------------------------------------------------------- the kinds
    kindSpecs() { return this.props.kinds || []; }
    codeArray(id) { var c = this.props.codes; return c ? c[id] : null; }
    needsRebuild(params) {
      return params.changeFlags.dataChanged || params.props.kinds !== params.oldProps.kinds;
    }

    initializeState() {
      Object.assign(this.state, { kinds: null, dirty: {}, tags: [], job: null, raf: 0, drawn: null,
                     front: null, back: null, frontView: null,
                     // updates shown by a blit of the offscreen picture, frames that drew a
                     // chunk of one, and direct draws of everything (for tests and the bench)
                     counts: { presented: 0, chunkFrames: 0, direct: 0 } });
    }

    updateState(params) {
      super.updateState(params);
      var props = params.props, st = this.state;
      if (props.handle) { props.handle.layer = this; }
      st.onPresent = props.onPresent;
      st.budget = props.primitivesPerFrame > 0 ? props.primitivesPerFrame : Infinity;
      if (!st.kinds || this.needsRebuild(params) ||
          props.primitivesPerFrame !== params.oldProps.primitivesPerFrame) {
        this.build();
      } else if (this.codesChanged(params)) {
        st.kinds.forEach(function (k) { st.dirty[k.id] = true; });
      }
      var hidden = props.hidden || {};
      st.kinds.forEach(function (k) {
        k.codes = this.codeArray(k.id) || null;
        k.hidden = Boolean(hidden[k.id]);
      }, this);
      var key = st.kinds.map(function (k) { return k.hidden ? "0" : "1"; }).join("");
      if (key !== st.hiddenKey) {
        // a toggle: the next draw (deck redraws on new props) draws directly
        st.hiddenKey = key; st.frontView = null; this.abortJob();
      }
    }
    codesChanged(params) {
      var p = params.props, o = params.oldProps, f = params.changeFlags.updateTriggersChanged;
      return p.codes !== o.codes || Boolean(f && (f.all || f.getCode));
    }

    build() {
      this.destroyResources();
      var st = this.state, device = this.context.device, self = this, offset = 0;
      st.kinds = this.kindSpecs().map(function (spec) {
        var rows = spec.data || [], g = geometry(rows, spec.mode || "lines");
        var kind = {
          id: spec.id, mode: spec.mode || "lines", rows: rows, geom: g, offset: offset,
          palette: spec.palette && spec.palette.length ? spec.palette : [[128, 128, 128, 255]],
          pixelSizes: spec.pixelSizes && spec.pixelSizes.length ? spec.pixelSizes : [1],
          thinBelow: spec.thinBelow || 0, stroke: spec.stroke || null,
          codes: self.codeArray(spec.id) || null, hidden: false, codeData: new Uint8Array(g.n)
        };
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
        st.dirty[kind.id] = true;
        return kind;
      });
      st.models = [];
      st.kinds.forEach(function (k) { k.parts.forEach(function (p) { st.models.push(p.model); }); });
      st.hiddenKey = null; st.frontView = null;
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
    applyDirty() {
      var st = this.state, self = this, any = false;
      st.kinds.forEach(function (kind) {
        if (!st.dirty[kind.id]) { return; }
        st.dirty[kind.id] = false; any = true;
        self.fillCodes(kind);
        if (kind.thinBelow > 0) { self.splitByWidth(kind); }
        kind.parts.forEach(function (part) {
          // the split parts' index lists change with the codes, the others once built
          if (part.split || !part.uploaded) { self.chunkUp(part); part.uploaded = true; }
        });
      });
      return any;
    }
    fillCodes(kind) {
      // one byte per vertex: its object's code (the shader looks up colour and size)
      var g = kind.geom, out = kind.codeData, codes = kind.codes, obj = g.obj;
      if (codes) {
        for (var v = 0; v < g.n; v++) { out[v] = codes[obj[v]]; }
      } else { out.fill(0); }
      if (g.n) { kind.buffers.codes.write(out); }
    }
    splitByWidth(kind) {
      // quads (6 indices) for segments at least thinBelow px wide, one GL line (its two
      // centre-line ends: corners 0 and 2 of the quad) for the others
      var g = kind.geom, thin = kind.parts[0], wide = kind.parts[1], codes = kind.codes;
      var sizes = kind.pixelSizes, limit = kind.thinBelow, obj = g.obj, nt = 0, nw = 0;
      for (var s = 0; s < g.prims; s++) {
        var v = s * 4, c = codes ? codes[obj[v]] : 0, w = sizes[c < kind.palette.length ? c : 0];
        if (w === undefined) { w = sizes[0]; }
        if (w >= limit) {
          for (var k = 0; k < 6; k++) { wide.idx[nw++] = v + QUAD[k]; }
        } else { thin.idx[nt++] = v; thin.idx[nt++] = v + 2; }
      }
      thin.count = nt / 2; wide.count = nw / 6;
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
      return budget === Infinity ? all : Math.max(1, Math.min(all, Math.floor(budget / part.cost)));
    }

    // ---------------------------------------------------------------- page API
    requestUpdate(ids, tag) {
      var st = this.state;
      if (!st.kinds) { return; }
      (ids || st.kinds.map(function (k) { return k.id; })).forEach(function (id) { st.dirty[id] = true; });
      if (tag) { st.tags.push(tag); }
      if (st.budget === Infinity) { this.setNeedsRedraw(); return; }  // drawn directly
      this.schedule();
    }
    schedule() {
      var st = this.state, self = this;
      if (!st.raf) { st.raf = requestAnimationFrame(function () { st.raf = 0; self.step(); }); }
    }
    pendingDirty() {
      var st = this.state;
      return st.kinds.some(function (k) { return st.dirty[k.id]; });
    }
    abortJob() {
      var st = this.state;
      if (st.job) { st.tags = st.job.tags.concat(st.tags); st.job = null; }
    }
    step() {
      // one animation frame of progressive drawing: start a job, draw a chunk, or present
      var st = this.state, d = this.context.deck, device = this.context.device;
      if (!st.kinds || !d) { return; }
      var vp = d.getViewports()[0];
      if (st.job && !sameView(vp, st.job.viewport)) { this.abortJob(); }
      if (!st.job) {
        if (!this.pendingDirty()) { return; }
        var size = device.canvasContext.getDrawingBufferSize();
        if (!st.drawn || !sameView(vp, st.drawn.viewport) || size[0] !== st.drawn.size[0] ||
            size[1] !== st.drawn.size[1]) {
          // no screen draw of this view yet (its uniforms are what chunks reuse): draw directly
          this.setNeedsRedraw(); return;
        }
        this.startJob();
      }
      var job = st.job;
      if (job.queue.length) {
        this.drawChunks(job);
        st.counts.chunkFrames++;
        this.schedule();
        return;
      }
      // every chunk was submitted in an earlier frame: show the result now
      job.done = true;
      d.redraw("coded update");
      if (st.job) { this.abortJob(); }  // the redraw did not present it (view changed meanwhile)
      if (this.pendingDirty() || st.tags.length) { this.schedule(); }
    }
    startJob() {
      var st = this.state, d = st.drawn, device = this.context.device;
      this.applyDirty();
      if (!st.back || st.back.width !== d.size[0] || st.back.height !== d.size[1]) {
        this.destroyTargets();
        st.back = device.createFramebuffer({ width: d.size[0], height: d.size[1], colorAttachments: ["rgba8unorm"] });
        st.front = device.createFramebuffer({ width: d.size[0], height: d.size[1], colorAttachments: ["rgba8unorm"] });
      }
      var queue = [];
      st.kinds.forEach(function (kind) {
        if (kind.hidden) { return; }
        kind.parts.forEach(function (part) {
          for (var k = 0; k < part.used; k++) { queue.push([part, part.chunks[k]]); }
        });
      });
      st.job = { viewport: d.viewport, queue: queue, cleared: false, done: false, tags: st.tags };
      st.tags = [];
    }
    drawChunks(job) {
      var st = this.state, device = this.context.device, gl = device.gl, self = this;
      // the projection of the last screen draw of this same view (a picking pass in between
      // may have left other uniforms in the models)
      this.setShaderModuleProps(st.drawn.props);
      var pass = device.beginRenderPass({
        framebuffer: st.back, parameters: { viewport: st.drawn.glViewport },
        clearColor: job.cleared ? false : [0, 0, 0, 0], clearDepth: false, clearStencil: false
      });
      job.cleared = true;
      device.withParametersWebGL(OFFSCREEN_GL, function () {
        var used = 0;
        while (job.queue.length) {
          var part = job.queue[0][0], ch = job.queue[0][1], cost = ch.count / part.ipp * part.cost;
          if (used > 0 && used + cost > st.budget) { break; }
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

    // ---------------------------------------------------------------- deck hooks
    draw(opts) {
      var st = this.state, pass = opts.renderPass || this.context.renderPass;
      var mp = opts.shaderModuleProps;
      if (mp && mp.picking && mp.picking.isActive) { this.drawAll(pass); return; }
      var device = this.context.device, vp = this.context.viewport;
      var size = device.canvasContext.getDrawingBufferSize();
      var dpr = (mp && mp.project && mp.project.devicePixelRatio) || device.canvasContext.cssToDeviceRatio();
      // the GL viewport deck's own pass uses for this view (LayersPass), for the offscreen draws
      var glViewport = [vp.x * dpr, size[1] - (vp.y + vp.height) * dpr, vp.width * dpr, vp.height * dpr];
      st.drawn = { viewport: vp, props: mp, size: size, glViewport: glViewport };
      var job = st.job, fits = function (fb) { return fb && fb.width === size[0] && fb.height === size[1]; };
      if (job && job.done && sameView(vp, job.viewport) && fits(st.back)) {
        this.blit(st.back, this.contentRect(vp, size, dpr));
        var t = st.front; st.front = st.back; st.back = t;
        st.frontView = job.viewport; st.job = null; st.counts.presented++;
        if (st.onPresent && job.tags.length) { st.onPresent(job.tags); }
        return;
      }
      if (!this.pendingDirty() && !st.tags.length && sameView(vp, st.frontView) && fits(st.front)) {
        this.blit(st.front, this.contentRect(vp, size, dpr));  // nothing new: the last picture
        return;
      }
      // a new view, a toggle, the first draw, or no offscreen drawing: everything, directly,
      // with the newest codes (a job in progress is superseded)
      this.abortJob();
      this.applyDirty();
      this.drawAll(pass);
      st.frontView = null; st.counts.direct++;
      var tags = st.tags;
      st.tags = [];
      if (st.onPresent && tags.length) { st.onPresent(tags); }
    }
    drawAll(pass) {
      var self = this;
      this.state.kinds.forEach(function (kind) {
        if (kind.hidden) { return; }
        kind.parts.forEach(function (part) {
          for (var k = 0; k < part.used; k++) { self.drawChunk(part, part.chunks[k], pass); }
        });
      });
    }
    contentRect(vp, size, dpr) {
      // the device pixels the visible kinds can touch ([x0, y0, x1, y1], GL's bottom-up y):
      // a software GL's blit costs ~13 ms per million pixels, and the rest stays clear
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      this.state.kinds.forEach(function (kind) {
        var bb = kind.geom.bbox;
        if (kind.hidden || !kind.geom.n) { return; }
        var a = vp.project([bb[0], bb[1]]), b = vp.project([bb[2], bb[3]]);
        var m = 2 + Math.max.apply(null, kind.pixelSizes);
        x0 = Math.min(x0, a[0] - m, b[0] - m); x1 = Math.max(x1, a[0] + m, b[0] + m);
        y0 = Math.min(y0, a[1] - m, b[1] - m); y1 = Math.max(y1, a[1] + m, b[1] + m);
      });
      if (!(x1 > x0 && y1 > y0)) { return [0, 0, 0, 0]; }
      function clamp(x, hi) { return Math.max(0, Math.min(hi, x)); }
      return [clamp(Math.floor((vp.x + x0) * dpr), size[0]), clamp(Math.floor(size[1] - (vp.y + y1) * dpr), size[1]),
              clamp(Math.ceil((vp.x + x1) * dpr), size[0]), clamp(Math.ceil(size[1] - (vp.y + y0) * dpr), size[1])];
    }
    blit(fb, r) {
      var gl = this.context.device.gl;
      if (r[2] <= r[0] || r[3] <= r[1]) { return; }
      this.context.device.withParametersWebGL({ scissorTest: false }, function () {
        gl.bindFramebuffer(gl.READ_FRAMEBUFFER, fb.handle);
        gl.blitFramebuffer(r[0], r[1], r[2], r[3], r[0], r[1], r[2], r[3], gl.COLOR_BUFFER_BIT, gl.NEAREST);
        gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
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
    destroyTargets() {
      var st = this.state;
      if (st.front) { st.front.destroy(); }
      if (st.back) { st.back.destroy(); }
      st.front = st.back = null; st.frontView = null;
    }
    destroyResources() {
      var st = this.state;
      (st.kinds || []).forEach(function (kind) {
        kind.parts.forEach(function (part) {
          if (part.model) { part.model.destroy(); }
          part.chunks.forEach(function (ch) { ch.buffer.destroy(); });
        });
        Object.keys(kind.buffers).forEach(function (b) { kind.buffers[b].destroy(); });
      });
      st.kinds = null; st.models = []; st.job = null;
      this.destroyTargets();
    }
    finalizeState(context) {
      if (this.state.raf) { cancelAnimationFrame(this.state.raf); this.state.raf = 0; }
      this.destroyResources();
      super.finalizeState(context);
    }
  }
  CodedMapLayer.layerName = "CodedMapLayer";
  CodedMapLayer.defaultProps = {
    kinds: { type: "object", value: [], compare: false },
    codes: { type: "object", value: null, compare: false },
    hidden: { type: "object", value: {}, compare: true },
    handle: { type: "object", value: null, compare: false },
    onPresent: { type: "function", value: null, compare: false },
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
  deck.CodedLayer = CodedLayer;
})();
