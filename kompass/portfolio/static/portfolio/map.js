// The integration map: draws the JSON of /api/portfolio/map/ with Cytoscape.js (vendored).
// The page's table holds the same facts for keyboard and screen-reader users.
(function () {
  "use strict";
  function draw(container, data) {
    // Large graphs: straight edges (much cheaper than bezier) and no edge labels, so they draw quickly.
    var large = data.edges.length > 300;
    var elements = data.nodes.map(function (n) {
      return { data: { id: n.id, label: n.label, url: n.url }, classes: n.external ? "external" : "" };
    }).concat(data.edges.map(function (e) {
      return { data: { id: e.id, source: e.source, target: e.target, label: e.label, url: e.url, width: Math.min(1 + Math.log(e.count), 8) }, classes: e.status + (e.personal_data ? " personal" : "") + (data.level === "agency" ? " counted" : "") };
    }));
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      layout: { name: elements.length > 1500 ? "concentric" : "cose", animate: false },
      textureOnViewport: elements.length > 2000,
      hideEdgesOnViewport: elements.length > 2000,
      style: [
        { selector: "node", style: { "background-color": "#2a2859", label: "data(label)", "font-size": 10, color: "#2c2c2c", "text-valign": "bottom" } },
        { selector: "node.external", style: { "background-color": "#666", shape: "round-rectangle" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#7f7f7f", "target-arrow-color": "#7f7f7f", "target-arrow-shape": "triangle", "curve-style": large ? "straight" : "bezier" } },
        { selector: "edge.requested", style: { "line-style": "dashed" } },
        { selector: "edge.counted", style: large ? { width: "data(width)" } : { width: "data(width)", label: "data(label)", "font-size": 9 } },
        { selector: "edge.personal", style: { "line-color": "#c9302c", "target-arrow-color": "#c9302c" } }
      ]
    });
    cy.on("tap", "node, edge", function (event) {
      var url = event.target.data("url");
      if (!url) { return; }
      // An agency's node (on the agency-level map) narrows this page to the agency; a system's opens it.
      window.location.href = url.charAt(0) === "?" ? window.location.pathname + url : url;
    });
    container.setAttribute("data-rendered", String(elements.length));
    window.kompassMap = cy;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("integration-map");
    if (!container || !window.cytoscape) { return; }
    fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { draw(container, data); });
  });
})();
