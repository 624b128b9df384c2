// Search over the archive's monthly index shards (search/YYYY-MM.js, newest first). A paper
// matches when each query term is in its id, title, Chinese title or TL;DR or authors, or when
// every word of the term starts a word of its abstract. Title hits rank first, then newer.
(function () {
  "use strict";
  var LIMIT = 100;
  var SHORTEST_PREFIX = 3; // shorter words must match an abstract word exactly
  var WORD = /[\p{L}\p{N}]+/gu;
  var shards = window.PAPERRADAR_SEARCH || [];
  var docs = [];
  var topics = {};
  var ignored = {};

  shards.forEach(function (shard) {
    var at = {};
    shard.fields.forEach(function (name, position) {
      at[name] = position;
    });
    Object.keys(shard.topics).forEach(function (profile) {
      topics[profile] = topics[profile] || shard.topics[profile];
    });
    shard.ignored.forEach(function (word) {
      ignored[word] = true;
    });
    var seen = {};
    docs.forEach(function (doc) {
      seen[doc.id] = true;
    });
    shard.docs = shard.rows.map(function (row) {
      var id = row[at.id];
      if (seen[id]) return -1; // picked again later: the newer shard's row wins
      var doc = {
        id: id,
        day: row[at.day],
        title: row[at.title],
        titleZh: row[at.title_zh],
        tldrZh: row[at.tldr_zh],
        authors: row[at.authors],
        picks: row[at.picks],
      };
      doc.head = (doc.title + "\u0001" + doc.titleZh + "\u0001" + doc.tldrZh).toLowerCase();
      doc.people = doc.authors.toLowerCase();
      docs.push(doc);
      return docs.length - 1;
    });
  });

  // Every doc's id, titles, TL;DR and authors in one string: one native indexOf pass over it
  // finds a term in all docs at once. starts[i] is where doc i begins.
  var starts = new Int32Array(docs.length + 1);
  var haystack = docs
    .map(function (doc, index) {
      var text = doc.id + "\u0001" + doc.head + "\u0001" + doc.people + "\u0002";
      starts[index + 1] = starts[index] + text.length;
      return text;
    })
    .join("");

  function firstAtLeast(words, word) {
    var low = 0;
    var high = words.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (words[middle] < word) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  // Mark the docs whose abstract has a word starting with each word of `parts`.
  function markAbstracts(parts, marks) {
    shards.forEach(function (shard) {
      var count = new Uint8Array(shard.rows.length);
      parts.forEach(function (part, index) {
        var from = firstAtLeast(shard.words, part);
        var to = part.length < SHORTEST_PREFIX
          ? (shard.words[from] === part ? from + 1 : from)
          : firstAtLeast(shard.words, part + "\uffff");
        for (var w = from; w < to; w++) {
          var gaps = shard.postings[w];
          var row = 0;
          for (var g = 0; g < gaps.length; g++) {
            row += gaps[g];
            if (count[row] === index) count[row] = index + 1;
          }
        }
      });
      for (var row = 0; row < count.length; row++) {
        if (count[row] === parts.length && shard.docs[row] >= 0) marks[shard.docs[row]] = 1;
      }
    });
  }

  function docAt(offset) {
    var low = 0;
    var high = docs.length - 1;
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  // Mark the docs whose id, titles, TL;DR or authors contain the term.
  function markText(term, marks) {
    var at = haystack.indexOf(term);
    while (at >= 0) {
      var doc = docAt(at);
      marks[doc] = 1;
      at = haystack.indexOf(term, starts[doc + 1]);
    }
  }

  function termsOf(query) {
    return query
      .toLowerCase()
      .split(/[\s\u3000,，、;；]+/)
      .filter(function (term) {
        return term.length > 0;
      });
  }

  function score(doc, terms) {
    var total = 0;
    terms.forEach(function (term) {
      if (doc.head.indexOf(term) >= 0) total += 4;
      else if (doc.people.indexOf(term) >= 0) total += 3;
      else total += 1;
    });
    return total;
  }

  // Return the docs matching every term of the query, best first.
  function search(query) {
    var terms = termsOf(query);
    if (!terms.length) return [];
    var alive = null;
    terms.forEach(function (term) {
      var marks = new Uint8Array(docs.length);
      markText(term, marks);
      var parts = (term.match(WORD) || []).filter(function (part) {
        return !ignored[part];
      });
      if (parts.length) markAbstracts(parts, marks);
      if (alive) for (var i = 0; i < marks.length; i++) alive[i] &= marks[i];
      else alive = marks;
    });
    var found = [];
    for (var index = 0; index < alive.length; index++) {
      if (alive[index]) found.push({ doc: docs[index], score: score(docs[index], terms) });
    }
    found.sort(function (a, b) {
      if (b.score !== a.score) return b.score - a.score;
      return a.doc.day < b.doc.day ? 1 : a.doc.day > b.doc.day ? -1 : 0;
    });
    return found.map(function (hit) {
      return hit.doc;
    });
  }

  function element(tag, className, text, lang) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    if (lang) node.lang = lang;
    return node;
  }

  function result(doc) {
    var item = element("li", "result");
    var link = element("a", "title", doc.title, "en");
    link.href = "papers/" + doc.id.replace(/\//g, "_") + ".html";
    item.appendChild(link);
    if (doc.titleZh) item.appendChild(element("p", "title-zh zh", doc.titleZh, "zh"));
    if (doc.tldrZh) item.appendChild(element("p", "tldr zh", "TL;DR：" + doc.tldrZh, "zh"));
    item.appendChild(element("p", "authors", doc.authors));
    var picks = element("p", "meta");
    doc.picks.forEach(function (pick, position) {
      var profile = pick[0];
      var topic = (topics[profile] || {})[pick[1]] || pick[1];
      if (position) picks.appendChild(document.createTextNode(" · "));
      picks.appendChild(element("span", "percent", pick[3] + "%"));
      picks.appendChild(document.createTextNode(" " + topic + " "));
      var day = element("a", "day", pick[2]);
      day.href = profile + "/" + pick[2] + ".html";
      picks.appendChild(day);
    });
    item.appendChild(picks);
    return item;
  }

  function show(query) {
    var list = document.getElementById("results");
    var status = document.getElementById("status");
    var started = performance.now();
    var found = search(query);
    var elapsed = performance.now() - started;
    list.textContent = "";
    found.slice(0, LIMIT).forEach(function (doc) {
      list.appendChild(result(doc));
    });
    if (!termsOf(query).length) {
      status.textContent = docs.length + " papers in the archive.";
    } else {
      status.textContent =
        found.length + " paper" + (found.length === 1 ? "" : "s") +
        (found.length > LIMIT ? " (the first " + LIMIT + " shown)" : "") +
        " · " + elapsed.toFixed(1) + " ms";
    }
    status.setAttribute("data-count", String(found.length));
  }

  window.paperradarSearch = search;
  var input = document.getElementById("query");
  var timer = null;
  input.value = new URLSearchParams(window.location.search).get("q") || "";
  show(input.value);
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var url = new URL(window.location.href);
      url.searchParams.set("q", input.value);
      window.history.replaceState(null, "", url.toString());
      show(input.value);
    }, 120);
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(input.value);
  });
})();
