/* On a phone the site navigation is one line that scrolls sideways: bring the current page's item
 * into view (the list scrolls, never the page).  Without this script the list starts at its first item. */
(function () {
  "use strict";
  var list = document.querySelector(".site-nav ul");
  var current = list && list.querySelector('[aria-current="page"]');
  if (!current || list.scrollWidth <= list.clientWidth) return;
  var item = current.parentNode;
  list.scrollLeft = Math.max(0, item.offsetLeft - list.offsetLeft - (list.clientWidth - item.offsetWidth) / 2);
})();

/* The site's language switcher leads to the same page in the other language: keep the figure anchor
 * (figures are named by id, the same in both languages).  Without this script it opens the page's top. */
(function () {
  "use strict";
  var links = document.querySelectorAll("a[data-keep-hash]");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (ev) {
      if (location.hash && this.href.indexOf("#") < 0) { this.href = this.href + location.hash; }
    });
  }
})();
