// Headless Chromium on the dashboard while a camera goes down and comes back. Logs in, opens the admin index
// (the dashboard), and follows one camera's row as the page refreshes itself (no reload):
//   prints {"event": "up"} once the row says "recording"; the test then kills the RTSP server and writes a line;
//   prints {"event": "down", "seconds": s, "state": ...} once the row leaves "recording" (s: since that line);
//   the test restarts the server and writes a line; prints {"event": "back", "seconds": s} once it records again.
// Screenshots (1440x900) of each stage go to <screenshot_dir>. Usage:
//   node dashboard_camera_down.js <base_url> <username> <password> <camera_id> <screenshot_dir> [down_within_s]
const { chromium } = require('playwright-core');
const readline = require('readline');

(async () => {
  const [base, username, password, cameraId, shots, withinArg] = process.argv.slice(2);
  const within = Number(withinArg || 10) * 1000;
  const fs = require('fs'), os = require('os'), path = require('path');
  const lines = readline.createInterface({ input: process.stdin });
  const waiting = [];
  lines.on('line', () => { const next = waiting.shift(); if (next) next(); });
  const nextLine = () => new Promise((resolve) => waiting.push(resolve));
  const say = (obj) => console.log(JSON.stringify(obj));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { ok: false };
  const row = `#dashboard-panel tr[data-camera="${cameraId}"]`;
  const inState = ([selector, wanted]) => {
    const el = document.querySelector(selector);
    return el && wanted.includes(el.dataset.state);
  };
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/admin/login/?next=/admin/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    let loads = 0;
    page.on('load', () => { loads += 1; });
    await page.waitForFunction(inState, [row, ['recording']], { timeout: 60000, polling: 200 });
    result.cameras = await page.$$eval('#dashboard-panel tr[data-camera]', (rows) => rows.map((r) => r.dataset.camera));
    await page.screenshot({ path: path.join(shots, 'dashboard-up.png') });
    say({ event: 'up' });
    await nextLine();
    let t0 = Date.now();
    await page.waitForFunction(inState, [row, ['reconnecting', 'down']], { timeout: within, polling: 100 });
    result.down = { seconds: (Date.now() - t0) / 1000, state: await page.$eval(row, (r) => r.dataset.state),
                    error: await page.$eval(row, (r) => r.querySelector('td.dash-error').textContent.trim()) };
    // "Down" once the retries are spent (a few seconds more): what a person sees while it stays dead.
    try {
      await page.waitForFunction(inState, [row, ['down']], { timeout: 30000, polling: 200 });
      result.downState = 'down';
    } catch (err) {
      result.downState = await page.$eval(row, (r) => r.dataset.state);
    }
    result.downText = await page.$eval(row, (r) => r.innerText);
    await page.screenshot({ path: path.join(shots, 'dashboard-down.png') });
    say({ event: 'down', ...result.down });
    await nextLine();
    t0 = Date.now();
    await page.waitForFunction(inState, [row, ['recording']], { timeout: 60000, polling: 200 });
    result.back = { seconds: (Date.now() - t0) / 1000 };
    await page.screenshot({ path: path.join(shots, 'dashboard-back.png') });
    result.reloads = loads;  // the page refreshed its panel itself: never reloaded
    say({ event: 'back', ...result.back });
    result.ok = true;
  } catch (err) {
    result.error = String(err);
    try { await context.pages()[0].screenshot({ path: path.join(shots, 'dashboard-failure.png') }); } catch (e) {}
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    lines.close();
  }
  say(result);
  process.exit(result.ok ? 0 : 1);
})();
