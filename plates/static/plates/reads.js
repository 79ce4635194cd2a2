// The plate-read pages (admin "Plate reads" and the gate monitor), drawn from the reads API with the
// session: what they show is what /api/plates/reads/ shows this user. Data goes in through
// textContent only (a plate is whatever a camera sent). Words come translated in #read-words.
(function () {
  const W = JSON.parse(document.getElementById('read-words').textContent);
  const LANG = document.documentElement.lang || undefined;
  const TIME = new Intl.DateTimeFormat(LANG, { dateStyle: 'short', timeStyle: 'medium' });

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v; else if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }
  // The browser's local time; the camera's own time when it sent one (the moment of the read).
  function when(read) { return TIME.format(new Date(read.camera_time || read.received_at)); }
  function cameraVerdict(read) {
    return el('span', { class: 'verdict cv-' + read.camera_verdict, text: W.camera_verdict[read.camera_verdict] || read.camera_verdict });
  }
  function ourVerdict(read) {
    return el('span', { class: 'verdict ov-' + read.our_verdict, text: W.our_verdict[read.our_verdict] || read.our_verdict });
  }
  function direction(read) { return (read.direction && W.directions[read.direction]) || read.direction || '—'; }
  function flag(read) { return read.flagged ? el('span', { class: 'flag', title: W.flagged, text: '⚑ ' + W.flagged }) : null; }
  async function getJson(url) {
    const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const first = Object.entries(body).find(([k]) => k !== 'code');
      throw new Error(body.detail || (first ? first[0] + ': ' + [].concat(first[1]).join(' ') : r.status));
    }
    return body;
  }

  // --- "Plate reads" -------------------------------------------------------------------------------
  function logPage(listUrl) {
    const form = document.getElementById('read-filters');
    const tbody = document.querySelector('#reads tbody');
    const older = document.getElementById('read-older');
    const csv = document.getElementById('read-csv');
    const error = document.getElementById('read-error');
    const detail = document.getElementById('read-detail');
    const csvBase = csv.getAttribute('href');
    let next = null;

    // The form <-> the API's query (datetime-local is the browser's local time: sent as UTC ISO).
    function query() {
      const q = new URLSearchParams();
      for (const [k, v] of new FormData(form)) {
        if (v === '' || (k === 'match' && !form.plate.value)) continue;
        q.set(k, (k === 'since' || k === 'until') ? new Date(v).toISOString() : v);
      }
      return q;
    }
    function fill(q) {
      for (const [k, v] of q) {
        const field = form.elements[k];
        if (!field) continue;
        if (k === 'since' || k === 'until') {
          const d = new Date(v);
          if (!isNaN(d)) field.value = new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
        } else field.value = v;
      }
    }
    function row(read) {
      const thumb = read.pictures.plate ? el('img', { src: read.pictures.plate, alt: '', loading: 'lazy' }) : el('span', { text: '—' });
      const link = el('a', { href: '#read-' + read.id, class: 'plate-number', text: read.number || read.plate_as_read || '—' });
      const tr = el('tr', { 'data-id': read.id, class: read.flagged ? 'flagged' : null },
        el('td', { class: 'thumb' }, thumb), el('td', {}, link), el('td', { text: read.camera_name }),
        el('td', { title: W.received + ': ' + TIME.format(new Date(read.received_at)), text: when(read) }),
        el('td', { text: direction(read) }), el('td', {}, cameraVerdict(read)), el('td', {}, ourVerdict(read)),
        el('td', {}, flag(read)));
      tr.addEventListener('click', (e) => { e.preventDefault(); open(read.url, tr); });
      return tr;
    }
    async function load(url, append) {
      error.hidden = true;
      try {
        const page = await getJson(url);
        if (!append) tbody.replaceChildren();
        for (const read of page.results) tbody.append(row(read));
        if (!tbody.children.length) tbody.append(el('tr', {}, el('td', { colspan: 8, text: W.no_reads })));
        next = page.next;
        older.hidden = !next;
      } catch (err) { error.textContent = W.error + ' ' + err.message; error.hidden = false; }
      document.body.dataset.reads = 'loaded';
    }
    function search() {
      const q = query();
      history.replaceState(null, '', '?' + q);
      csv.href = csvBase + (q.toString() ? '?' + q : '');
      detail.hidden = true;
      return load(listUrl + '?' + q, false);
    }
    async function open(url, tr) {
      for (const other of tbody.querySelectorAll('tr.selected')) other.classList.remove('selected');
      tr.classList.add('selected');
      detail.hidden = false;
      detail.replaceChildren(el('p', { text: W.loading }));
      try { showRead(detail, await getJson(url)); } catch (err) { detail.replaceChildren(el('p', { class: 'errornote', text: W.error + ' ' + err.message })); }
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
    older.addEventListener('click', () => next && load(next, true));
    fill(new URLSearchParams(location.search));
    search();
  }

  // One read: its facts, its pictures, and a player per clip (or why there is none).
  function showRead(box, read) {
    const close = el('button', { type: 'button', class: 'button close', text: W.close });
    close.addEventListener('click', () => { box.hidden = true; });
    const facts = el('dl', {},
      el('dt', { text: W.camera_time }), el('dd', { text: read.camera_time ? when(read) : '—' }),
      el('dt', { text: W.received }), el('dd', { text: TIME.format(new Date(read.received_at)) }),
      el('dt', { text: W.direction }), el('dd', { text: direction(read) }),
      el('dt', { text: W.confidence }), el('dd', { text: read.confidence === null ? '—' : read.confidence + ' %' }),
      el('dt', { text: W.vehicle }), el('dd', { text: Object.values(read.vehicle || {}).join(', ') || '—' }));
    const pictures = el('div', { class: 'pictures' });
    for (const kind of ['plate', 'scene', 'vehicle']) {
      if (!read.pictures[kind]) continue;
      pictures.append(el('figure', { class: 'picture-' + kind },
        el('a', { href: read.pictures[kind], target: '_blank' }, el('img', { src: read.pictures[kind], alt: W[kind + '_picture'] })),
        el('figcaption', { text: W[kind + '_picture'] })));
    }
    if (!pictures.children.length) pictures.append(el('p', { text: W.no_pictures }));
    const clips = el('div', { class: 'clips' }, el('h3', { text: W.video }));
    for (const clip of read.clips) clips.append(clipPlayer(clip));
    if (!read.clips.length) clips.append(el('p', { text: W.no_clips }));
    box.replaceChildren(close,
      el('h2', { class: 'plate-number big', text: read.number || read.plate_as_read || '—' }),
      el('p', { class: 'verdicts' }, W.camera_says + ': ', cameraVerdict(read), ' · ' + W.we_say + ': ', ourVerdict(read), ' ', flag(read)),
      el('p', { text: read.camera_name }), facts, pictures, clips);
  }
  // Ask for the first byte before showing a player: a clip that cannot be cut (not recorded, the
  // export bounds) is said in words, never a black player. The cut is cached, the player reuses it.
  function clipPlayer(clip) {
    const box = el('div', { class: 'clip' }, el('h4', { text: clip.name + (clip.overview ? ' (' + W.overview + ')' : '') }));
    const state = el('p', { class: 'clip-state', text: W.loading });
    box.append(state);
    fetch(clip.url, { credentials: 'same-origin', headers: { Range: 'bytes=0-0' } }).then(async (r) => {
      if (r.ok) {
        state.remove();
        box.append(el('video', { src: clip.url, controls: '', preload: 'metadata', playsinline: '' }));
        return;
      }
      const body = await r.json().catch(() => ({}));
      state.className = 'clip-state ' + (body.code || 'error');
      state.textContent = body.code === 'not_recorded' ? W.not_recorded : W.clip_error + ' ' + (body.detail || r.status);
    }).catch((err) => { state.textContent = W.clip_error + ' ' + err.message; });
    return box;
  }

  // --- Gate monitor ----------------------------------------------------------------------------------
  const KEEP = 6;  // reads listed per gate: the latest big, the ones before it small
  // `camera`: one gate's screen (the feed asked for that camera only); "" for every gate shown.
  function monitorPage(feedUrl, camera) {
    const gates = new Map(Array.from(document.querySelectorAll('.gate')).map((g) => [Number(g.dataset.camera), g]));
    const status = document.getElementById('monitor-state');
    const shown = new Map();  // camera id -> latest reads, newest first
    function draw(gate, reads) {
      const [latest, ...before] = reads;
      const card = gate.querySelector('.latest');
      card.className = 'latest ov-' + latest.our_verdict + (latest.flagged ? ' flagged' : '');
      const picture = latest.pictures.plate || latest.pictures.scene;
      card.replaceChildren(
        el('div', { class: 'plate-number huge', text: latest.number || latest.plate_as_read || '—' }),
        el('div', { class: 'verdicts' }, ourVerdict(latest), ' ', W.camera_says + ': ', cameraVerdict(latest), ' ', flag(latest)),
        el('div', { class: 'when', text: when(latest) + (latest.direction ? ' · ' + direction(latest) : '') }),
        picture ? el('img', { src: picture, alt: '', class: 'picture' }) : null);
      gate.querySelector('.before').replaceChildren(...before.map((r) => el('li', { class: 'ov-' + r.our_verdict + (r.flagged ? ' flagged' : '') },
        el('span', { class: 'plate-number', text: r.number || r.plate_as_read || '—' }), ' ', el('span', { text: when(r) }), ' ', flag(r))));
    }
    function add(reads) {
      const touched = new Set();
      for (const read of reads) {  // the feed answers oldest first
        if (!gates.has(read.camera)) continue;
        shown.set(read.camera, [read, ...(shown.get(read.camera) || [])].slice(0, KEEP));
        touched.add(read.camera);
      }
      for (const id of touched) draw(gates.get(id), shown.get(id));
    }
    async function poll(cursor) {
      for (;;) {
        try {
          const q = new URLSearchParams();
          if (camera) q.set('camera', camera);
          if (cursor !== null) q.set('after', cursor);
          const page = await getJson(feedUrl + (q.toString() ? '?' + q : ''));
          status.hidden = true;
          add(page.results);
          cursor = page.cursor;
          document.body.dataset.feed = 'ready';
        } catch (err) {
          status.textContent = W.offline; status.hidden = false;
          await new Promise((done) => setTimeout(done, 3000));
        }
      }
    }
    poll(null);
    if (window.LprnvrLive) LprnvrLive.startAll(Array.from(document.querySelectorAll('.gate .live-cell')));
  }

  window.LprnvrReads = { logPage, monitorPage };
})();
