/* The website's only script: interactive charts, "share" and "download".
 * Everything works without it: the static SVG stays as the chart, the share
 * link is an ordinary link to the figure's anchor, downloads are plain links
 * to figures/<id>.{svg,png,csv}.  Browsers ignore the download attribute for
 * file:// links, so from file:// the files are made in the page instead: the
 * CSV from the figure's embedded rows of estimates.csv, the SVG from the
 * static chart, the PNG from the chart's Vega view.
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

  function saveUrl(url, name) {
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
  }

  function svgToPngUrl(svg) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var box = svg.viewBox && svg.viewBox.baseVal;
      var w = (box && box.width) || svg.clientWidth, h = (box && box.height) || svg.clientHeight;
      img.onload = function () {
        var canvas = document.createElement("canvas");
        canvas.width = 2 * w;
        canvas.height = 2 * h;
        var ctx = canvas.getContext("2d");
        ctx.scale(2, 2);
        ctx.drawImage(img, 0, 0, w, h);
        resolve(canvas.toDataURL("image/png"));
      };
      img.onerror = reject;
      img.src = URL.createObjectURL(new Blob([svg.outerHTML], { type: "image/svg+xml" }));
    });
  }

  function pngUrl(fig) {
    if (fig.vegaView) return fig.vegaView.toImageURL("png", 2);
    return svgToPngUrl(fig.querySelector(".chart-static svg"));
  }

  /* From file:// the links get blob:/data: URLs made in the page, so that a
   * click downloads the file directly (a user-initiated download).  The PNG
   * is drawn when the download menu opens; a click before it is ready waits
   * for it. */
  function setupDownloads() {
    if (window.location.protocol !== "file:") return;  // over http(s) the links download as they are
    var figures = document.querySelectorAll("figure.report-figure");
    Array.prototype.forEach.call(figures, function (fig) {
      var menu = fig.querySelector("details.downloads");
      var csv = fig.querySelector('a[data-format="csv"]');
      var svg = fig.querySelector('a[data-format="svg"]');
      var png = fig.querySelector('a[data-format="png"]');
      var rows = fig.querySelector("script.figure-csv");
      var still = fig.querySelector(".chart-static svg");
      if (csv && rows) {
        csv.href = URL.createObjectURL(new Blob([rows.textContent], { type: "text/csv;charset=utf-8" }));
      }
      if (svg && still) {
        svg.href = URL.createObjectURL(new Blob([still.outerHTML], { type: "image/svg+xml" }));
      }
      if (!png || !menu) return;
      var pending = null;
      function preparePng() {
        if (!pending) {
          pending = pngUrl(fig).then(function (url) {
            png.href = url;
            png.setAttribute("data-ready", "");
            return url;
          });
        }
        return pending;
      }
      menu.addEventListener("toggle", function () { if (menu.open) preparePng(); });
      png.addEventListener("click", function (event) {
        if (png.hasAttribute("data-ready")) return;
        event.preventDefault();
        preparePng().then(function (url) { saveUrl(url, png.getAttribute("download")); });
      });
    });
  }

  function start() {
    setupShare();
    setupDownloads();
    embedCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
