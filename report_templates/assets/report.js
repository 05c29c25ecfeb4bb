/* The website's only script: interactive charts, "share" and "download".
 * Everything works without it: the static SVG stays as the chart, the share
 * link is an ordinary link to the figure's anchor, downloads are plain links
 * to figures/<id>.{svg,png,csv}.  Browsers ignore the download attribute for
 * file:// links, so from file:// the files are made in the page instead: the
 * CSV from the figure's embedded rows of estimates.csv, the SVG from the
 * static chart in its frame (headline, source, N, publisher, notice), the PNG
 * drawn from that SVG.
 * It loads nothing from the network (the Vega libraries are in assets/vendor/). */
(function () {
  "use strict";

  /* Each figure carries its chart in two layouts (wide, narrow); the one drawn is the one the CSS
   * shows as static SVG: narrow below 40rem.  Crossing that width draws the chart again. */
  var NARROW = window.matchMedia ? window.matchMedia("(max-width: 40rem)") : null;

  function layoutSpec(fig) {
    var want = NARROW && NARROW.matches ? "narrow" : "wide";
    var script = fig.querySelector('script.vega-spec[data-layout="' + want + '"]') ||
      fig.querySelector("script.vega-spec");
    return script ? { layout: script.getAttribute("data-layout"), text: script.textContent } : null;
  }

  function embedChart(fig) {
    var live = fig.querySelector(".chart-live");
    var still = fig.querySelector(".chart-static");
    var chosen = layoutSpec(fig);
    if (!chosen || !live || !still || fig.getAttribute("data-layout") === chosen.layout) return;
    var spec;
    try { spec = JSON.parse(chosen.text); } catch (e) { return; }
    window.vegaEmbed(live, spec, { mode: "vega-lite", renderer: "svg", actions: false })
      .then(function (result) {
        if (fig.vegaView && fig.vegaView !== result.view) fig.vegaView.finalize();
        live.hidden = false;
        still.hidden = true;
        fig.setAttribute("data-layout", chosen.layout);
        fig.classList.add("chart-is-live");
        fig.vegaView = result.view;
      })
      .catch(function () { live.hidden = true; still.hidden = false; });
  }

  function embedCharts() {
    if (typeof window.vegaEmbed !== "function") return;
    var figures = document.querySelectorAll("figure.report-figure");
    Array.prototype.forEach.call(figures, embedChart);
    if (NARROW && NARROW.addEventListener) {
      NARROW.addEventListener("change", function () { Array.prototype.forEach.call(figures, embedChart); });
    }
  }

  /* The embed code names the figure's files relatively; served over http(s), it gets absolute addresses. */
  function setupEmbed() {
    if (!/^https?:$/.test(window.location.protocol)) return;
    var codes = document.querySelectorAll("textarea.embed-code");
    Array.prototype.forEach.call(codes, function (code) {
      code.value = code.value.replace(/(href|src)="([^"]*)"/g, function (m, attr, url) {
        return attr + '="' + new URL(url, window.location.href).href + '"';
      });
    });
  }

  /* A figure page's citation names the page relatively (absolute with --base-url); served over http(s),
   * it names the address the reader opened. */
  function setupCite() {
    if (!/^https?:$/.test(window.location.protocol)) return;
    var urls = document.querySelectorAll(".cite-url:not([data-absolute])");
    Array.prototype.forEach.call(urls, function (url) {
      url.textContent = window.location.href.split("#")[0];
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

  /* The downloaded chart: the static wide SVG inside the frame the build made (headline above, source,
   * N, publisher and the synthetic-data notice below), the same picture as figures/<id>.svg. */
  function framedSvg(fig) {
    var frame = fig.querySelector("script.figure-frame");
    var still = fig.querySelector(".chart-static .chart-wide svg") || fig.querySelector(".chart-static svg");
    if (!frame || !still) return null;
    var parts;
    try { parts = JSON.parse(frame.textContent); } catch (e) { return null; }
    // XML, not outerHTML: HTML serialisation writes &nbsp;, which an SVG file may not contain
    return parts.head + new XMLSerializer().serializeToString(still) + parts.foot;
  }

  function svgToPngUrl(text) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var root = text.slice(0, text.indexOf(">"));
      var w = parseFloat((/ width="([0-9.]+)"/.exec(root) || [])[1]);
      var h = parseFloat((/ height="([0-9.]+)"/.exec(root) || [])[1]);
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
      img.src = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    });
  }

  function pngUrl(fig) {
    return svgToPngUrl(framedSvg(fig));
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
      var framed = framedSvg(fig);
      if (csv && rows) {
        csv.href = URL.createObjectURL(new Blob([rows.textContent], { type: "text/csv;charset=utf-8" }));
      }
      if (svg && framed) {
        svg.href = URL.createObjectURL(new Blob([framed], { type: "image/svg+xml" }));
      }
      if (!png || !menu || !framed) return;
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
    setupEmbed();
    setupCite();
    embedCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
