/* CodedLayer: map objects coloured by a status code, drawn as plain (non-instanced) triangles.
 *
 * Why not ScatterplotLayer / PathLayer / LineLayer: those draw one GPU *instance* per object or
 * per path segment, and a software GL (SwiftShader, what a headless wall PC without a GPU runs)
 * pays a fixed cost per instance — about 20-40 µs, so 12 000 road segments took ~0.9 s per frame.
 * Here every object is expanded once, on the CPU, into its own triangles (6 vertices per line
 * segment, 6 per point), so a frame is a single ordinary draw call. Sizes stay in screen pixels
 * (the extrusion is done in the vertex shader), so pan/zoom look like the stock layers.
 *
 * Updates are colour-only: the page mutates `codes` (one Uint8Array entry per object) in place
 * and bumps `updateTriggers.getCode`; only the colour buffer (and the size buffer, when
 * `sizes` differ by code) is rewritten — the geometry buffers are built when `data` changes.
 *
 * Props: data (rows; lines read row.path = [[lon, lat], ...], points read row.p = [lon, lat]),
 * mode "lines" | "points", codes (Uint8Array), palette ([[r, g, b, a], ...] by code),
 * pixelSizes ([px by code]: line width or point radius), stroke ([r, g, b, a] ring, points only).
 *   new CodedLayer({id: "roads", data: rows, mode: "lines", codes, palette, pixelSizes: [1.5],
 *                   updateTriggers: {getCode: version}})
 */
(function () {
  "use strict";
  if (!window.deck || window.deck.CodedLayer) { return; }
  var deck = window.deck;

  var VS = "#version 300 es\n#define SHADER_NAME coded-layer-vs\n" +
    "in vec3 positions;\nin vec3 positions64Low;\nin vec3 others;\nin vec2 corners;\n" +
    "in vec4 colors;\nin float sizes;\nin vec3 pickingColors;\n" +
    "out vec4 vColor;\nout vec2 vUv;\n" +
    "void main(void) {\n" +
    "  geometry.worldPosition = positions;\n" +
    "  geometry.pickingColor = pickingColors;\n" +
    "  vec4 p = project_position_to_clipspace(positions, positions64Low, vec3(0.), geometry.position);\n" +
    "#ifdef CODED_POINTS\n" +
    "  vec2 offset = corners * sizes;\n" +
    "#else\n" +
    "  vec4 q = project_position_to_clipspace(others, vec3(0.), vec3(0.));\n" +
    "  vec2 d = (q.xy / q.w - p.xy / p.w) * project.viewportSize * corners.y;\n" +
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

  // the two triangles of a quad, as (side, end) corners: side ±1, end +1 at the start, -1 at the end
  var LINE_CORNERS = [[-1, 1], [1, 1], [-1, -1], [1, 1], [1, -1], [-1, -1]];
  var POINT_CORNERS = [[-1, -1], [1, -1], [-1, 1], [1, -1], [1, 1], [-1, 1]];
  var ModelClass = null;

  function geometry(rows, mode) {
    // vertex arrays for all rows (+ which row each vertex belongs to)
    var n = 0, r, k;
    if (mode === "points") { n = rows.length * 6; } else {
      for (r = 0; r < rows.length; r++) { n += Math.max(0, rows[r].path.length - 1) * 6; }
    }
    var pos = new Float64Array(n * 3), oth = new Float64Array(n * 3), cor = new Float32Array(n * 2);
    var obj = new Uint32Array(n), v = 0;
    function put(a, b, c, row) {
      pos[v * 3] = a[0]; pos[v * 3 + 1] = a[1];
      oth[v * 3] = b[0]; oth[v * 3 + 1] = b[1];
      cor[v * 2] = c[0]; cor[v * 2 + 1] = c[1];
      obj[v] = row; v++;
    }
    for (r = 0; r < rows.length; r++) {
      if (mode === "points") {
        for (k = 0; k < 6; k++) { put(rows[r].p, rows[r].p, POINT_CORNERS[k], r); }
        continue;
      }
      var path = rows[r].path;
      for (var s = 0; s + 1 < path.length; s++) {
        for (k = 0; k < 6; k++) {
          var c = LINE_CORNERS[k], start = c[1] > 0;
          put(start ? path[s] : path[s + 1], start ? path[s + 1] : path[s], c, r);
        }
      }
    }
    return { n: n, positions: pos, others: oth, corners: cor, object: obj };
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
        positions: { size: 3, type: "float64", fp64: this.use64bitPositions(), update: copy("positions") },
        others: { size: 3, update: copy("others") },
        corners: { size: 2, update: copy("corners") },
        colors: { size: 4, type: "unorm8", accessor: "getCode", update: this.fillColors.bind(this) },
        sizes: { size: 1, accessor: "getCode", update: this.fillSizes.bind(this) },
        pickingColors: { size: 4, type: "uint8", update: this.fillPicking.bind(this) }
      });
    }
    updateState(params) {
      var props = params.props, old = params.oldProps, flags = params.changeFlags;
      if (flags.dataChanged || props.mode !== old.mode) {
        var geom = geometry(props.data || [], props.mode);
        this.setState({ geom: geom, numInstances: geom.n });
        this.getAttributeManager().invalidateAll();
      }
      super.updateState(params);
      if (!this.state.model || flags.extensionsChanged || props.mode !== old.mode ||
          String(props.stroke) !== String(old.stroke)) {
        if (this.state.model) { this.state.model.destroy(); }
        this.state.model = this.makeModel();
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
      return new ModelClass(this.context.device, Object.assign(this.getShaders(), {
        id: this.props.id, bufferLayout: this.getAttributeManager().getBufferLayouts(),
        topology: "triangle-list", isInstanced: false, vertexCount: this.state.geom.n
      }));
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
      var model = this.state.model;
      model.setVertexCount(this.state.geom.n);
      if (this.state.geom.n) { model.draw(this.context.renderPass); }
    }
  }
  CodedLayer.layerName = "CodedLayer";
  CodedLayer.defaultProps = {
    mode: "lines", codes: null, palette: [[128, 128, 128, 255]], pixelSizes: [1], stroke: null,
    // a function, so that deck never treats the colour buffers as constant; the colours come
    // from `codes` (see fillColors) and updateTriggers.getCode says when they changed
    getCode: { type: "accessor", value: function (_d, info) { return info.index; } }
  };
  deck.CodedLayer = CodedLayer;
})();
