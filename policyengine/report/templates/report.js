// Progressive enhancement: search and filters. Without JavaScript every finding is listed.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  var q = document.getElementById("q");
  var source = document.getElementById("source");
  var onlyNew = document.getElementById("only-new");
  var findings = Array.prototype.slice.call(document.querySelectorAll("details.finding"));
  var shown = document.getElementById("shown-count");
  var noMatch = document.getElementById("no-match");
  function apply() {
    var text = q.value.trim().toLowerCase();
    var sevs = {};
    form.querySelectorAll("input[name=sev]").forEach(function (box) { sevs[box.value] = box.checked; });
    var count = 0;
    findings.forEach(function (el) {
      var ok = sevs[el.dataset.severity] !== false &&
        (!source.value || el.dataset.source === source.value) &&
        (!onlyNew.checked || el.dataset.new === "true") &&
        (!text || el.dataset.text.indexOf(text) !== -1);
      el.hidden = !ok;
      if (ok) { count += 1; }
    });
    document.querySelectorAll(".policy, .sev-group").forEach(function (group) {
      group.hidden = !group.querySelector("details.finding:not([hidden])");
    });
    shown.textContent = String(count);
    noMatch.hidden = count !== 0 || findings.length === 0;
  }
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("expand").addEventListener("click", function () {
    var open = this.textContent === "Expand all";
    findings.forEach(function (el) { if (!el.hidden) { el.open = open; } });
    this.textContent = open ? "Collapse all" : "Expand all";
  });
  document.body.classList.add("js");
  apply();
}());
