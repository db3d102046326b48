// The meeting's time in the visitor's own locale and zone, and the countdown to its opening.
// Loaded from meetbot's own address: the pages' Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var lang = document.documentElement.lang;

  // The visitor's own variant of the page's language (en-GB, uk-UA), else the language itself.
  function visitorLocale() {
    var wanted = navigator.languages || [navigator.language];
    for (var i = 0; i < wanted.length; i++) {
      if (wanted[i] && wanted[i].toLowerCase().split("-")[0] === lang) return wanted[i];
    }
    return lang;
  }
  var locale = visitorLocale();

  // "Eastern European Standard Time" rather than a zone id: ids have legacy aliases
  // (Europe/Kiev, Asia/Calcutta) that browsers still report.
  function zoneName(date) {
    var parts = new Intl.DateTimeFormat(locale, { timeZoneName: "long" }).formatToParts(date);
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].type === "timeZoneName") return parts[i].value;
    }
    return "";
  }

  function showTime(box) {
    var start = new Date(box.dataset.starts), end = new Date(box.dataset.ends);
    var day = new Intl.DateTimeFormat(locale, { dateStyle: "full" }).format(start);
    var clock = new Intl.DateTimeFormat(locale, { timeStyle: "short" });
    // Not formatRange: a meeting across midnight would repeat both dates in numbers.
    box.textContent = day + ", " + clock.format(start) + " – " + clock.format(end) +
      " (" + zoneName(start) + ")";
  }

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  // Counted from the server's "seconds left", not the visitor's clock, which may be off.
  function countDown(box) {
    var openAt = performance.now() + 1000 * Number(box.dataset.seconds);
    var dayWords = JSON.parse(box.dataset.days);
    var plural = new Intl.PluralRules(locale);
    function tick() {
      var left = Math.round((openAt - performance.now()) / 1000);
      if (left <= 0) {
        box.textContent = "00:00:00";
        setTimeout(function () { location.reload(); }, 1500);
        return;
      }
      var days = Math.floor(left / 86400), rest = left % 86400;
      var word = dayWords[plural.select(days)] || dayWords.other;
      box.textContent = (days ? days + " " + word + " " : "") +
        pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
      setTimeout(tick, 1000);
    }
    tick();
  }

  document.querySelectorAll("[data-starts]").forEach(showTime);
  var countdown = document.getElementById("countdown");
  if (countdown) countDown(countdown);
})();
