// Headless Chromium on a camera's admin page: presses "Test connection" and "Take a snapshot" and reports what the
// page shows in place (no navigation). Screenshot (1440x900) to <screenshot_dir>/camera-page-<lang>.png.
// Usage: node camera_check.js <base_url> <username> <password> <camera_id> <screenshot_dir> [locale]
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, cameraId, shots, locale] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: locale || 'en-US',
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { ok: false };
  const lang = (locale || 'en').slice(0, 2);
  try {
    const page = context.pages()[0] || await context.newPage();
    const url = `/admin/cameras/camera/${cameraId}/change/`;
    await page.goto(base + '/admin/login/?next=' + url);
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    let loads = 0;
    page.on('load', () => { loads += 1; });
    await page.click('#camera-test-button');
    await page.waitForSelector('#camera-test-result .camera-test-report', { timeout: 30000 });
    result.testOk = await page.$eval('#camera-test-result .camera-test-report', (t) => t.dataset.ok);
    result.testText = await page.$eval('#camera-test-result', (t) => t.innerText);
    await page.click('#camera-snapshot-button');
    await page.waitForFunction(() => {
      const img = document.getElementById('camera-snapshot');
      return (!img.hidden && img.complete && img.naturalWidth > 0) || document.querySelector('.camera-check-error');
    }, null, { timeout: 30000 });
    result.snapshot = await page.$eval('#camera-snapshot', (img) => ({ hidden: img.hidden, width: img.naturalWidth }));
    result.snapshotError = await page.$$eval('.camera-check-error', (els) => els.map((e) => e.innerText));
    result.reloads = loads;
    result.lang = await page.evaluate(() => document.documentElement.lang);
    await page.screenshot({ path: path.join(shots, `camera-page-${lang}.png`), fullPage: true });
    result.ok = true;
  } catch (err) {
    result.error = String(err);
    try { await context.pages()[0].screenshot({ path: path.join(shots, `camera-page-failure-${lang}.png`) }); } catch (e) {}
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
