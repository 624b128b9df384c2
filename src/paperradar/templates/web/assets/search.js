// Search over the archive's monthly index shards (search/YYYY-MM.js, newest first). A paper
// matches when each query term is in its id, title, Chinese title or TL;DR, authors or the
// names of its topics (both languages), or when every word of the term starts a word of its
// abstract. Terms are substrings, so Chinese (written without spaces) matches inside words:
// 融合 finds 模型融合. Title hits rank first, then topic and author hits, then newer.
(function () {
  "use strict";
  var LIMIT = 100;
  var SHORTEST_PREFIX = 3; // shorter words must match an abstract word exactly
  var WORD = /[\p{L}\p{N}]+/gu;
  var shards = window.paperradarShards || [];
  var docs = [];
  var topics = {};
  var ignored = {};
  var status = document.getElementById("status");
  var hint = document.getElementById("hint");
  var words = JSON.parse(status.getAttribute("data-words"));
  var language = document.documentElement.lang;
  var chinese = language.indexOf("zh") === 0;
  var plurals = new Intl.PluralRules(language);
  var days = new Intl.DateTimeFormat(language, { year: "numeric", month: "short", day: "numeric" });

  // Compare text the way a reader types it: full-width letters and digits as ASCII, any case.
  function fold(text) {
    return text.normalize("NFKC").toLowerCase();
  }

  // A catalog text (web.search.*) in the page's language, its plural form chosen by `count`.
  function say(name, values) {
    var forms = words[name];
    var form = "count" in values ? plurals.select(values.count) : "other";
    var text = forms[form] || forms.other;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? String(values[key]) : whole;
    });
  }

  // A pick's topic names: the page's language first, then the other ([] for a gone topic).
  function topicNames(pick) {
    var names = (topics[pick[0]] || {})[pick[1]];
    if (!names) return [pick[1]];
    var english = names[0];
    var zh = names[1];
    if (!zh) return [english];
    return chinese ? [zh, english] : [english, zh];
  }

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
      doc.head = fold(doc.title + "\u0001" + doc.titleZh + "\u0001" + doc.tldrZh);
      doc.people = fold(doc.authors);
      // The names, in both languages, of the topics the paper was picked for.
      doc.topics = fold(
        doc.picks
          .map(function (pick) {
            return topicNames(pick).join("\u0001");
          })
          .join("\u0001")
      );
      docs.push(doc);
      return docs.length - 1;
    });
  });

  // Every doc's id, titles, TL;DR, authors and topic names in one string: one native indexOf
  // pass over it finds a term in all docs at once. starts[i] is where doc i begins.
  var starts = new Int32Array(docs.length + 1);
  var haystack = docs
    .map(function (doc, index) {
      var text = doc.id + "\u0001" + doc.head + "\u0001" + doc.people + "\u0001" + doc.topics + "\u0002";
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
    return fold(query)
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
      else if (doc.topics.indexOf(term) >= 0) total += 2;
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

  // Where the terms occur in a text, as merged [start, end) ranges.
  function ranges(text, terms) {
    var folded = fold(text);
    if (folded.length !== text.length) return []; // folding moved the offsets: no marks
    var found = [];
    terms.forEach(function (term) {
      for (var at = folded.indexOf(term); at >= 0; at = folded.indexOf(term, at + term.length)) {
        found.push([at, at + term.length]);
      }
    });
    found.sort(function (a, b) {
      return a[0] - b[0];
    });
    var merged = [];
    found.forEach(function (range) {
      var last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push(range.slice());
    });
    return merged;
  }

  // An element showing `text` with each occurrence of a term in <mark>.
  function marked(tag, className, text, lang, terms) {
    var node = element(tag, className, null, lang);
    var from = 0;
    ranges(text, terms).forEach(function (range) {
      node.appendChild(document.createTextNode(text.slice(from, range[0])));
      node.appendChild(element("mark", null, text.slice(range[0], range[1])));
      from = range[1];
    });
    node.appendChild(document.createTextNode(text.slice(from)));
    return node;
  }

  function dayLabel(iso) {
    var parts = iso.split("-");
    return days.format(new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2], 12)));
  }

  function result(doc, terms) {
    var item = element("li", "result");
    var link = marked("a", "title", doc.title, "en", terms);
    link.href = "papers/" + doc.id.replace(/\//g, "_") + ".html";
    item.appendChild(link);
    if (doc.titleZh) item.appendChild(marked("p", "title-zh zh", doc.titleZh, "zh", terms));
    if (doc.tldrZh) item.appendChild(marked("p", "tldr zh", doc.tldrZh, "zh", terms));
    item.appendChild(marked("p", "authors", doc.authors, null, terms));
    var picks = element("p", "meta");
    doc.picks.forEach(function (pick, position) {
      var names = topicNames(pick);
      // The other language's name too when that is what the reader searched for.
      var shown = names.filter(function (name, index) {
        return index === 0 || (ranges(name, terms).length && !ranges(names[0], terms).length);
      });
      if (position) picks.appendChild(document.createTextNode(" · "));
      picks.appendChild(element("span", "percent", pick[3] + "%"));
      picks.appendChild(document.createTextNode(" "));
      picks.appendChild(marked("span", "topic", shown.join(" · "), null, terms));
      picks.appendChild(document.createTextNode(" "));
      var day = element("a", "day", dayLabel(pick[2]));
      day.href = pick[0] + "/" + pick[2] + ".html";
      picks.appendChild(day);
    });
    item.appendChild(picks);
    return item;
  }

  function show(query) {
    var list = document.getElementById("results");
    var terms = termsOf(query);
    var found = search(query);
    list.textContent = "";
    found.slice(0, LIMIT).forEach(function (doc) {
      list.appendChild(result(doc, terms));
    });
    hint.hidden = true;
    if (!terms.length) {
      status.textContent = say("total", { count: docs.length });
    } else if (!found.length) {
      status.textContent = say("empty", { query: query.trim() });
      hint.textContent = say("empty_hint", {});
      hint.hidden = false;
    } else {
      status.textContent =
        say("found", { count: found.length }) +
        (found.length > LIMIT ? say("first_shown", { count: LIMIT }) : "");
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
