// Live occupancy and queues: poll the session-authenticated JSON every 2 s, no reload.
(function () {
  const box = document.getElementById("live");
  if (!box) return;
  const url = "/dashboard/live/" + box.dataset.location;
  async function refresh() {
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) return;
      const data = await answer.json();
      for (const c of data.occupancy) {
        const el = box.querySelector('[data-counter-id="' + c.id + '"]');
        if (el && el.textContent !== String(c.occupancy)) el.textContent = String(c.occupancy);
      }
      for (const q of data.queues) {
        const el = box.querySelector('[data-queue-id="' + q.id + '"]');
        if (el) el.textContent = String(q.length);
        const wait = box.querySelector('[data-queue-wait="' + q.id + '"]');
        if (wait) wait.textContent = "wait " + q.wait_time + " s";
      }
    } catch (e) { /* the next poll tries again */ }
  }
  setInterval(refresh, 2000);
})();
