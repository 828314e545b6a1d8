/*
 * Mon ch'tipass: the rotating QR code (SPEC §4, §6).
 *
 * 1. Load the credentials of every 30-second window left in the local day from
 *    /api/v1/me/pass/?windows=N and keep them in localStorage, so the pass works offline all day.
 * 2. Correct the phone's clock with the server's (offset measured around each request).
 * 3. Every second, show the credential whose counter is floor((now + offset) / 30 s) as a QR
 *    code drawn here (vendored qrcode-generator, level M, alphanumeric), and the countdown.
 * 4. Refetch when back online, when the stored day runs out, and now and then to learn of a
 *    suspension; a pass that is no longer active forgets its credentials and reloads the page.
 * 5. Full screen, screen wake lock, and a service worker so that the page reopens offline.
 *
 * Configuration and words come from <script id="pass-config" type="application/json">: no
 * inline script, so that a Content-Security-Policy can forbid them.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("pass-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var STORE_KEY = "chtipass.pass";
  var REFRESH_MS = 5 * 60 * 1000; // state and clock check while online
  var RETRY_MS = 30 * 1000; // at most one attempt this often when a code is missing
  var MAX_WINDOWS = 2880; // one day of 30-second windows: the API's limit

  registerServiceWorker();

  if (!config.active) {
    // No usable pass (none, suspended, revoked): never keep codes that could still be shown.
    forget();
    return;
  }

  var WINDOW = config.windowSeconds || 30;
  var strings = config.strings || {};
  var card = document.getElementById("pass-card");
  var qrBox = document.getElementById("pass-qr");
  var credentialText = document.getElementById("pass-credential");
  var countdown = document.getElementById("pass-countdown");
  var progress = document.getElementById("pass-progress");
  var statusLine = document.getElementById("pass-status");
  var offlineBadge = document.getElementById("pass-offline");
  var fullscreenButton = document.getElementById("pass-fullscreen");

  var credentials = new Map(); // counter -> credential
  var offsetMs = 0; // server clock minus phone clock
  var shownCounter = null;
  var lastAttempt = 0;
  var busy = false;
  var failed = false;

  // --- Storage ----------------------------------------------------------------------------

  function forget() {
    try {
      window.localStorage.removeItem(STORE_KEY);
    } catch (error) {
      /* storage unavailable: nothing kept */
    }
  }

  function load() {
    var stored = null;
    try {
      stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null");
    } catch (error) {
      stored = null;
    }
    // Codes of another pass (another member on this browser, or a reissued pass) are dropped.
    if (!stored || stored.passId !== config.passId || !Array.isArray(stored.credentials)) {
      forget();
      return;
    }
    offsetMs = typeof stored.offsetMs === "number" ? stored.offsetMs : 0;
    stored.credentials.forEach(function (pair) {
      credentials.set(pair[0], pair[1]);
    });
  }

  function save() {
    var current = currentCounter();
    var pairs = [];
    credentials.forEach(function (credential, counter) {
      if (counter >= current - 1) pairs.push([counter, credential]);
      else credentials.delete(counter); // past windows are of no use any more
    });
    pairs.sort(function (a, b) {
      return a[0] - b[0];
    });
    try {
      window.localStorage.setItem(
        STORE_KEY,
        JSON.stringify({ passId: config.passId, offsetMs: offsetMs, savedAt: Date.now(), credentials: pairs })
      );
    } catch (error) {
      /* private mode or full: the codes stay in memory for this visit */
    }
  }

  // --- Time -------------------------------------------------------------------------------

  function serverNow() {
    return Date.now() + offsetMs;
  }

  function currentCounter() {
    return Math.floor(serverNow() / 1000 / WINDOW);
  }

  function windowsLeftToday() {
    var now = new Date(serverNow());
    var midnight = new Date(now.getTime());
    midnight.setHours(24, 0, 0, 0);
    var windows = Math.ceil((midnight.getTime() - now.getTime()) / 1000 / WINDOW) + 1;
    return Math.max(2, Math.min(MAX_WINDOWS, windows));
  }

  function lastCounter() {
    var last = null;
    credentials.forEach(function (_credential, counter) {
      if (last === null || counter > last) last = counter;
    });
    return last;
  }

  function parseServerTime(text) {
    // DRF writes microseconds; Date.parse wants at most milliseconds everywhere.
    return Date.parse(String(text).replace(/(\.\d{3})\d+/, "$1"));
  }

  // --- Network ----------------------------------------------------------------------------

  function setOffline(offline) {
    failed = offline;
    if (offlineBadge) offlineBadge.hidden = !(offline || navigator.onLine === false);
  }

  var reloading = false;
  function reloadOnce() {
    // The server knows better (pass suspended, logged out): show its page, but never loop.
    var key = "chtipass.pass.reloaded";
    var last = Number(window.sessionStorage.getItem(key) || 0);
    if (reloading || Date.now() - last < 60 * 1000) return;
    reloading = true;
    window.sessionStorage.setItem(key, String(Date.now()));
    window.location.reload();
  }

  function refresh(force) {
    if (busy) return;
    var needed = windowsLeftToday();
    var last = lastCounter();
    var current = currentCounter();
    // Load the whole rest of the day unless it is already here (then a light check suffices).
    var full = force === "full" || last === null || last < current + needed - 20;
    var windows = full ? needed : 1;
    busy = true;
    lastAttempt = Date.now();
    var sentAt = Date.now();
    fetch(config.apiUrl + "?windows=" + windows, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        var receivedAt = Date.now();
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          forget();
          credentials.clear();
          reloadOnce();
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json().then(function (data) {
          return { data: data, midpoint: (sentAt + receivedAt) / 2 };
        });
      })
      .then(function (answer) {
        if (!answer) return;
        var data = answer.data;
        setOffline(false);
        if (data.state !== "active" || data.id !== config.passId) {
          forget();
          credentials.clear();
          reloadOnce();
          return;
        }
        var serverTime = parseServerTime(data.server_time);
        if (!isNaN(serverTime)) offsetMs = serverTime - answer.midpoint;
        if (full) credentials.clear();
        (data.upcoming || []).forEach(function (item) {
          credentials.set(item.counter, item.credential);
        });
        if (data.counter !== null && data.credential) credentials.set(data.counter, data.credential);
        save();
        shownCounter = null; // redraw with the fresh codes
        tick();
      })
      .catch(function () {
        setOffline(true);
        tick();
      })
      .then(function () {
        busy = false;
      });
  }

  // --- Drawing ----------------------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";
  var ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

  function drawQr(text) {
    var qr = window.qrcode(0, "M");
    qr.addData(text, ALPHANUMERIC.test(text) ? "Alphanumeric" : "Byte");
    qr.make();
    var count = qr.getModuleCount();
    var margin = 4; // the quiet zone readers need
    var size = count + margin * 2;
    var path = "";
    for (var row = 0; row < count; row += 1) {
      var column = 0;
      while (column < count) {
        if (!qr.isDark(row, column)) {
          column += 1;
          continue;
        }
        var run = 1;
        while (column + run < count && qr.isDark(row, column + run)) run += 1;
        path += "M" + (column + margin) + " " + (row + margin) + "h" + run + "v1h-" + run + "z";
        column += run;
      }
    }
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + size + " " + size);
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var background = document.createElementNS(SVG, "rect");
    background.setAttribute("width", String(size));
    background.setAttribute("height", String(size));
    background.setAttribute("fill", "#ffffff");
    var modules = document.createElementNS(SVG, "path");
    modules.setAttribute("d", path);
    modules.setAttribute("fill", "#000000");
    svg.appendChild(background);
    svg.appendChild(modules);
    qrBox.replaceChildren(svg);
  }

  function show(credential) {
    if (credential) {
      drawQr(credential);
      card.classList.remove("is-missing");
      if (credentialText) credentialText.textContent = credential;
      statusLine.textContent = readyUntilText();
    } else {
      qrBox.replaceChildren();
      card.classList.add("is-missing");
      if (credentialText) credentialText.textContent = "—";
      statusLine.textContent = busy || !lastAttempt ? strings.loading : strings.unavailable;
    }
  }

  function readyUntilText() {
    var last = lastCounter();
    if (last === null || !strings.readyUntil) return "";
    var until = new Date((last + 1) * WINDOW * 1000 - offsetMs);
    var time = until.toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    return strings.readyUntil.replace("{time}", time);
  }

  function tick() {
    var now = serverNow();
    var counter = Math.floor(now / 1000 / WINDOW);
    var credential = credentials.get(counter);
    if (counter !== shownCounter || !credential) {
      show(credential);
      shownCounter = credential ? counter : null;
    }
    var left = Math.max(1, Math.ceil(WINDOW - (now / 1000) % WINDOW));
    countdown.textContent = credential ? strings.countdown.replace("{seconds}", String(left)) : "";
    progress.value = credential ? left : 0;
    progress.max = WINDOW;
    if (!credential && navigator.onLine !== false && Date.now() - lastAttempt > RETRY_MS) refresh();
  }

  function schedule() {
    // Wake just after each second of the server clock, so the code changes on time.
    var delay = 1000 - (serverNow() % 1000) + 20;
    window.setTimeout(function () {
      tick();
      schedule();
    }, delay);
  }

  // --- Full screen and wake lock ----------------------------------------------------------

  function isFullscreen() {
    return Boolean(document.fullscreenElement || document.webkitFullscreenElement) ||
      document.body.classList.contains("pass-focus");
  }

  function updateFullscreenButton() {
    var on = isFullscreen();
    fullscreenButton.textContent = on ? strings.exitFullscreen : strings.fullscreen;
    fullscreenButton.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function setupFullscreen() {
    if (!fullscreenButton) return;
    fullscreenButton.hidden = false;
    fullscreenButton.addEventListener("click", function () {
      if (document.fullscreenElement || document.webkitFullscreenElement) {
        (document.exitFullscreen || document.webkitExitFullscreen).call(document);
        return;
      }
      if (document.body.classList.contains("pass-focus")) {
        document.body.classList.remove("pass-focus");
        updateFullscreenButton();
        return;
      }
      var request = card.requestFullscreen || card.webkitRequestFullscreen;
      var fallback = function () {
        // iPhone Safari has no Fullscreen API for elements: fill the window instead.
        document.body.classList.add("pass-focus");
        updateFullscreenButton();
      };
      if (!request) return fallback();
      try {
        var result = request.call(card);
        if (result && result.catch) result.catch(fallback);
      } catch (error) {
        fallback();
      }
    });
    ["fullscreenchange", "webkitfullscreenchange"].forEach(function (name) {
      document.addEventListener(name, updateFullscreenButton);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && document.body.classList.contains("pass-focus")) {
        document.body.classList.remove("pass-focus");
        updateFullscreenButton();
      }
    });
    updateFullscreenButton();
  }

  var wakeLock = null;
  function keepScreenOn() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible" || wakeLock) return;
    navigator.wakeLock.request("screen").then(
      function (lock) {
        wakeLock = lock;
        lock.addEventListener("release", function () {
          wakeLock = null;
        });
      },
      function () {
        /* refused (battery saver, no permission): the screen may dim, nothing else */
      }
    );
  }

  // --- Start ------------------------------------------------------------------------------

  load();
  // The page carries the code of the moment it was made: useful until the API answers.
  if (config.counter && config.credential && !credentials.has(config.counter)) {
    credentials.set(config.counter, config.credential);
  }
  setOffline(navigator.onLine === false);
  setupFullscreen();
  keepScreenOn();
  tick();
  schedule();
  if (navigator.onLine !== false) refresh();

  window.addEventListener("online", function () {
    setOffline(false);
    refresh();
  });
  window.addEventListener("offline", function () {
    setOffline(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    keepScreenOn();
    shownCounter = null;
    tick();
    if (navigator.onLine !== false && Date.now() - lastAttempt > RETRY_MS) refresh();
  });
  window.setInterval(function () {
    if (navigator.onLine !== false && document.visibilityState === "visible") refresh();
  }, REFRESH_MS);

  // --- Service worker ---------------------------------------------------------------------

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator) || !config.swUrl) return;
    // Once a worker controls the page, it keeps its copy of the page fresh by itself.
    var controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker
      .register(config.swUrl, { scope: config.swScope })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        // The page and everything it loaded, so that it reopens offline.
        var urls = controlled ? [] : [window.location.pathname];
        document
          .querySelectorAll('link[rel~="stylesheet"][href], link[rel~="icon"][href], script[src]')
          .forEach(function (node) {
            urls.push(node.href || node.src);
          });
        if (registration.active) registration.active.postMessage({ type: "precache", urls: urls });
      })
      .catch(function () {
        /* no service worker (private mode, old browser): the page still works while open */
      });
  }
})();
