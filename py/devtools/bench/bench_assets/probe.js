// Runs in every document before its own scripts (context init script). Times are
// performance.now(): milliseconds since this document's navigation started.
// - state changes: a MutationObserver on data-session (the app's only state signal);
// - "checking painted": rAF polling. A rAF callback runs just before the frame is
//   rendered, so the first callback that finds #checking-message visible belongs to
//   the first frame that shows it; a MessageChannel message posted there is handled
//   right after that frame's paint, and its time is the figure. first-contentful-paint
//   (PerformanceObserver) is recorded beside it as a cross-check.
// - wrong-state frames: the same rAF loop checks, every frame, that no button shows
//   while checking and that a shown button matches data-session.
// - lanes: when data-lane changes (the two-lane page: "first", then "full") and why the
//   full lane started (data-full-lane); the resource timing buffer is made large enough
//   for every file of a load (bytes before the right state, when Pyodide is asked for).
// - the first lane's boot steps ("first-lane:progress" "MicroPython started", …), and
//   PyScript's own (its progress events, each script's ready and done events), the
//   first of each, in order.
// - login round trip (bench.py's logins): a click on .btn-login, as epoch ms
//   (performance.timeOrigin + the event's timeStamp), kept in sessionStorage so the
//   callback page of the same tab can hand it back; and "profile shown": the first frame
//   with data-session="authenticated" and a visible, non-empty .nickname, timed like
//   "checking painted" (a MessageChannel message posted in that rAF).
(() => {
  if (window !== window.top || location.origin !== __ORIGIN__) return;
  const bench = window.__bench = {
    states: [], frames: 0, wrongFrames: [], checkingFrame: null, checkingPainted: null,
    fcp: null, firstFrame: null, lanes: [], fullLaneReason: null, events: [],
    loginClick: null, profileFrame: null, profileShown: null,
  };
  window.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || !event.target.closest(".btn-login")) return;
    bench.loginClick = performance.timeOrigin + event.timeStamp;
    try {
      sessionStorage.setItem("__bench_login_click", String(bench.loginClick));
    } catch {}
  }, true);
  performance.setResourceTimingBufferSize(5000);
  const seen = new Set();
  const step = (event) => {
    const name = event.type.endsWith(":progress") ? `${event.type} ${event.detail}` : event.type;
    if (!seen.has(name)) {
      seen.add(name);
      bench.events.push([name, performance.now()]);
    }
  };
  for (const type of ["first-lane:progress", "mpy:progress", "py:progress", "mpy:ready",
                      "mpy:done", "py:ready", "py:done"]) {
    window.addEventListener(type, step, true);
  }
  const shown = (el) => !!el && el.checkVisibility();
  new MutationObserver(() => {
    const body = document.body;
    if (!body) return;
    const t = performance.now();
    const state = body.dataset.session;
    const last = bench.states[bench.states.length - 1];
    if (!last || last.state !== state) bench.states.push({state, t});
    const lane = body.dataset.lane;
    const lastLane = bench.lanes[bench.lanes.length - 1];
    if (lane !== undefined && (!lastLane || lastLane.lane !== lane)) bench.lanes.push({lane, t});
    if (body.dataset.fullLane !== undefined && bench.fullLaneReason === null) {
      bench.fullLaneReason = {reason: body.dataset.fullLane, t};
    }
  }).observe(document, {subtree: true, attributes: true,
                        attributeFilter: ["data-session", "data-lane", "data-full-lane"]});
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name === "first-contentful-paint") bench.fcp = entry.startTime;
    }
  }).observe({type: "paint", buffered: true});
  const frame = (t) => {
    const body = document.body;
    if (body) {
      const state = body.dataset.session;
      const login = shown(document.querySelector(".btn-login"));
      const logout = shown(document.querySelector(".btn-logout"));
      const anyButton = [...document.querySelectorAll("button")].some(shown);
      bench.frames += 1;
      if (bench.firstFrame === null) bench.firstFrame = {t, state, login, logout};
      if ((login && state !== "anonymous") || (logout && state !== "authenticated")
          || (state === "checking" && anyButton)) {
        bench.wrongFrames.push({t, state, login, logout, anyButton});
      }
      if (bench.checkingFrame === null && shown(document.getElementById("checking-message"))) {
        bench.checkingFrame = t;
        const channel = new MessageChannel();
        channel.port1.onmessage = () => { bench.checkingPainted = performance.now(); };
        channel.port2.postMessage(null);
      }
      if (bench.profileFrame === null && state === "authenticated") {
        const nickname = document.querySelector(".nickname");
        if (shown(nickname) && nickname.textContent.trim()) {
          bench.profileFrame = t;
          const channel = new MessageChannel();
          channel.port1.onmessage = () => { bench.profileShown = performance.now(); };
          channel.port2.postMessage(null);
        }
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
