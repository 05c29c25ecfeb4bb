/* The website's only script: interactive charts, "share" and nothing else.
 * Everything works without it: the static SVG stays as the chart, the share
 * link is an ordinary link to the figure's anchor, downloads are plain links.
 * It loads nothing from the network (the Vega libraries are in assets/vendor/). */
(function () {
  "use strict";

  function embedCharts() {
    if (typeof window.vegaEmbed !== "function") return;
    var figures = document.querySelectorAll("figure.report-figure");
    Array.prototype.forEach.call(figures, function (fig) {
      var script = fig.querySelector("script.vega-spec");
      var live = fig.querySelector(".chart-live");
      var still = fig.querySelector(".chart-static");
      if (!script || !live || !still) return;
      var spec;
      try { spec = JSON.parse(script.textContent); } catch (e) { return; }
      window.vegaEmbed(live, spec, { mode: "vega-lite", renderer: "svg", actions: false })
        .then(function (result) {
          live.hidden = false;
          still.hidden = true;
          fig.classList.add("chart-is-live");
          fig.vegaView = result.view;
        })
        .catch(function () { live.hidden = true; still.hidden = false; });
    });
  }

  function permalink(hash) {
    return window.location.href.split("#")[0] + hash;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return Promise.resolve(legacyCopy(text));
  }

  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the link still works */ }
    document.body.removeChild(area);
  }

  function setupShare() {
    var links = document.querySelectorAll("a.share-link");
    Array.prototype.forEach.call(links, function (link) {
      var status = document.createElement("span");
      status.className = "share-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      link.parentNode.insertBefore(status, link.nextSibling);
      link.addEventListener("click", function () {
        var url = permalink(link.getAttribute("href"));
        link.setAttribute("data-url", url);
        copyText(url).then(function () {
          status.textContent = link.getAttribute("data-copied") || "";
          window.setTimeout(function () { status.textContent = ""; }, 2500);
        });
      });
    });
  }

  function start() {
    setupShare();
    embedCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
