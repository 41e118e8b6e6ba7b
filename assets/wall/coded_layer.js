/* CodedLayer: map objects coloured by a status code, drawn as plain (non-instanced) triangles.
 *
 * Why not ScatterplotLayer / PathLayer / LineLayer: those draw one GPU *instance* per object or
 * per path segment, and a software GL (SwiftShader, what a headless wall PC without a GPU runs)
 * pays a fixed cost per instance — about 20-40 µs, so 12 000 road segments took ~0.9 s per frame.
 * Here every object is expanded once, on the CPU, into its own indexed quad (4 vertices per line
 * segment or point), so a layer is a single ordinary draw call. Sizes stay in screen pixels
 * (the extrusion is done in the vertex shader), so pan/zoom look like the stock layers.
 *
 * Updates are colour-only: the page mutates `codes` (one Uint8Array entry per object) in place
 * and bumps `updateTriggers.getCode`; only the colour buffer (and the size buffer, when
 * `sizes` differ by code) is rewritten — the geometry buffers are built when `data` changes.
 *
 * Props: data (rows; lines read row.path = [[lon, lat], ...], points read row.p = [lon, lat]),
 * mode "lines" | "points", codes (Uint8Array), palette ([[r, g, b, a], ...] by code),
 * pixelSizes ([px by code]: line width or point radius), stroke ([r, g, b, a] ring, points only).
 * thinBelow (lines only): segments whose width is under this many pixels are drawn as 1-px GL
 * lines (2 vertices, no extrusion) and only the wider ones as quads — a software GL's cost is
 * mostly per shaded vertex, so a road network where most segments flow freely draws in about
 * half the time; which segment goes where is re-sorted (two index buffers) when codes change.
 *   new CodedLayer({id: "roads", data: rows, mode: "lines", codes, palette, pixelSizes: [1.5],
 *                   thinBelow: 2, updateTriggers: {getCode: version}})
 */
