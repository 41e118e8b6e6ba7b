/* /alerts — one-key handling and the audible cue.
 * j / ArrowDown, k / ArrowUp: move the selection (clicks the row, Dash does the rest);
 * a: acknowledge the selected alert (clicks the Acknowledge button).
 * The cue: while the page shows an unacknowledged level I–II alert (#alerts-cue has
 * data-cue="1") and sound is on (data-sound="1"), the shipped alarm.wav plays every 3 s.
 * Browsers allow audio only after the user has interacted with the page once.
 * Data age: #alerts-refreshed gets a new data-tick on every refresh (every 2 s); when
 * none arrived for 10 s it is marked data-stale="1" (red dot, "not updated" note), so a
 * stalled page cannot pass for a quiet queue. */
(function () {
  "use strict";
  var audio = null;
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.isContentEditable);
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#alerts-queue tbody tr"));
  }
  document.addEventListener("keydown", function (ev) {
    if (!document.getElementById("alerts-queue") || typing(ev.target) ||
        ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var list = rows();
    var at = list.findIndex(function (r) { return r.classList.contains("selected"); });
    if (ev.key === "j" || ev.key === "ArrowDown") {
      if (list.length) { list[Math.min(list.length - 1, at + 1)].click(); }
      ev.preventDefault();
    } else if (ev.key === "k" || ev.key === "ArrowUp") {
      if (list.length) { list[Math.max(0, at - 1)].click(); }
      ev.preventDefault();
    } else if (ev.key === "a" || ev.key === "A") {
      var btn = document.getElementById("alerts-ack");
      if (btn && !btn.disabled) { btn.click(); }
      ev.preventDefault();
    }
  });
  var lastTick = null;
  var lastSeen = Date.now();
  setInterval(function () {
    var el = document.getElementById("alerts-refreshed");
    if (!el) { lastTick = null; return; }
    var tick = el.getAttribute("data-tick");
    if (tick !== lastTick) { lastTick = tick; lastSeen = Date.now(); }
    var stale = Date.now() - lastSeen > 10000;
    if ((el.getAttribute("data-stale") === "1") !== stale) {
      el.setAttribute("data-stale", stale ? "1" : "0");
    }
  }, 1000);
  setInterval(function () {
    var cue = document.getElementById("alerts-cue");
    if (!cue || cue.dataset.cue !== "1" || cue.dataset.sound !== "1") { return; }
    try {
      if (!audio) { audio = new Audio("/assets/alerts/alarm.wav"); }
      audio.currentTime = 0;
      var p = audio.play();
      if (p && p.catch) { p.catch(function () { /* autoplay blocked until a click */ }); }
    } catch (e) { /* no audio device: the visual cue remains */ }
  }, 3000);
})();
