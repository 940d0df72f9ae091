/* crswatch charts: render every Vega-Lite spec on the page with the vendored vegaEmbed.
 *
 * A container is any element with a `data-vega-spec` attribute.  The spec is the attribute's
 * value (JSON, as the templates write it with Jinja's `tojson`); an empty attribute means the
 * spec is in a `<script type="application/json">` child.  Each container is rendered once:
 * `data-rendered="true"` on success (the end-to-end tests wait for it), `data-render-error`
 * with the message on failure.  Runs on DOMContentLoaded and after every htmx swap, so a panel
 * swapped in by htmx gets its chart too.  No dependency beyond the `vegaEmbed` global.
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

  function fail(el, error) {
    el.removeAttribute("data-rendering");
    el.setAttribute("data-render-error", String((error && error.message) || error));
    if (window.console) {
      window.console.error("crswatch chart:", error);
    }
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
      spec = specOf(el);
    } catch (error) {
      fail(el, error);
      return;
    }
    window
      .vegaEmbed(el, spec, { actions: false, renderer: "svg" })
      .then(function () {
        el.removeAttribute("data-rendering");
        el.setAttribute("data-rendered", "true");
      })
      .catch(function (error) {
        fail(el, error);
      });
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
  document.addEventListener("htmx:afterSwap", function () {
    // The whole document, not only the target: out-of-band swaps land elsewhere, and
    // containers already drawn are skipped.
    renderAll(document);
  });
})();
