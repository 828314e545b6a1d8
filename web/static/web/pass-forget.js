/*
 * On the login page nobody is logged in on this browser: forget the ch'tipass kept for offline
 * use (the day's codes, the cached pass page and its service worker), so that the next person
 * on a shared device cannot open the previous member's pass. It comes back at the next visit.
 */
(function () {
  "use strict";
  try {
    window.localStorage.removeItem("chtipass.pass");
  } catch (error) {
    /* storage unavailable: nothing was kept */
  }
  if (window.caches) {
    window.caches.keys().then(function (names) {
      names
        .filter(function (name) {
          return name.indexOf("chtipass-pass-") === 0;
        })
        .forEach(function (name) {
          window.caches.delete(name);
        });
    });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        if (/\/pass\/$/.test(new URL(registration.scope).pathname)) registration.unregister();
      });
    });
  }
})();
