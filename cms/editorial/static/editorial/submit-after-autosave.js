// A new page's first autosave creates the page; until its answer arrives, the form still posts to the
// "add page" view. A submit sent in that moment (say 提交审核 clicked right after typing) would create
// the page a second time. So a submit waits for the autosave in flight, then goes out, by then to the
// page's edit view. Wagtail's autosave controller announces itself with w-autosave:* events.
(function () {
  "use strict";
  var WAIT_AT_MOST = 20000; // ms: never hold a submit for ever, e.g. if a save was cancelled
  var pending = new WeakMap(); // form -> {saving: bool, queued: submitter name or "", timer}

  function state(form) {
    if (!pending.has(form)) pending.set(form, { saving: false, queued: null, timer: null });
    return pending.get(form);
  }

  function creating(form) {
    return /\/pages\/add\//.test(form.getAttribute("action") || window.location.pathname);
  }

  function release(form) {
    var s = state(form);
    s.saving = false;
    clearTimeout(s.timer);
    if (s.queued === null) return;
    var name = s.queued;
    s.queued = null;
    // The edit view's markup may have replaced the button that was clicked: find it again by name.
    var button = name ? form.querySelector('button[name="' + name + '"], input[type="submit"][name="' + name + '"]') : null;
    if (button && typeof form.requestSubmit === "function") form.requestSubmit(button);
    else if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }

  document.addEventListener("w-autosave:save", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !creating(form)) return;
    // Listeners may cancel the save; look once they all have run.
    setTimeout(function () {
      if (event.defaultPrevented) return;
      var s = state(form);
      s.saving = true;
      clearTimeout(s.timer);
      s.timer = setTimeout(function () { release(form); }, WAIT_AT_MOST);
    }, 0);
  });

  ["w-autosave:success", "w-autosave:error", "w-autosave:deactivated"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target instanceof HTMLFormElement) release(event.target);
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var s = pending.get(form);
    if (!s || !s.saving) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    s.queued = event.submitter && event.submitter.name ? event.submitter.name : "";
  }, true);
})();
