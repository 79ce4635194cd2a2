// The live player every page shares (the live grid, the gate monitor): hls.js (loaded before this
// file) on the signed stream URL of /api/cameras/stream/<ref>. A "cell" is an element with
// data-ref (the camera's ref), a <video> and a .state for the words shown while it starts or fails.
(function () {
  const TOKEN = /\/api\/cameras\/streams\/[^/]+\//;
  // Signed stream URLs expire (MEDIA_URL_TTL): fetch a new one at half its life and send every
  // later playlist and segment request with the new token, without restarting the player.
  async function fetchUrl(cell) {
    const r = await fetch('/api/cameras/stream/' + encodeURIComponent(cell.dataset.ref), {credentials: 'same-origin'});
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.status);
    return body;
  }
  function scheduleRenewal(cell, live, seconds) {
    clearTimeout(live.renewal);
    live.renewal = setTimeout(async () => {
      try {
        const body = await fetchUrl(cell);
        live.url = body.hls_url;
        if (!live.hls) cell.querySelector('video').src = live.url;  // native HLS: no request hook
        scheduleRenewal(cell, live, body.expires_in);
      } catch (err) { scheduleRenewal(cell, live, 20); }
    }, Math.max(5, seconds / 2) * 1000);
  }
  async function start(cell) {
    const state = cell.querySelector('.state');
    const video = cell.querySelector('video');
    try {
      const body = await fetchUrl(cell);
      const live = cell.live = cell.live || {};
      live.url = body.hls_url;
      if (state) state.textContent = '';
      if (window.Hls && Hls.isSupported()) {
        const hls = live.hls = new Hls({
          liveSyncDurationCount: 2, lowLatencyMode: false,
          xhrSetup: (xhr, url) => xhr.open('GET', url.replace(TOKEN, live.url.match(TOKEN)[0]), true),
        });
        hls.loadSource(live.url);
        hls.attachMedia(video);
        hls.on(Hls.Events.ERROR, (e, d) => {
          if (d.fatal) { hls.destroy(); live.hls = null; clearTimeout(live.renewal); setTimeout(() => start(cell), 3000); }
        });
      } else {
        video.src = live.url;  // Safari plays HLS natively
      }
      scheduleRenewal(cell, live, body.expires_in);
      video.play().catch(() => {});
    } catch (err) {
      if (state) state.textContent = String(err.message || err);
      setTimeout(() => start(cell), 5000);
    }
  }
  // A few at a time: each request waits until its stream is playable.
  async function startAll(cells) {
    for (let i = 0; i < cells.length; i += 4) await Promise.all(cells.slice(i, i + 4).map(start));
  }
  window.LprnvrLive = { start, startAll };
})();
