/* ch'tipass — the scanner's service worker: the scanner page still opens without network.
 *
 * Served by web/scanner_views.py at /lecteur/sw.js (scope /lecteur/), which puts in front of
 * this file:
 *   PRECACHE      the scanner page and its static files (their current URLs);
 *   CACHE_NAME    changes whenever one of them or this file changes;
 *   SCANNER_PAGE  the scanner page's path.
 *
 * The page: network first (with a timeout), the cached copy when the network fails.
 * Static files: from the cache at once, refreshed in the background.
 * Everything else (the API, the pairing pages) is left alone.
 */

/* global PRECACHE, CACHE_NAME, SCANNER_PAGE */

const PAGE_TIMEOUT_MS = 4000;
const CACHE_PREFIX = "chtipass-scanner-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE_NAME)
      .then((cache) =>
        cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === SCANNER_PAGE && request.mode === "navigate") {
    event.respondWith(pageNetworkFirst(request));
  } else if (url.pathname !== SCANNER_PAGE && PRECACHE.includes(url.pathname)) {
    event.respondWith(staleWhileRevalidate(event, request));
  }
});

async function pageNetworkFirst(request) {
  const cache = await caches.open(CACHE_NAME);
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (response.ok) await cache.put(SCANNER_PAGE, response.clone());
    return response;
  } catch (error) {
    // The page varies on the language cookie: any copy of it is better than none.
    const cached = await cache.match(SCANNER_PAGE, { ignoreSearch: true, ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

async function staleWhileRevalidate(event, request) {
  const cache = await caches.open(CACHE_NAME);
  const cached = await cache.match(request, { ignoreVary: true });
  const refresh = fetch(request)
    .then((response) => {
      if (response.ok) return cache.put(request, response.clone()).then(() => response);
      return response;
    })
    .catch(() => null);
  if (cached) {
    event.waitUntil(refresh);
    return cached;
  }
  return (await refresh) || Response.error();
}

function withTimeout(promise, milliseconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), milliseconds);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
