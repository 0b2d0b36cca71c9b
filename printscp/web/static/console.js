// printscp console: live job list (polling a server-rendered fragment) and the printers page's forms.
// No framework, no build step, nothing from the network but this server.
(function () {
  "use strict";
  var rows = document.getElementById("job-rows");
  if (rows) {
    var last = rows.innerHTML;
    var poll = function () {
      fetch(rows.dataset.source, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && html.trim() !== last.trim()) { rows.innerHTML = html; last = html; }
          document.getElementById("live").className = "";
        }).catch(function () { document.getElementById("live").className = "offline"; })
        .finally(function () { setTimeout(poll, 1500); });
    };
    setTimeout(poll, 1500);
  }
  function post(method, url, body, message) {
    message.textContent = "…";
    return fetch(url, {method: method, credentials: "same-origin", headers: {"Content-Type": "application/json"},
                       body: body === null ? undefined : JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        if (!res[0]) { message.textContent = res[1].error; message.className = "message failure"; return; }
        location.reload();
      });
  }
  document.querySelectorAll("form.set-status").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = form.status.value, info = form.info.value.trim() || (status === "NORMAL" ? "NORMAL" : "");
      post("POST", "/status", {status: status, info: info, printer: form.dataset.printer}, form.querySelector(".message"));
    });
  });
  var scenario = document.getElementById("load-scenario");
  if (scenario) {
    scenario.addEventListener("submit", function (e) {
      e.preventDefault();
      post("POST", "/faults", {scenario: scenario.scenario.value}, scenario.querySelector(".message"));
    });
    document.getElementById("clear-faults").addEventListener("click", function () {
      post("DELETE", "/faults", null, scenario.querySelector(".message"));
    });
  }
})();
