/* crswatch charts: render every Vega-Lite spec on the page with the vendored vegaEmbed.
 *
 * A container is any element with a `data-vega-spec` attribute.  The spec is the attribute's
 * value (JSON, as the templates write it with Jinja's `tojson`); an empty attribute means the
 * spec is in a `<script type="application/json">` child.  Each container is rendered once:
 * `data-rendered="true"` on success (the end-to-end tests wait for it), `data-render-error`
 * with the message on failure.  Runs on DOMContentLoaded and after every htmx swap, so a panel
 * swapped in by htmx gets its chart too.  No dependency beyond the `vegaEmbed` global.
 *
 * Every chart is fitted to its container's width before it is drawn (decision 0051): the panels
 * of a figure share one width, legends move below the plot on narrow screens, and a figure is
 * drawn again when the window's width changes (a tablet turned, a phone rotated).
 */
(function () {
  "use strict";

  function specOf(el) {
    var text = el.getAttribute("data-vega-spec");
    if (!text || !text.trim()) {
      var script = el.querySelector('script[type="application/json"]');
      text = script ? script.textContent : "";
    }
    if (!text || !text.trim()) {
      throw new Error("no Vega-Lite spec in data-vega-spec or a JSON script child");
    }
    return JSON.parse(text);
  }

  // Room beside a plot for its y axis title and labels, and a legend on the right.
  var AXIS_ROOM = 80;
  var LEGEND_ROOM = 170;
  var NARROW = 600;

  function walk(node, visit) {
    if (Array.isArray(node)) {
      node.forEach(function (child) { walk(child, visit); });
    } else if (node && typeof node === "object") {
      visit(node);
      Object.keys(node).forEach(function (key) {
        if (key !== "datasets" && key !== "usermeta") { walk(node[key], visit); }
      });
    }
  }

  function wrap(text, width) {
    var lines = [];
    var line = "";
    text.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  function fit(el, spec) {
    var available = el.clientWidth || el.parentElement.clientWidth || 720;
    var narrow = available < NARROW;
    var width = Math.max(160, available - AXIS_ROOM - (narrow ? 10 : LEGEND_ROOM));
    var views = spec.vconcat || [spec];
    views.forEach(function (view) {
      if (typeof view.width === "number") { view.width = Math.min(width, 1100); }
    });
    if (narrow) {
      // Long titles are set on several lines, as many as the width needs.
      if (spec.title && typeof spec.title === "object") {
        ["text", "subtitle"].forEach(function (key) {
          if (typeof spec.title[key] === "string") {
            spec.title[key] = wrap(spec.title[key], Math.max(20, Math.floor(available / 7)));
          }
        });
      }
      walk(spec, function (node) {
        if (node.legend && typeof node.legend === "object" && node.legend.orient === "right") {
          node.legend.orient = "bottom";
          node.legend.direction = "vertical";
        }
        if (node.type === "text" && (node.align === "left" || node.align === "right")) {
          node.limit = Math.max(60, Math.floor(width / 2)); // labels cut short, full in the table
        }
        if (node.axis && typeof node.axis === "object") {
          if (node.axis.labelLimit) {
            node.axis.labelLimit = 100; // lane names: shortened, the full name in the tooltip
          }
          if (typeof node.axis.title === "string") {
            node.axis.title = wrap(node.axis.title, Math.max(20, Math.floor(available / 7)));
          }
        }
      });
    }
    el.setAttribute("data-fitted-width", String(available));
    return spec;
  }

  function fail(el, error) {
    el.removeAttribute("data-rendering");
    el.setAttribute("data-render-error", String((error && error.message) || error));
    if (window.console) {
      window.console.error("crswatch chart:", error);
    }
  }

  function draw(el, spec, retries) {
    window
      .vegaEmbed(el, spec, { actions: false, renderer: "svg" })
      .then(function (result) {
        // Axis labels and legends take what room they need: when the drawing came out wider
        // than its container, draw it again with the plots narrowed by the excess (at most
        // three times: a label wider than the whole screen cannot be helped).
        var svg = el.querySelector("svg");
        var excess = svg ? svg.getBoundingClientRect().width - el.clientWidth : 0;
        if (retries > 0 && excess > 1) {
          result.finalize();
          (spec.vconcat || [spec]).forEach(function (view) {
            if (typeof view.width === "number") {
              view.width = Math.max(120, view.width - Math.ceil(excess) - 4);
            }
          });
          draw(el, spec, retries - 1);
          return;
        }
        el.removeAttribute("data-rendering");
        el.setAttribute("data-rendered", "true");
      })
      .catch(function (error) {
        fail(el, error);
      });
  }

  function render(el) {
    if (
      el.hasAttribute("data-rendered") ||
      el.hasAttribute("data-rendering") ||
      el.hasAttribute("data-render-error")
    ) {
      return; // once per container, even when a swap and the page load both ask
    }
    el.setAttribute("data-rendering", "true");
    var spec;
    try {
      if (typeof window.vegaEmbed !== "function") {
        throw new Error("vegaEmbed is not loaded");
      }
      spec = fit(el, specOf(el));
    } catch (error) {
      fail(el, error);
      return;
    }
    draw(el, spec, 3);
  }

  function renderAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-vega-spec]")) {
      render(scope);
    }
    var found = scope.querySelectorAll("[data-vega-spec]");
    for (var i = 0; i < found.length; i += 1) {
      render(found[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      renderAll(document);
    });
  } else {
    renderAll(document);
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      var drawn = document.querySelectorAll("[data-vega-spec][data-rendered]");
      for (var i = 0; i < drawn.length; i += 1) {
        var el = drawn[i];
        if (Math.abs(el.clientWidth - Number(el.getAttribute("data-fitted-width"))) > 40) {
          el.removeAttribute("data-rendered");
          render(el);
        }
      }
    }, 250);
  });
  document.addEventListener("htmx:afterSwap", function () {
    // The whole document, not only the target: out-of-band swaps land elsewhere, and
    // containers already drawn are skipped.
    renderAll(document);
  });
})();
