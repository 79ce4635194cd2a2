// Headless Chromium: logs in, opens "Plate reads", opens the newest read and plays its first clip;
// reports whether the video's time advances. Usage: node play_clip.js <base_url> <username> <password>
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { ok: false };
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/admin/login/?next=/admin/plates/plateread/log/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    await page.waitForSelector('#reads tbody tr[data-id]', { timeout: 20000 });
    await page.click('#reads tbody tr[data-id]');
    await page.waitForSelector('#read-detail .clip video, #read-detail .clip-state.not_recorded, #read-detail .clip-state.error', { timeout: 30000 });
    result.clips = await page.$$eval('#read-detail .clip', (clips) => clips.map((c) => c.textContent));
    await page.$eval('#read-detail .clip video', (v) => { v.muted = true; return v.play(); });
    await page.waitForFunction(() => document.querySelector('#read-detail .clip video').currentTime > 1, null, { timeout: 20000 });
    result.duration = await page.$eval('#read-detail .clip video', (v) => v.duration);
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
