// Logs into the admin site in headless Chromium, opens the timeline, shows the 10 minutes from <from>
// (site time, as typed), clicks the middle of the first recorded span and reports the instant clicked,
// the wall-clock time of the first frame played and how far the video advanced; a screenshot at <shot>.
// With "sync": four cameras in step (2x2); reports the largest spread of their wall-clock times, sampled.
// Usage: node play_timeline.js <base_url> <username> <password> <from YYYY-MM-DDTHH:MM:SS> <shot.png> [sync]
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, from, shot, mode] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { ok: false, pageErrors: [] };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (err) => result.pageErrors.push(String(err)));
    await page.goto(base + '/admin/login/?next=/admin/recordings/recording/timeline/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    await page.waitForSelector('.tl-strip', { timeout: 20000 });
    await page.selectOption('#tl-zoom', '600');
    await page.fill('#tl-from', from);
    await page.dispatchEvent('#tl-from', 'change');
    const span = await page.waitForSelector('.tl-span', { timeout: 20000 });
    result.spans = await page.$$eval('.tl-span', (spans) => spans.length);
    result.markers = await page.$$eval('.tl-marker', (m) => m.length);
    const box = await span.boundingBox();
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    result.clicked = await page.evaluate(([x]) => {
      const strip = document.querySelector('.tl-strip').getBoundingClientRect();
      const s = window.LprnvrTimeline.state;
      return s.start + ((x - strip.left) / strip.width) * s.seconds * 1000;
    }, [x]);
    if (mode === 'sync') await page.check('#tl-sync');
    await page.mouse.click(x, y);
    await page.waitForFunction(() => document.getElementById('tl-video').dataset.wallclock, null, { timeout: 20000 });
    result.firstWall = Number(await page.evaluate(() => document.getElementById('tl-video').dataset.wallclock));
    const startTime = await page.evaluate(() => document.getElementById('tl-video').currentTime);
    await page.waitForFunction((t) => document.getElementById('tl-video').currentTime > t + 2, startTime, { timeout: 20000 });
    result.advanced = (await page.evaluate(() => document.getElementById('tl-video').currentTime)) - startTime;
    result.playingText = await page.textContent('.tl-tile-time');
    if (mode === 'sync') {
      await page.waitForFunction(() => window.LprnvrTimeline.tiles.every((t) => t.video.currentTime > 1), null, { timeout: 20000 });
      result.spreads = [];
      for (let i = 0; i < 10; i++) {
        await page.waitForTimeout(500);
        result.spreads.push(await page.evaluate(() => {
          const walls = window.LprnvrTimeline.tiles.map((t) => window.LprnvrTimeline.wallclock(t));
          return Math.max(...walls) - Math.min(...walls);
        }));
      }
      result.times = await page.evaluate(() => window.LprnvrTimeline.tiles.map((t) => t.video.currentTime));
    }
    result.message = await page.evaluate(() => { const m = document.getElementById('tl-message'); return m.hidden ? '' : m.textContent; });
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    result.ok = true;
  } catch (err) {
    result.error = String(err);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
