// Headless Chromium as a `user`: logs in, opens the plate list, ticks <plate>, runs "Push selected
// plates to cameras", ticks the camera named <camera>, queues the job, and waits on the job's page
// (it reloads itself while the job runs) until it says Succeeded; screenshots (1440x900) the
// choose-cameras page and the finished job's page, and prints the result as JSON.
// Usage: node push_plate.js <base_url> <username> <password> <plate> <camera> <screenshot_dir>
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, plate, camera, shots] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: 'en-US',
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { ok: false };
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/admin/login/?next=/admin/plates/plate/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    result.listStatus = await page.evaluate(() => document.title);
    await page.screenshot({ path: path.join(shots, 'plate-list-user.png') });
    result.listWidth = await page.evaluate(() => Math.max(document.documentElement.scrollWidth,
      window.innerWidth + document.querySelector('.results').scrollWidth - document.querySelector('.results').clientWidth));
    result.cameraColumn = await page.$$eval('td.field-held_by', (cells) => cells.map((c) => c.textContent.trim()));
    const row = page.locator('#result_list tbody tr', { hasText: plate });
    await row.locator('input.action-select').check();
    await page.selectOption('select[name=action]', 'push_to_cameras');
    await Promise.all([page.waitForNavigation(), page.click('button[name=index]')]);
    result.offered = await page.$$eval('input[name=cameras]', (boxes) => boxes.map((b) => b.parentElement.textContent.trim()));
    await page.locator('label', { hasText: camera }).locator('input[name=cameras]').check();
    await page.screenshot({ path: path.join(shots, 'push-choose-cameras.png') });
    await Promise.all([page.waitForNavigation(), page.click('input[name=apply]')]);
    result.jobUrl = new URL(page.url()).pathname;
    await page.waitForFunction(() => /Succeeded|Failed|Partly failed/.test(
      (document.querySelector('.field-status .readonly') || {}).textContent || ''), null, { timeout: 30000, polling: 200 });
    result.status = await page.$eval('.field-status .readonly', (n) => n.textContent.trim());
    result.rows = await page.$$eval('.job-items tbody tr', (rows) => rows.map((r) => r.textContent.replace(/\s+/g, ' ').trim()));
    result.height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.screenshot({ path: path.join(shots, 'push-job-finished.png'), fullPage: true });
    // The gate's drift: the list's key columns and the page's tables within 1440 px.
    await page.goto(base + '/admin/plates/anprcamera/');
    // The list's table does not scroll inside its box: every column shows at 1440 px.
    result.driftListWidth = await page.evaluate(() => Math.max(document.documentElement.scrollWidth,
      window.innerWidth + document.querySelector('.results').scrollWidth - document.querySelector('.results').clientWidth));
    result.driftListHeaders = await page.$$eval('#result_list thead th', (ths) => ths.map((t) => t.textContent.trim()));
    await page.screenshot({ path: path.join(shots, 'drift-list-user.png') });
    await page.click('#result_list tbody th a');
    await page.waitForSelector('.drift-tables');
    result.driftWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    result.driftTables = await page.$$eval('.drift-tables caption', (cs) => cs.map((c) => c.textContent.trim()));
    await page.screenshot({ path: path.join(shots, 'drift-page-user.png'), fullPage: true });
    result.ok = true;
  } catch (err) {
    result.error = String(err);
    try { await context.pages()[0].screenshot({ path: path.join(shots, 'push-failure.png') }); } catch (e) {}
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
