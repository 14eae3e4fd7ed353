// The integration map: draws the JSON of /portfolio/map/data/ with Cytoscape.js (vendored).
// The page's table holds the same facts for keyboard and screen-reader users.
(function () {
  "use strict";
  function draw(container, data) {
    var elements = data.nodes.map(function (n) {
      return { data: { id: n.id, label: n.label + (n.agency ? " (" + n.agency + ")" : ""), url: n.url }, classes: n.external ? "external" : "" };
    }).concat(data.edges.map(function (e) {
      return { data: { id: e.id, source: e.source, target: e.target, label: e.label, url: e.url }, classes: e.status + (e.personal_data ? " personal" : "") };
    }));
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      layout: { name: elements.length > 2000 ? "grid" : "cose", animate: false },
      textureOnViewport: elements.length > 2000,
      hideEdgesOnViewport: elements.length > 2000,
      style: [
        { selector: "node", style: { "background-color": "#2a2859", label: "data(label)", "font-size": 10, color: "#2c2c2c", "text-valign": "bottom" } },
        { selector: "node.external", style: { "background-color": "#666", shape: "round-rectangle" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#7f7f7f", "target-arrow-color": "#7f7f7f", "target-arrow-shape": "triangle", "curve-style": "bezier" } },
        { selector: "edge.requested", style: { "line-style": "dashed" } },
        { selector: "edge.personal", style: { "line-color": "#c9302c", "target-arrow-color": "#c9302c" } }
      ]
    });
    cy.on("tap", "node, edge", function (event) {
      var url = event.target.data("url");
      if (url) { window.location.href = url; }
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
