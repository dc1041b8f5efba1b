// Progressive enhancement: search and filters. Without JavaScript every finding is listed.
// The filter state lives in the URL fragment (#q=bob&sev=critical,high&source=okta&new=1),
// so a filtered view can be bookmarked or sent to a colleague.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  var q = document.getElementById("q");
  var source = document.getElementById("source");
  var onlyNew = document.getElementById("only-new");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=sev]"));
  var findings = Array.prototype.slice.call(document.querySelectorAll("details.finding"));
  var shown = document.getElementById("shown-count");
  var noMatch = document.getElementById("no-match");

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (params.has("q")) { q.value = params.get("q"); }
    if (params.has("sev")) {
      var wanted = params.get("sev").split(",");
      boxes.forEach(function (box) { box.checked = wanted.indexOf(box.value) !== -1; });
    }
    if (params.has("source")) { source.value = params.get("source"); }
    onlyNew.checked = params.get("new") === "1";
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (q.value) { params.set("q", q.value); }
    var sevs = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (sevs.length !== boxes.length) { params.set("sev", sevs.join(",")); }
    if (source.value) { params.set("source", source.value); }
    if (onlyNew.checked) { params.set("new", "1"); }
    var text = params.toString();
    history.replaceState(null, "", text ? "#" + text : window.location.pathname);
  }

  function apply() {
    var text = q.value.trim().toLowerCase();
    var sevs = {};
    boxes.forEach(function (box) { sevs[box.value] = box.checked; });
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

  form.addEventListener("input", function () { apply(); writeHash(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  document.getElementById("expand").addEventListener("click", function () {
    var open = this.textContent === "Expand all";
    findings.forEach(function (el) { if (!el.hidden) { el.open = open; } });
    this.textContent = open ? "Collapse all" : "Expand all";
  });
  document.body.classList.add("js");
  readHash();
  apply();
}());
