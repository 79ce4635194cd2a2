// The timeline page: a strip per camera (spans, gaps, plate-read markers) from /api/nvr/timeline/,
// playback from a clicked instant through /api/nvr/playback/<ref> (a signed VOD HLS URL, hls.js), and
// export of a dragged range through /api/nvr/export. Times are shown in the site's time zone.
(function () {
  const config = JSON.parse(document.getElementById('tl-config').textContent);
  const T = config.strings;
  const $ = (id) => document.getElementById(id);
  const strips = $('tl-strips'), axis = $('tl-axis'), message = $('tl-message');
  const state = { start: 0, seconds: Number($('tl-zoom').value), cursor: null, selection: null, request: 0 };

  // --- time in the site's zone --------------------------------------------------------------------
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: config.timeZone, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const shown = new Intl.DateTimeFormat(config.locale, { timeZone: config.timeZone, dateStyle: 'medium',
                                                         timeStyle: 'medium' });
  const short = new Intl.DateTimeFormat(config.locale, { timeZone: config.timeZone, hour: '2-digit',
                                                         minute: '2-digit' });
  const day = new Intl.DateTimeFormat(config.locale, { timeZone: config.timeZone, month: 'short', day: 'numeric' });
  function localInput(ms) {  // "YYYY-MM-DDTHH:MM:SS" in the site's zone, for <input type=datetime-local>
    const p = Object.fromEntries(parts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
  }
  const iso = (ms) => new Date(ms).toISOString();
  const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (m, k) => values[k]);

  // --- messages: words in the page, never raw JSON --------------------------------------------------
  function say(text) { message.textContent = text; message.hidden = !text; }
  async function api(url) {
    let response;
    try { response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }); }
    catch (err) { throw new Error(T.unreachable); }
    let body = null;
    try { body = await response.json(); } catch (err) { /* an HTML error page: say it in words below */ }
    if (!response.ok) {
      const fields = body && body.fields ? Object.values(body.fields).flat().join(' ') : '';
      throw new Error((body && body.error ? body.error : fmt(T.failed, { status: response.status })) +
                      (fields ? ' ' + fields : ''));
    }
    return body;
  }

  // --- the strips -----------------------------------------------------------------------------------
  const cameras = () => Array.from(document.querySelectorAll('input[name=camera]:checked'))
    .map((box) => ({ ref: box.value, name: box.dataset.name }));
  const toX = (ms) => ((ms - state.start) / (state.seconds * 1000)) * 100;
  const toMs = (strip, clientX) => {
    const box = strip.getBoundingClientRect();
    return state.start + Math.min(1, Math.max(0, (clientX - box.left) / box.width)) * state.seconds * 1000;
  };
  function block(cls, from, to, title) {
    const el = document.createElement('div');
    el.className = cls;
    el.style.left = Math.max(0, toX(from)) + '%';
    el.style.width = Math.max(0.15, Math.min(100, toX(to)) - Math.max(0, toX(from))) + '%';
    if (title) el.title = title;
    return el;
  }
  function drawAxis() {
    axis.replaceChildren();
    const step = [60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86400].find((s) => state.seconds / s <= 12) || 86400;
    const first = Math.ceil(state.start / (step * 1000)) * step * 1000;
    for (let t = first; t < state.start + state.seconds * 1000; t += step * 1000) {
      const tick = document.createElement('span');
      tick.style.left = toX(t) + '%';
      tick.textContent = step >= 86400 ? day.format(new Date(t)) : short.format(new Date(t));
      axis.appendChild(tick);
    }
  }
  function drawMarks(strip) {
    strip.querySelectorAll('.tl-cursor, .tl-selection').forEach((el) => el.remove());
    if (state.selection && state.selection.ref === strip.dataset.ref) {
      const sel = block('tl-selection', state.selection.from, state.selection.to);
      strip.appendChild(sel);
    }
    if (state.cursor !== null) {
      const cursor = document.createElement('div');
      cursor.className = 'tl-cursor';
      cursor.style.left = toX(state.cursor) + '%';
      strip.appendChild(cursor);
    }
  }
  function drawCamera(row, timeline) {
    const strip = row.querySelector('.tl-strip');
    strip.replaceChildren();
    for (const span of timeline.spans) {
      const from = Date.parse(span.start), to = Date.parse(span.end);
      strip.appendChild(block('tl-span ' + (span.continuous ? 'continuous' : 'recording'), from, to,
        fmt(T.span, { from: shown.format(from), to: shown.format(to) })));
    }
    for (const marker of timeline.markers) {
      const at = Date.parse(marker.at);
      const el = block('tl-marker' + (marker.flagged ? ' flagged' : ''), at, at,
        fmt(T.marker, { plate: marker.number || '?', time: shown.format(at), camera: marker.camera }));
      el.dataset.at = at;
      strip.appendChild(el);
    }
    const info = row.querySelector('.tl-info');
    info.textContent = timeline.spans.length ? '' : T.nothing;
    drawMarks(strip);
  }
  function rowFor(camera) {
    const row = document.createElement('div');
    row.className = 'tl-row';
    const name = document.createElement('div');
    name.className = 'tl-name';
    name.textContent = camera.name;
    const strip = document.createElement('div');
    strip.className = 'tl-strip';
    strip.tabIndex = 0;
    strip.dataset.ref = camera.ref;
    strip.dataset.name = camera.name;
    strip.setAttribute('role', 'slider');
    strip.setAttribute('aria-label', fmt(T.stripLabel, { camera: camera.name }));
    const info = document.createElement('div');
    info.className = 'tl-info';
    row.append(name, strip, info);
    listen(strip);
    return row;
  }
  async function load() {
    const chosen = cameras();
    const mine = ++state.request;
    say('');
    $('tl-from').value = localInput(state.start);
    drawAxis();
    strips.replaceChildren(...chosen.map(rowFor));
    if (!chosen.length) return;
    const query = new URLSearchParams({ cameras: chosen.map((c) => c.ref).join(','), start: iso(state.start),
                                        end: iso(state.start + state.seconds * 1000) });
    try {
      const body = await api('/api/nvr/timeline/?' + query);
      if (mine !== state.request) return;  // a later request replaced this one
      body.cameras.forEach((timeline, i) => drawCamera(strips.children[i], timeline));
    } catch (err) { say(err.message); }
  }

  // --- playing: one player, or four in step (2x2) -------------------------------------------------------
  // A tile plays one camera's signed VOD playlist with hls.js; its wall-clock time is hls.js's
  // playingDate (EXT-X-PROGRAM-DATE-TIME), else the first frame's time plus currentTime.
  const tiles = Array.from(document.querySelectorAll('.tl-tile')).map((el) => ({
    el, video: el.querySelector('video'), hls: null, playing: null,
    name: el.querySelector('.tl-tile-name'), time: el.querySelector('.tl-tile-time'), note: el.querySelector('.tl-tile-note'),
  }));
  const speed = () => Number(document.querySelector('.tl-speed[aria-pressed=true]').dataset.speed);
  function stopTile(tile) {
    if (tile.hls) { tile.hls.destroy(); tile.hls = null; }
    tile.video.removeAttribute('src');
    tile.video.load();
    tile.playing = null;
    delete tile.video.dataset.wallclock;
  }
  function wallclock(tile) {
    if (!tile.playing) return null;
    const date = tile.hls && tile.hls.playingDate;
    return date ? date.getTime() : tile.playing.firstFrame + tile.video.currentTime * 1000;
  }
  async function playTile(tile, ref, name, at) {
    stopTile(tile);
    tile.name.textContent = name;
    tile.time.textContent = '';
    tile.note.textContent = '';
    let body;
    try { body = await api(`/api/nvr/playback/${encodeURIComponent(ref)}?` + new URLSearchParams({ start: iso(at) })); }
    catch (err) { tile.note.textContent = err.message; return false; }
    tile.playing = { ref, name, firstFrame: Date.parse(body.first_frame), from: Date.parse(body.plays_from) };
    if (tile.playing.from - at > 1000) {
      tile.note.textContent = fmt(T.later, { time: shown.format(tile.playing.from) });
    }
    if (window.Hls && Hls.isSupported()) {
      const hls = tile.hls = new Hls({ startPosition: (tile.playing.from - tile.playing.firstFrame) / 1000 });
      hls.on(Hls.Events.ERROR, (e, data) => {
        if (!data.fatal) return;
        tile.note.textContent = data.details === 'manifestIncompatibleCodecsError' || data.details === 'bufferAddCodecError'
          ? T.codec : fmt(T.playbackFailed, { details: data.details });
        stopTile(tile);
      });
      hls.loadSource(body.url);
      hls.attachMedia(tile.video);
    } else if (tile.video.canPlayType('application/vnd.apple.mpegurl')) {
      tile.video.src = body.url;
    } else { tile.note.textContent = T.noHls; return false; }
    tile.video.playbackRate = speed();
    tile.video.play().catch(() => {});
    return true;
  }
  for (const tile of tiles) {
    tile.video.addEventListener('timeupdate', () => {
      const at = wallclock(tile);
      if (at === null) return;
      tile.time.textContent = shown.format(at);
      tile.video.dataset.wallclock = String(at);
    });
    tile.video.addEventListener('error', () => { if (tile.video.error && tile.playing) tile.note.textContent = T.codec; });
    // A playlist covers PLAYBACK_HOURS of what was indexed when it was asked for: at its end, ask again
    // from there, so playback goes on into later footage (or says that nothing was recorded after).
    tile.video.addEventListener('ended', () => {
      const at = wallclock(tile);
      if (tile.playing && at !== null) playTile(tile, tile.playing.ref, tile.playing.name, at + 100);
    });
  }
  const synced = () => $('tl-sync').checked;
  function play(ref, name, at) {
    state.cursor = at;
    strips.querySelectorAll('.tl-strip').forEach(drawMarks);
    say('');
    if (!synced()) { playTile(tiles[0], ref, name, at); return; }
    // The clicked camera first, then the next chosen ones: four cameras from the same instant.
    const chosen = cameras();
    const order = [chosen.find((c) => c.ref === ref), ...chosen.filter((c) => c.ref !== ref)].filter(Boolean).slice(0, 4);
    tiles.forEach((tile, i) => (order[i] ? playTile(tile, order[i].ref, order[i].name, at) : stopTile(tile)));
  }
  // In step: every half second, a tile more than 0.25 s off the first playing one is moved to its time.
  setInterval(() => {
    if (!synced()) return;
    const playing = tiles.filter((t) => wallclock(t) !== null && !t.video.paused);
    if (playing.length < 2) return;
    const master = wallclock(playing[0]);
    for (const tile of playing.slice(1)) {
      const off = (master - wallclock(tile)) / 1000;
      if (Math.abs(off) > 0.25) tile.video.currentTime = Math.max(0, tile.video.currentTime + off);
    }
  }, 500);
  $('tl-sync').addEventListener('change', () => {
    $('tl-videos').classList.toggle('grid', synced());
    tiles.slice(1).forEach(stopTile);
  });
  function choose(ref, from, to) {
    state.selection = { ref, from: Math.min(from, to), to: Math.max(from, to) };
    strips.querySelectorAll('.tl-strip').forEach(drawMarks);
    const link = $('tl-export');
    link.href = '/api/nvr/export?' + new URLSearchParams({ camera_ip: ref, start: iso(state.selection.from),
                                                            end: iso(state.selection.to) });
    link.hidden = false;
    $('tl-selection').textContent = fmt(T.selection, { from: shown.format(state.selection.from),
                                                       to: shown.format(state.selection.to) });
  }
  function listen(strip) {
    let down = null;
    strip.addEventListener('pointerdown', (e) => { down = toMs(strip, e.clientX); strip.setPointerCapture(e.pointerId); });
    strip.addEventListener('pointerup', (e) => {
      if (down === null) return;
      const up = toMs(strip, e.clientX);
      const pixels = Math.abs(up - down) / (state.seconds * 1000) * strip.getBoundingClientRect().width;
      if (pixels > 5) choose(strip.dataset.ref, down, up); else play(strip.dataset.ref, strip.dataset.name, up);
      down = null;
    });
    strip.addEventListener('keydown', (e) => {
      const step = state.seconds * 10;  // 1 % of the window
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        const base = state.cursor === null ? state.start + state.seconds * 500 : state.cursor;
        state.cursor = base + (e.key === 'ArrowLeft' ? -step : step);
        strips.querySelectorAll('.tl-strip').forEach(drawMarks);
        e.preventDefault();
      } else if (e.key === 'Enter' && state.cursor !== null) {
        play(strip.dataset.ref, strip.dataset.name, state.cursor);
        e.preventDefault();
      }
    });
  }

  // --- the toolbar ----------------------------------------------------------------------------------
  function setWindow(start, seconds) {
    state.seconds = Math.min(7 * 86400, Math.max(60, seconds));
    state.start = Math.min(start, Date.now() - 60 * 1000);
    load();
  }
  function zoom(factor) {
    const centre = state.cursor !== null ? state.cursor : state.start + state.seconds * 500;
    const seconds = Math.min(7 * 86400, Math.max(60, state.seconds * factor));
    setWindow(centre - seconds * 500, seconds);
  }
  $('tl-zoom').addEventListener('change', (e) => setWindow(state.start, Number(e.target.value)));
  $('tl-earlier').addEventListener('click', () => setWindow(state.start - state.seconds * 500, state.seconds));
  $('tl-later').addEventListener('click', () => setWindow(state.start + state.seconds * 500, state.seconds));
  $('tl-zoom-in').addEventListener('click', () => zoom(0.5));
  $('tl-zoom-out').addEventListener('click', () => zoom(2));
  $('tl-now').addEventListener('click', () => setWindow(Date.now() - state.seconds * 1000, state.seconds));
  function fromLocalInput(value) {  // the instant a site-zone "YYYY-MM-DDTHH:MM[:SS]" names
    const [date, time] = value.split('T');
    const [y, mo, d] = date.split('-').map(Number), [h, mi, se] = (time + ':0').split(':').map(Number);
    const wanted = Date.UTC(y, mo - 1, d, h, mi, se || 0);
    let guess = wanted;
    for (let i = 0; i < 2; i++) guess += wanted - Date.parse(localInput(guess) + 'Z');  // the zone's offset then
    return guess;
  }
  $('tl-from').addEventListener('change', (e) => { if (e.target.value) setWindow(fromLocalInput(e.target.value), state.seconds); });
  $('tl-form').addEventListener('submit', (e) => e.preventDefault());
  document.querySelectorAll('input[name=camera]').forEach((box) => box.addEventListener('change', load));
  document.querySelectorAll('.tl-speed').forEach((button) => button.addEventListener('click', () => {
    document.querySelectorAll('.tl-speed').forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
    tiles.forEach((tile) => { tile.video.playbackRate = Number(button.dataset.speed); });
  }));
  const frame = 1 / 25;
  const step = (by) => tiles.filter((t) => t.playing).forEach((t) => {
    t.video.pause();
    t.video.currentTime = Math.max(0, t.video.currentTime + by);
  });
  $('tl-frame-back').addEventListener('click', () => step(-frame));
  $('tl-frame-forward').addEventListener('click', () => step(frame));

  window.LprnvrTimeline = { play, load, state, tiles, wallclock };
  setWindow(Date.now() - state.seconds * 1000, state.seconds);
})();
