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

// The page for a training page that was never saved: the site's look (its stylesheet is a core file), the
// courses this phone has saved, and the way to the course list (a core file too).
var SCOPE = {{ scope_json|safe }};
var OFFLINE_PAGE = {{ offline_page|safe }};

// A saved course's cache holds its course page (the shortest page address in the scope), its lessons and their files.
function savedCourses() {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("xiaoge-course-") === 0; }).map(function (key) {
      return caches.open(key).then(function (cache) { return cache.keys(); }).then(function (requests) {
        var pages = requests.map(function (r) { return new URL(r.url); }).filter(function (u) {
          var page = u.pathname.slice(-1) === "/";  // pages, not the manifest
          return page && u.origin === self.location.origin && u.pathname.indexOf(SCOPE) === 0 && u.pathname !== SCOPE;
        });
        if (!pages.length) { return null; }
        pages.sort(function (a, b) { return a.pathname.split("/").length - b.pathname.split("/").length; });
        return caches.open(key).then(function (cache) { return cache.match(pages[0].href); }).then(function (response) {
          return response ? response.text() : "";
        }).then(function (html) {
          var title = /<h1[^>]*>([^<]+)<\/h1>/.exec(html);  // the course page's title, as its HTML escapes it
          return { url: pages[0].pathname, title: title ? title[1] : pages[0].pathname };
        });
      });
    }));
  }).then(function (courses) { return courses.filter(Boolean); });
}

function offlinePage() {
  return savedCourses().catch(function () { return []; }).then(function (courses) {
    var list = courses.length
      ? "<h2 class=\"section__title\">这台手机上保存的课程</h2><ul class=\"courses\">" + courses.map(function (c) {
        return "<li class=\"course-item\"><a class=\"course-item__link\" href=\"" + c.url + "\"><span class=\"course-item__title\">" + c.title + "</span><span class=\"course-item__meta\">已保存，没网也能看</span></a></li>";
      }).join("") + "</ul>"
      : "<p>这台手机上还没有保存课程。</p>";
    return new Response(OFFLINE_PAGE.replace("<!--saved-courses-->", list), { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

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
        fromCache(request).then(function (cached) { return cached || offlinePage(); }).then(function (response) {
          if (settled) { return; }
          settled = true;
          resolve(response);
        });
      });
    }));
    return;
  }
  // Files with hashed names never change: the cache first, then the network.
  event.respondWith(fromCache(request).then(function (cached) { return cached || fetch(request); }));
});
