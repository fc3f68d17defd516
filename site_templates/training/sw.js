// 小哥 training: the service worker. Pages of saved courses open without a network.
// Saved courses live in caches named "xiaoge-course-<id>" (filled by training.js); this worker keeps
// the core files in "xiaoge-core-{{ version }}" and answers from the caches when the network fails.
"use strict";
var CORE = "xiaoge-core-{{ version }}";
var CORE_URLS = {{ core|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CORE).then(function (cache) { return cache.addAll(CORE_URLS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("xiaoge-core-") === 0 && k !== CORE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function fromCache(request) {
  return caches.match(request, { ignoreSearch: true });
}

// Keep a saved page fresh: when the network answers for a URL some cache holds, store the new copy there.
function refresh(request, response) {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.map(function (key) {
      return caches.open(key).then(function (cache) {
        return cache.match(request).then(function (old) { if (old) { return cache.put(request, response.clone()); } });
      });
    }));
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    // Network first (lessons change), with the saved copy when the network fails or hangs in a lift.
    event.respondWith(new Promise(function (resolve) {
      var settled = false;
      var timer = setTimeout(function () {
        fromCache(request).then(function (cached) { if (cached && !settled) { settled = true; resolve(cached); } });
      }, 4000);
      fetch(request).then(function (response) {
        clearTimeout(timer);
        if (response.ok) { event.waitUntil(refresh(request, response.clone())); }
        if (!settled) { settled = true; resolve(response); }
      }).catch(function () {
        clearTimeout(timer);
        fromCache(request).then(function (cached) {
          if (settled) { return; }
          settled = true;
          resolve(cached || new Response("<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>没有网络</title><body style=\"font:18px/1.6 sans-serif;padding:1rem\"><h1>没有网络</h1><p>这一页还没有保存到手机上。有网络时打开课程页，点“保存这门课”，以后没网也能看。</p></body></html>", { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }));
        });
      });
    }));
    return;
  }
  // Files with hashed names never change: the cache first, then the network.
  event.respondWith(fromCache(request).then(function (cached) { return cached || fetch(request); }));
});
