// 小哥 training: quizzes scored in the browser, progress kept on this phone (localStorage), and
// "save this course" for reading offline (Cache API + the service worker). Nothing is sent anywhere.
(function () {
  "use strict";
  var KEY = "xiaoge:training";
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function save(data) {
    try { localStorage.setItem(KEY, JSON.stringify(data)); } catch (e) { /* private mode: progress is not kept */ }
  }
  var progress = load();
  progress.lessons = progress.lessons || {};
  progress.courses = progress.courses || {};

  // The service worker, for pages of saved courses without a network.
  var me = document.querySelector("script[data-sw]");
  if (me && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(me.getAttribute("data-sw"), { scope: me.getAttribute("data-scope") }).catch(function () {});
  }

  // -- a lesson: the quiz ---------------------------------------------------------------------
  var lesson = document.querySelector("[data-lesson][data-course].lesson");
  if (lesson) {
    var lessonId = lesson.getAttribute("data-lesson");
    var courseId = lesson.getAttribute("data-course");
    var questions = Array.prototype.slice.call(lesson.querySelectorAll("fieldset.question"));
    var score = lesson.querySelector(".quiz__score");
    var answers = {};
    var record = progress.lessons[lessonId] || {};
    function showScore() {
      var done = Object.keys(answers).length;
      var right = Object.keys(answers).filter(function (k) { return answers[k]; }).length;
      if (!score) { return; }
      score.hidden = false;
      if (done < questions.length) {
        score.textContent = "已答 " + done + " / " + questions.length + " 题";
      } else {
        score.textContent = "答对 " + right + " / " + questions.length + " 题" + (right === questions.length ? "，全对！" : "。看看解析，再试一次也行。");
        progress.lessons[lessonId] = { done: true, right: right, total: questions.length, course: courseId, at: new Date().toISOString().slice(0, 10) };
        save(progress);
      }
    }
    questions.forEach(function (fieldset) {
      var answer = fieldset.getAttribute("data-answer");
      var result = fieldset.querySelector(".question__result");
      var details = fieldset.querySelector("details");
      fieldset.addEventListener("change", function (event) {
        var chosen = event.target.value;
        var right = chosen === answer;
        answers[fieldset.getAttribute("data-question")] = right;
        fieldset.classList.toggle("question--right", right);
        fieldset.classList.toggle("question--wrong", !right);
        result.hidden = false;
        // A wrong answer says which one is right (the explanation below says why).
        result.textContent = right ? "✓ 答对了" : "✗ 不对。正确答案是：" + fieldset.getAttribute("data-answer-text");
        if (details) { details.open = true; }
        showScore();
      });
    });
    if (record.done && score) {
      score.hidden = false;
      score.textContent = "上次答对 " + record.right + " / " + record.total + " 题（" + record.at + "）";
    }
    if (!questions.length) {
      progress.lessons[lessonId] = { done: true, course: courseId, at: new Date().toISOString().slice(0, 10) };
      save(progress);
    }
  }

  // -- a course or the course list: progress ------------------------------------------------------
  document.querySelectorAll("ol.lessons[data-course]").forEach(function (list) {
    var items = list.querySelectorAll("[data-lesson]");
    var done = 0;
    items.forEach(function (item) {
      var rec = progress.lessons[item.getAttribute("data-lesson")];
      if (rec && rec.done) {
        done += 1;
        item.classList.add("lesson-item--done");
        item.querySelector(".progress-note").textContent = rec.total ? " · 已学完，答对 " + rec.right + "/" + rec.total : " · 已学完";
      }
    });
    var summary = document.querySelector("[data-progress-summary]");
    if (summary && done) { summary.hidden = false; summary.textContent = "已学完 " + done + " / " + items.length + " 课"; }
  });
  document.querySelectorAll("[data-progress-for]").forEach(function (note) {
    var course = note.getAttribute("data-progress-for");
    var done = Object.keys(progress.lessons).filter(function (k) { return progress.lessons[k].course === course && progress.lessons[k].done; }).length;
    var saved = progress.courses[course];
    note.textContent = (done ? " · 已学完 " + done + " 课" : "") + (saved ? " · 已保存到手机" : "");
  });

  // -- a course: save it for offline --------------------------------------------------------------
  // The box is there from the first paint (so the lessons below it do not move) unless scripts are off (CSS);
  // a browser that cannot save hides it.
  var box = document.querySelector("[data-offline-course]");
  if (box && !("caches" in window && "serviceWorker" in navigator)) { box.hidden = true; }
  else if (box) {
    var course = box.getAttribute("data-offline-course");
    var button = box.querySelector("button");
    var status = box.querySelector(".offline__status");
    if (progress.courses[course]) { status.textContent = "已保存到这台手机（" + progress.courses[course] + "），没网也能看。"; button.textContent = "重新保存（更新到最新）"; }
    function assetsOf(html, base) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var urls = [];
      doc.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], link[rel=manifest][href], script[src], img[src]").forEach(function (el) {
        urls.push(el.getAttribute("href") || el.getAttribute("src"));
      });
      doc.querySelectorAll("[srcset]").forEach(function (el) {
        el.getAttribute("srcset").split(",").forEach(function (part) { var u = part.trim().split(" ")[0]; if (u) { urls.push(u); } });
      });
      return urls.map(function (u) { return new URL(u, base).href; }).filter(function (u) { return u.indexOf(location.origin + "/") === 0; });
    }
    button.addEventListener("click", function () {
      var pages = JSON.parse(box.getAttribute("data-urls"));
      var cacheName = "xiaoge-course-" + course;
      button.disabled = true;
      status.textContent = "正在保存……";
      caches.delete(cacheName).then(function () { return caches.open(cacheName); }).then(function (cache) {
        var assets = {};
        var done = 0;
        return pages.reduce(function (chain, url) {
          return chain.then(function () {
            return fetch(url, { cache: "no-cache" }).then(function (response) {
              if (!response.ok) { throw new Error(url); }
              return cache.put(url, response.clone()).then(function () { return response.text(); });
            }).then(function (html) {
              assetsOf(html, new URL(url, location.href)).forEach(function (u) { assets[u] = true; });
              done += 1;
              status.textContent = "正在保存……" + done + " / " + pages.length;
            });
          });
        }, Promise.resolve()).then(function () { return cache.addAll(Object.keys(assets)); });
      }).then(function () { return navigator.serviceWorker.ready; }).then(function () {
        progress.courses[course] = new Date().toISOString().slice(0, 10);
        save(progress);
        status.textContent = "已保存 " + pages.length + " 页。没网的时候，也能打开这门课的每一课。";
        button.textContent = "重新保存（更新到最新）";
        button.disabled = false;
      }).catch(function () {
        status.textContent = "没有保存成功：请在网络好的地方再试一次。";
        button.disabled = false;
      });
    });
  }
})();
