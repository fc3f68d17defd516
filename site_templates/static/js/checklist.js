// Playbook checklists: ticks are kept in this browser only (localStorage), never sent anywhere.
// Without JavaScript the boxes can still be ticked; they are just not remembered.
(function () {
  "use strict";
  function storage() {
    try { var k = "__xiaoge"; localStorage.setItem(k, k); localStorage.removeItem(k); return localStorage; } catch (e) { return null; }
  }
  var store = storage();
  document.querySelectorAll("form[data-checklist]").forEach(function (form) {
    var key = form.getAttribute("data-checklist");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]"));
    var status = form.querySelector(".checklist__status");
    var saved = {};
    if (store) { try { saved = JSON.parse(store.getItem(key) || "{}") || {}; } catch (e) { saved = {}; } }
    function update() {
      var done = boxes.filter(function (b) { return b.checked; }).length;
      if (status) {
        status.hidden = false;
        status.textContent = "已完成 " + done + " / " + boxes.length + " 项" + (store ? "（保存在本机浏览器）" : "（本浏览器不能保存勾选）");
      }
    }
    boxes.forEach(function (box) {
      box.checked = !!saved[box.name];
      box.addEventListener("change", function () {
        if (box.checked) { saved[box.name] = 1; } else { delete saved[box.name]; }
        if (store) { store.setItem(key, JSON.stringify(saved)); }
        update();
      });
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    update();
  });
})();
