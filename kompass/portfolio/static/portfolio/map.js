// The integration map: draws the JSON of /api/portfolio/map/ with Cytoscape.js (vendored).
// The page's table holds the same facts for keyboard and screen-reader users.
//
// Speed (bench/README.md): a force-directed layout (cose) only for small graphs; above SMALL elements a
// concentric layout by degree (one pass), "haystack" edges (the cheapest Cytoscape draws: straight, no
// arrow geometry), labels hidden until one zooms in, and a texture instead of a redraw while panning.
(function () {
  "use strict";
  var SMALL = 300;
  function draw(container, data, started) {
    var large = data.nodes.length + data.edges.length > SMALL;
    var elements = data.nodes.map(function (n) {
      return { data: { id: n.id, label: n.label, url: n.url, weight: n.weight || 0 }, classes: n.external ? "external" : "" };
    }).concat(data.edges.map(function (e) {
      return { data: { id: e.id, source: e.source, target: e.target, label: e.label, url: e.url, width: Math.min(1 + Math.log(e.count), 8) }, classes: e.status + (e.personal_data ? " personal" : "") + (data.level === "agency" ? " counted" : "") + (e.both ? " both" : "") };
    }));
    var edgeStyle = large
      ? { width: 1, "line-color": "#7f7f7f", "curve-style": "haystack", "haystack-radius": 0, opacity: 0.6 }
      : { width: 1.5, "line-color": "#7f7f7f", "target-arrow-color": "#7f7f7f", "target-arrow-shape": "triangle", "curve-style": "bezier" };
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      layout: large
        ? { name: "concentric", animate: false, concentric: function (node) { return node.degree(); }, levelWidth: function () { return 4; }, minNodeSpacing: 4 }
        : { name: "cose", animate: false },
      pixelRatio: large ? 1 : "auto",
      motionBlur: false,
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      style: [
        { selector: "node", style: { "background-color": "#2a2859", label: "data(label)", "font-size": 10, color: "#2c2c2c", "text-valign": "bottom", "min-zoomed-font-size": large ? 8 : 0 } },
        { selector: "node.external", style: { "background-color": "#666", shape: "round-rectangle" } },
        { selector: "edge", style: edgeStyle },
        { selector: "edge.requested", style: { "line-style": "dashed" } },
        { selector: "edge.counted", style: large ? { width: "data(width)" } : { width: "data(width)", label: "data(label)", "font-size": 9 } },
        { selector: "edge.both", style: large ? {} : { "source-arrow-shape": "triangle", "source-arrow-color": "#7f7f7f" } },
        { selector: "edge.personal", style: { "line-color": "#c9302c", "target-arrow-color": "#c9302c" } }
      ]
    });
    cy.on("tap", "node, edge", function (event) {
      var url = event.target.data("url");
      if (!url) { return; }
      // An agency's node (on the agency-level map) narrows this page to the agency; a system's opens it.
      window.location.href = url.charAt(0) === "?" ? window.location.pathname + url : url;
    });
    window.kompassMap = cy;
    // "Drawn" is after the first frame Cytoscape paints, not when its constructor returns.
    var laidOut = performance.now();
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        container.setAttribute("data-layout-ms", String(Math.round(laidOut - started)));
        container.setAttribute("data-draw-ms", String(Math.round(performance.now() - started)));
        container.setAttribute("data-rendered", String(elements.length));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("integration-map");
    if (!container || !window.cytoscape) { return; }
    var fetched = performance.now();
    fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var started = performance.now();
        container.setAttribute("data-fetch-ms", String(Math.round(started - fetched)));
        draw(container, data, started);
      });
  });
})();
