// The console's only script: times in the viewer's zone beside UTC, and the
// self-refresh of pages that follow something running. Everything works
// without it.
"use strict";
(function () {
  const local = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });
  for (const node of document.querySelectorAll("time[datetime]")) {
    const at = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) continue;
    const span = document.createElement("span");
    span.className = "local";
    span.textContent = " · " + local.format(at);
    node.appendChild(span);
  }
  const refresh = document.querySelector('meta[name="orch-refresh"]');
  if (refresh) {
    const seconds = Math.max(1, Number(refresh.getAttribute("content")) || 5);
    setInterval(function () {
      // Never while someone is typing or has typed into a form.
      const busy = document.activeElement && ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
      const typed = Array.from(document.querySelectorAll("input[type=text], input[type=number]")).some((i) => i.value !== "");
      if (!busy && !typed) window.location.reload();
    }, seconds * 1000);
  }
})();