(function () {
  "use strict";
  if (!window.deck || window.deck.CodedLayer) { return; }
  var deck = window.deck;

  var VS = "#version 300 es\n#define SHADER_NAME coded-layer-vs\n" +
    "in vec2 commonHi;\nin vec2 commonLo;\nin vec2 dirs;\nin vec2 corners;\n" +
    "in vec4 colors;\nin float sizes;\nin vec3 pickingColors;\n" +
    "out vec4 vColor;\nout vec2 vUv;\n" +
    "void main(void) {\n" +
    "  geometry.pickingColor = pickingColors;\n" +
    // Web Mercator "common" coordinates computed once on the CPU (float64 split in two
    // float32): no log/tan per vertex; relative to the view's origin in deck's offset mode
    "  vec2 cpos = (commonHi - project.commonOrigin.xy) + commonLo;\n" +
    "  geometry.position = vec4(cpos, 0.0, 1.0);\n" +
    "  vec4 p = project_common_position_to_clipspace(geometry.position);\n" +
    "#ifdef CODED_POINTS\n" +
    "  vec2 offset = corners * sizes;\n" +
    "#elif defined(CODED_THIN)\n" +
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

  // the four corners of a quad (side ±1, end ±1) and its two triangles (as indices)
  var CORNERS = [[-1, -1], [1, -1], [-1, 1], [1, 1]];
  var QUAD = [0, 1, 2, 1, 3, 2];
  var DEG = Math.PI / 180;
  var ModelClass = null;

  var WORLD = 512 / (2 * Math.PI);  // deck's common space: the world is 512 units wide
  function mercY(lat) { return Math.log(Math.tan(Math.PI / 4 + lat * DEG / 2)); }

  function geometry(rows, mode) {
    // 4 vertices per quad (a point, or one segment of a path) + 6 indices; which row each
    // vertex belongs to; for lines the segment's unit direction in Web Mercator space
    var q = 0, r, k;
    if (mode === "points") { q = rows.length; } else {
      for (r = 0; r < rows.length; r++) { q += Math.max(0, rows[r].path.length - 1); }
    }
    var n = q * 4;
    var hi = new Float32Array(n * 2), lo = new Float32Array(n * 2), dir = new Float32Array(n * 2), cor = new Float32Array(n * 2);
    var obj = new Uint32Array(n), idx = new Uint32Array(q * 6), v = 0, i = 0;
    function quad(a, b, row) {
      var dx = 0, dy = 0;
      if (b) {
        dx = (b[0] - a[0]) * DEG; dy = mercY(b[1]) - mercY(a[1]);
        var len = Math.sqrt(dx * dx + dy * dy) || 1;
        dx /= len; dy /= len;
      }
      for (k = 0; k < 6; k++) { idx[i++] = v + QUAD[k]; }
      for (k = 0; k < 4; k++) {
        var end = b && CORNERS[k][1] > 0 ? b : a;
        var x = WORLD * (end[0] * DEG + Math.PI), y = WORLD * (Math.PI + mercY(end[1]));
        hi[v * 2] = x; hi[v * 2 + 1] = y;
        lo[v * 2] = x - hi[v * 2]; lo[v * 2 + 1] = y - hi[v * 2 + 1];
        dir[v * 2] = dx; dir[v * 2 + 1] = dy;
        cor[v * 2] = CORNERS[k][0]; cor[v * 2 + 1] = CORNERS[k][1];
        obj[v] = row; v++;
      }
    }
    for (r = 0; r < rows.length; r++) {
      if (mode === "points") { quad(rows[r].p, null, r); continue; }
      var path = rows[r].path;
      for (var s = 0; s + 1 < path.length; s++) { quad(path[s], path[s + 1], r); }
    }
    return { n: n, indices: idx, commonHi: hi, commonLo: lo, dirs: dir, corners: cor, object: obj };
  }

  class CodedLayer extends deck.Layer {
    getShaders() {
      var defines = {};
      if (this.props.mode === "points") { defines.CODED_POINTS = 1; }
      var ring = this.props.stroke;
      if (ring) {
        defines.CODED_RING = "vec4(" + ring.map(function (x) { return (x / 255).toFixed(4); }).join(",") + ")";
      }
      return super.getShaders({ vs: VS, fs: FS, modules: [deck.project32, deck.picking], defines: defines });
    }
    initializeState() {
      var am = this.getAttributeManager();
      am.remove(["instancePickingColors"]);
      var self = this;
      function copy(name) {
        return function (attribute) { attribute.value.set(self.state.geom[name]); };
      }
      am.add({
        commonHi: { size: 2, update: copy("commonHi") },
        commonLo: { size: 2, update: copy("commonLo") },
        dirs: { size: 2, update: copy("dirs") },
        corners: { size: 2, update: copy("corners") },
        colors: { size: 4, type: "unorm8", accessor: "getCode", update: this.fillColors.bind(this) },
        sizes: { size: 1, accessor: "getCode", update: this.fillSizes.bind(this) },
        pickingColors: { size: 4, type: "uint8", update: this.fillPicking.bind(this) }
      });
    }
    updateState(params) {
      var props = params.props, old = params.oldProps, flags = params.changeFlags;
      var rebuilt = false;
      if (flags.dataChanged || props.mode !== old.mode) {
        var geom = geometry(props.data || [], props.mode);
        this.setState({ geom: geom, numInstances: geom.n });
        this.getAttributeManager().invalidateAll();
        rebuilt = true;
      }
      super.updateState(params);
      this.state.splitDirty = true;
      if (!this.state.model || rebuilt || flags.extensionsChanged || props.mode !== old.mode ||
          String(props.stroke) !== String(old.stroke)) {
        this.destroyModels();
        this.state.model = this.makeModel();
        this.state.thinModel = this.thinned() ? this.makeThinModel() : null;
        this.state.models = this.state.thinModel ? [this.state.model, this.state.thinModel]
          : [this.state.model];
        this.getAttributeManager().invalidateAll();
      }
    }
    makeModel() {
      if (!ModelClass) {
        // luma.gl's Model is not on the `deck` global: borrow the class from a stock layer
        var probe = deck.LineLayer.prototype._getModel.call(this);
        ModelClass = probe.constructor;
        probe.destroy();
      }
      var geom = this.state.geom;
      if (this.state.indexBuffer) { this.state.indexBuffer.destroy(); }
      // indexed quads: each corner's vertex shader runs once, not once per triangle
      this.state.indexBuffer = this.context.device.createBuffer({
        usage: 0x0010, indexType: "uint32", data: geom.indices.length ? geom.indices : new Uint32Array(6)
      });
      return new ModelClass(this.context.device, Object.assign(this.getShaders(), {
        id: this.props.id, bufferLayout: this.getAttributeManager().getBufferLayouts(),
        topology: "triangle-list", isInstanced: false, indexBuffer: this.state.indexBuffer,
        vertexCount: geom.indices.length
      }));
    }
    thinned() { return this.props.mode !== "points" && this.props.thinBelow > 0; }
    makeThinModel() {
      var geom = this.state.geom, q = geom.n / 4;
      if (this.state.thinIndexBuffer) { this.state.thinIndexBuffer.destroy(); }
      this.state.thinIndexBuffer = this.context.device.createBuffer({
        usage: 0x0010, indexType: "uint32", data: new Uint32Array(Math.max(2, q * 2))
      });
      var sh = this.getShaders();
      sh.defines = Object.assign({}, sh.defines, { CODED_THIN: 1 });
      return new ModelClass(this.context.device, Object.assign(sh, {
        id: this.props.id + "-thin", bufferLayout: this.getAttributeManager().getBufferLayouts(),
        topology: "line-list", isInstanced: false, indexBuffer: this.state.thinIndexBuffer,
        vertexCount: 0
      }));
    }
    splitByWidth() {
      // quads (6 indices) for segments at least thinBelow px wide, one GL line (its two
      // centre-line ends: corners 0 and 2 of the quad, extrusion off) for the others
      var geom = this.state.geom, q = geom.n / 4, codes = this.props.codes;
      var sizes = this.props.pixelSizes, limit = this.props.thinBelow, obj = geom.object;
      var wide = this.state.wideIdx, thin = this.state.thinIdx;
      if (!wide || wide.length !== q * 6) {
        wide = this.state.wideIdx = new Uint32Array(q * 6);
        thin = this.state.thinIdx = new Uint32Array(q * 2);
      }
      var nw = 0, nt = 0;
      for (var s = 0; s < q; s++) {
        var v = s * 4, w = sizes[codes ? codes[obj[v]] : 0];
        if (w === undefined) { w = sizes[0]; }
        if (w >= limit) {
          for (var k = 0; k < 6; k++) { wide[nw++] = v + QUAD[k]; }
        } else { thin[nt++] = v; thin[nt++] = v + 2; }
      }
      if (nw) { this.state.indexBuffer.write(wide.subarray(0, nw)); }
      if (nt) { this.state.thinIndexBuffer.write(thin.subarray(0, nt)); }
      this.state.model.setVertexCount(nw);
      this.state.thinModel.setVertexCount(nt);
      this.state.splitDirty = false;
    }
    destroyModels() {
      if (this.state.model) { this.state.model.destroy(); }
      if (this.state.thinModel) { this.state.thinModel.destroy(); }
      this.state.model = null; this.state.thinModel = null;
    }
    fillColors(attribute) {
      var geom = this.state.geom, out = attribute.value, codes = this.props.codes;
      var pal = this.props.palette, obj = geom.object;
      for (var v = 0; v < geom.n; v++) {
        var c = pal[codes ? codes[obj[v]] : 0] || pal[0], o = v * 4;
        out[o] = c[0]; out[o + 1] = c[1]; out[o + 2] = c[2]; out[o + 3] = c[3];
      }
    }
    fillSizes(attribute) {
      var geom = this.state.geom, out = attribute.value, codes = this.props.codes;
      var sizes = this.props.pixelSizes, obj = geom.object;
      for (var v = 0; v < geom.n; v++) {
        var s = sizes[codes ? codes[obj[v]] : 0];
        out[v] = s === undefined ? sizes[0] : s;
      }
    }
    fillPicking(attribute) {
      var geom = this.state.geom, out = attribute.value, obj = geom.object, rgb = [0, 0, 0];
      for (var v = 0; v < geom.n; v++) {
        this.encodePickingColor(obj[v], rgb);
        out[v * 4] = rgb[0]; out[v * 4 + 1] = rgb[1]; out[v * 4 + 2] = rgb[2]; out[v * 4 + 3] = 0;
      }
    }
    draw() {
      if (!this.state.geom.n) { return; }
      if (!this.state.thinModel) { this.state.model.draw(this.context.renderPass); return; }
      if (this.state.splitDirty) { this.splitByWidth(); }
      if (this.state.model.vertexCount) { this.state.model.draw(this.context.renderPass); }
      if (this.state.thinModel.vertexCount) { this.state.thinModel.draw(this.context.renderPass); }
    }
    finalizeState(context) {
      super.finalizeState(context);
      this.destroyModels();
      if (this.state.indexBuffer) { this.state.indexBuffer.destroy(); }
      if (this.state.thinIndexBuffer) { this.state.thinIndexBuffer.destroy(); }
    }
  }
  CodedLayer.layerName = "CodedLayer";
  CodedLayer.defaultProps = {
    mode: "lines", codes: null, palette: [[128, 128, 128, 255]], pixelSizes: [1], stroke: null,
    thinBelow: 0,
    // a function, so that deck never treats the colour buffers as constant; the colours come
    // from `codes` (see fillColors) and updateTriggers.getCode says when they changed
    getCode: { type: "accessor", value: function (_d, info) { return info.index; } }
  };
  deck.CodedLayer = CodedLayer;
})();
