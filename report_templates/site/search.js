/* The site's search (build.py --site): filters the entries of search-index.<lang>.js (loaded
 * before this script with a <script> element, so it works from file:// and offline) as the
 * reader types, and shows them above the static list of every figure and chapter, which is
 * what the page shows without JavaScript.  A query in the address (?q=, from the search box
 * on every page) is run at once.  No outside service, no fetch. */
(function () {
  "use strict";
  var data = window.barometerSearch;
  var form = document.getElementById("search-form");
  if (!data || !form) return;
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var all = document.getElementById("search-all");

  function norm(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\u00a0/g, " ");
  }
  var items = data.entries.map(function (e) {
    return { e: e, title: norm(e[0]), rest: norm(e[1] + " " + e[3]) };
  });

  function say(key, n, q) {
    return status.getAttribute("data-" + key).replace("{n}", String(n)).replace("{q}", q);
  }

  function show(q) {
    var terms = norm(q).split(/\s+/).filter(Boolean);
    results.textContent = "";
    if (!terms.length) {
      status.textContent = "";
      results.hidden = true;
      all.hidden = false;
      return;
    }
    var hits = [];
    items.forEach(function (it, i) {
      var score = 0;
      for (var k = 0; k < terms.length; k++) {
        var inTitle = it.title.indexOf(terms[k]) >= 0;
        if (!inTitle && it.rest.indexOf(terms[k]) < 0) return;  // every word must be found
        score += inTitle ? 2 : 1;
      }
      hits.push([score, i, it.e]);
    });
    hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    status.textContent = say(hits.length === 0 ? "none" : hits.length === 1 ? "one" : "many", hits.length, q.trim());
    hits.forEach(function (h) {
      var e = h[2], li = document.createElement("li"), a = document.createElement("a"), where = document.createElement("span");
      a.href = e[2];
      a.textContent = e[0];
      where.className = "search-where";
      where.textContent = e[3];
      li.appendChild(a);
      li.appendChild(document.createElement("br"));
      li.appendChild(where);
      if (e[1]) {
        var text = document.createElement("span");
        text.className = "search-text";
        text.textContent = e[1].length > 240 ? e[1].slice(0, e[1].lastIndexOf(" ", 240)) + " …" : e[1];
        li.appendChild(document.createElement("br"));
        li.appendChild(text);
      }
      results.appendChild(li);
    });
    results.hidden = hits.length === 0;
    all.hidden = true;
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { show(input.value); }, 150);
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearTimeout(timer);
    show(input.value);
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) {
    input.value = q;
    show(q);
  }
})();
