// Logs into the admin site in headless Chromium, opens the live grid and reports whether video time advances.
// Usage: node play_live.js <base_url> <username> <password> [watch_seconds]   (prints one JSON line)
// Also reports the stream tokens the page used and any HLS request refused (an expired token).
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, watchArg] = process.argv.slice(2);
  const watch = Number(watchArg || 4);
  const userDataDir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { ok: false };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') (result.console = result.console || []).push(m.text()); });
    const tokens = new Set();
    result.refused = [];
    page.on('response', (r) => {
      const m = r.url().match(/\/api\/cameras\/streams\/([^/]+)\//);
      if (!m) return;
      tokens.add(m[1]);
      if (r.status() >= 400) result.refused.push(r.status());
    });
    await page.goto(base + '/admin/login/?next=/admin/recordings/recording/live/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    result.url = page.url();
    await page.waitForFunction(() => {
      const v = document.querySelector('.live-cell video');
      return v && v.currentTime > 0;
    }, null, { timeout: 45000 });
    const t0 = await page.evaluate(() => document.querySelector('.live-cell video').currentTime);
    await page.waitForTimeout(watch * 1000);
    const t1 = await page.evaluate(() => document.querySelector('.live-cell video').currentTime);
    Object.assign(result, { ok: t1 - t0 > watch / 2, t0, t1, hlsJs: await page.evaluate(() => !!window.Hls),
                            tokens: tokens.size });
  } catch (err) {
    result.error = String(err);
  } finally {
    await context.close();
    require('fs').rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
