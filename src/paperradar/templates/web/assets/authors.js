// The researchers' index: keep the names that hold every word typed (accents ignored).
"use strict";
(function () {
  const input = document.getElementById("author-filter");
  const items = Array.from(document.querySelectorAll("#authors li"));
  if (!input) return;
  const fold = (text) => text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const apply = () => {
    const words = fold(input.value).split(/[\s,.-]+/).filter(Boolean);
    for (const item of items) {
      const name = fold(item.dataset.name || "");
      item.hidden = !words.every((word) => name.includes(word));
    }
  };
  const query = new URLSearchParams(window.location.search).get("q");
  if (query) input.value = query;
  input.addEventListener("input", apply);
  apply();
})();
