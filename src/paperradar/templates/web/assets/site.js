// The language toggle: zh, en or both, remembered in this browser. Loaded in <head> so the
// chosen language applies before the page paints.
(function () {
  "use strict";
  var KEY = "paperradar.show";
  var MODES = ["zh", "en", "both"];
  var root = document.documentElement;

  function stored() {
    try {
      var mode = window.localStorage.getItem(KEY);
      return MODES.indexOf(mode) >= 0 ? mode : null;
    } catch (error) {
      return null; // storage disabled: the toggle still works for this page
    }
  }

  function apply(mode) {
    root.setAttribute("data-show", mode);
    var buttons = document.querySelectorAll("[data-show-mode]");
    for (var i = 0; i < buttons.length; i++) {
      var pressed = buttons[i].getAttribute("data-show-mode") === mode;
      buttons[i].setAttribute("aria-pressed", pressed ? "true" : "false");
    }
  }

  function choose(mode) {
    try {
      window.localStorage.setItem(KEY, mode);
    } catch (error) {
      // not remembered, still shown
    }
    apply(mode);
  }

  apply(stored() || "both");
  document.addEventListener("DOMContentLoaded", function () {
    apply(root.getAttribute("data-show"));
    var buttons = document.querySelectorAll("[data-show-mode]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        choose(event.currentTarget.getAttribute("data-show-mode"));
      });
    }
  });
})();
