// serve.mjs URL JOB_DONE JOB_LIVE RESULT_WxH INPUT_WxH OUTDIR
// Drives the system chromium (puppeteer-core, no browser download) through
// imgeditctl serve: the thumbnails of a finished job on / and /jobs/ID are
// decoded at the expected sizes; then, with "ready" printed, it waits for
// the live job's partials to appear on / and on its own page while it is
// still running, and for a job
// submitted afterwards to get a row, all without a reload. Screenshots go
// to OUTDIR. Prints "ready", then "ok ..." and exits 0, or throws.
import puppeteer from "puppeteer-core";

const [url, jobDone, jobLive, resultWH, inputWH, outdir] = process.argv.slice(2);
const [rw, rh] = resultWH.split("x").map(Number);
const [iw, ih] = inputWH.split("x").map(Number);
const TIMEOUT = 20000;

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// Opens path in a window of its own (a background tab would defer its lazy
// images); collects script errors and navigations.
async function open(browser, path) {
  const page = await (await browser.createBrowserContext()).newPage();
  page.errors = [];
  page.navigations = 0;
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && page.errors.push(m.text()));
  page.on("framenavigated", (f) => f === page.mainFrame() && page.navigations++);
  await page.setViewport({ width: 1280, height: 1400 });
  await page.goto(url + path.replace(/^\//, ""), { waitUntil: "load" });
  return page;
}

// Every <img> matching sel, once all are decoded: [{src, w, h}].
async function decoded(page, sel) {
  await page.waitForFunction(
    (s) => {
      const imgs = [...document.querySelectorAll(s)];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    { timeout: TIMEOUT },
    sel,
  );
  return page.$$eval(sel, (imgs) =>
    imgs.map((i) => ({ src: i.getAttribute("src"), w: i.naturalWidth, h: i.naturalHeight })),
  );
}

function sized(imgs, w, h, what) {
  for (const i of imgs)
    check(i.w === w && i.h === h, `${what}: ${i.src} is ${i.w}x${i.h}, not ${w}x${h}`);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows"],
  protocolTimeout: 30000,
});
try {
  // the finished job, on the queue and on its page
  const index = await open(browser, "/");
  const rowImgs = await decoded(index, `#job-${jobDone} .strip img`);
  check(rowImgs.length >= 2, `job ${jobDone}'s row has ${rowImgs.length} thumbnails`);
  sized(rowImgs, rw, rh, "a result's thumbnail on /");
  const done = await open(browser, `/jobs/${jobDone}`);
  sized(await decoded(done, ".inputs img"), iw, ih, "the input's thumbnail");
  const strip = await decoded(done, ".attempts .strip img");
  sized(strip, rw, rh, "an attempt's thumbnail");
  check(strip.length === rowImgs.length, "the job page and the row disagree");

  // live: the running job's page and the queue, before anything happened
  const live = await open(browser, `/jobs/${jobLive}`);
  for (const p of [index, live]) {
    await p.waitForSelector('body[data-live="open"]', { timeout: TIMEOUT });
    await p.evaluate(() => { window.stillHere = true; });
  }
  check((await live.$$(".strip img")).length === 0, "the live job had images already");
  console.log("ready");

  // each page, polled every 50 ms: "seen STATE" once a partial is decoded,
  // "late STATE" if the job ended first (then it was not seen live)
  const seenIndex = index.waitForFunction(
    (id) => {
      const i = document.querySelector(`#job-${id} a.partial img`);
      const st = document.querySelector(`#job-${id} .state`).textContent;
      if (i && i.complete && i.naturalWidth > 0) return "seen " + st;
      return st === "running" || st === "queued" ? null : "late " + st;
    },
    { timeout: TIMEOUT, polling: 50 },
    jobLive,
  );
  const seenLive = live.waitForFunction(
    () => {
      const i = document.querySelector(".attempts a.partial img");
      const st = document.querySelector("h1 .state").textContent;
      if (i && i.complete && i.naturalWidth > 0) return "seen " + st;
      return st === "running" || st === "queued" ? null : "late " + st;
    },
    { timeout: TIMEOUT, polling: 50 },
  );
  seenLive.catch(() => {}); // reported below, if the first did not throw
  for (const [what, h] of [["/", seenIndex], ["the job's page", seenLive]]) {
    const v = await (await h).jsonValue();
    check(v === "seen running", `on ${what}: ${v}, not a partial of a running job`);
  }
  sized(await decoded(live, ".attempts a.partial img"), rw, rh, "a live partial");
  // a job submitted after the page was read gets its row at the top
  await index.waitForSelector(`#job-${Number(jobLive) + 1}`, { timeout: TIMEOUT });
  // the live job's final too, on both
  await index.waitForSelector(`#job-${jobLive} a.final img`, { timeout: TIMEOUT });
  await live.waitForSelector(".attempts a.final img", { timeout: TIMEOUT });
  await decoded(index, `#job-${jobLive} .strip img`);
  for (const p of [index, live]) {
    check(await p.evaluate(() => window.stillHere === true), "the page was reloaded");
    check(p.navigations === 1, `${p.navigations} navigations`);
    check(p.errors.length === 0, "script errors: " + p.errors.join("; "));
  }
  await index.screenshot({ path: `${outdir}/serve-index.png`, fullPage: true });
  await live.screenshot({ path: `${outdir}/serve-job.png`, fullPage: true });
  console.log(`ok thumbnails ${rowImgs.length}+${strip.length} at ${rw}x${rh}, partials live`);
} catch (e) {
  for (const p of await browser.pages())
    console.error(p.url(), (await p.content()).slice(0, 4000));
  throw e;
} finally {
  await browser.close();
}
