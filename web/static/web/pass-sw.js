/*
 * Service worker of the ch'tipass page, served at /pass/sw.js (scope /pass/).
 *
 * - The pass page: network first (always the fresh page and state when online); the last good
 *   copy when the network fails. A redirect (logged out) forgets the copy.
 * - The files the page loaded (CSS, scripts, icon): sent by pass.js once the worker is ready,
 *   then served from the cache and refreshed in the background.
 * - Anything else (the API above all) goes to the network untouched: pass.js keeps the day's
 *   codes in localStorage itself.
 */
"use strict";

var CACHE = "chtipass-pass-v1";
var PAGE = new URL("./", self.registration.scope).href; // the scope is the pass page itself

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf("chtipass-pass-") === 0 && name !== CACHE;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

function keepIfGood(cache, key, response) {
  // Only a real answer is kept: not a login redirect, not an error.
  if (response.ok && !response.redirected && response.type === "basic") {
    return cache.put(key, response.clone());
  }
  var loggedOut =
    response.redirected || response.type === "opaqueredirect" || response.status === 401 || response.status === 403;
  if (key === PAGE && loggedOut) return cache.delete(PAGE); // someone else may use this browser next
  return Promise.resolve();
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "precache" || !Array.isArray(data.urls)) return;
  var origin = self.location.origin;
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(
        data.urls
          .map(function (url) {
            return new URL(url, origin);
          })
          .filter(function (url) {
            return url.origin === origin;
          })
          .map(function (url) {
            var key = url.pathname === new URL(PAGE).pathname ? PAGE : url.href;
            return fetch(url.href, { credentials: "same-origin", cache: "no-cache" })
              .then(function (response) {
                return keepIfGood(cache, key, response);
              })
              .catch(function () {
                /* offline right now: the next visit will try again */
              });
          })
      );
    })
  );
});

function pageNetworkFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    var fallback = function (response) {
      return cache.match(PAGE).then(function (cached) {
        return (
          cached ||
          response ||
          new Response("<!doctype html><meta charset=utf-8><title>ch'tipass</title><p>Hors ligne · Offline</p>", {
            status: 503,
            headers: { "Content-Type": "text/html; charset=utf-8" },
          })
        );
      });
    };
    return fetch(request)
      .then(function (response) {
        // A server in trouble (5xx from the proxy) is no better than no network.
        if (response.status >= 500) return fallback(response);
        return keepIfGood(cache, PAGE, response).then(function () {
          return response;
        });
      })
      .catch(function () {
        return fallback(null);
      });
  });
}

function cachedThenRefreshed(event) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(event.request).then(function (cached) {
      if (!cached) return fetch(event.request);
      event.waitUntil(
        fetch(event.request)
          .then(function (response) {
            return keepIfGood(cache, event.request, response);
          })
          .catch(function () {
            /* offline: the cached copy will do */
          })
      );
      return cached;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === new URL(PAGE).pathname) event.respondWith(pageNetworkFirst(request));
    return;
  }
  if (url.pathname.indexOf("/api/") === 0) return;
  event.respondWith(cachedThenRefreshed(event));
});
