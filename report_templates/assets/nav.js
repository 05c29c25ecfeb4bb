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
