// browser.js SVG SHOT [REAL_SVG REAL_SHOT FUNCTION]: open etrace flame
// graphs in headless Chromium (Debian's, driven by playwright-core), use
// them as a person would, and check the page after each step.
//
// SVG must be drawn from tests/output/flame/sample.folded
// (1,000 samples; `spin` has 570 of them, 473 in now_ns; the stacks through
// do_syscall_64_[k] add up to 121; those holding a kernel frame to 430),
// and every number is checked.  REAL_SVG is a real profile: the widest
// FUNCTION frame is found, clicked (it must fill the width), and searched
// for (it must be highlighted and its share shown).
//
// Prints "PASS browser_NAME" / "FAIL browser_NAME: why" lines and saves a
// screenshot of the zoomed graph to SHOT.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const [svgPath, shot, realPath, realShot, fn] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

let failed = 0;
function check(name, ok, why) {
  if (ok) console.log('PASS browser_' + name);
  else {
    failed++;
    console.log('FAIL browser_' + name + ': ' + why);
  }
}

// Everything the checks need about a frame, read from the live page.
async function frame(page, name) {
  return page.evaluate((name) => {
    const g = Array.from(document.querySelectorAll('g.f'))
      .find((g) => g.querySelector('title').textContent.startsWith(name + ' ('));
    if (!g) return null;
    const r = g.querySelector('rect'), box = r.getBoundingClientRect();
    return {
      title: g.querySelector('title').textContent,
      label: g.querySelector('text').textContent,
      x: +r.getAttribute('x'), width: +r.getAttribute('width'),
      shownWidth: box.width,
      visible: getComputedStyle(g).display !== 'none' && box.width > 0,
      classes: g.getAttribute('class'),
      fill: getComputedStyle(r).fill,
    };
  }, name);
}

const near = (a, b) => Math.abs(a - b) < 0.01;

// Open svg in a new page: its layout, and the list of script errors.
async function open(browser, svg, prefix) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto('file://' + path.resolve(svg));
  const layout = await page.evaluate(() => ({
    pad: +document.documentElement.getAttribute('data-pad'),
    plotw: +document.documentElement.getAttribute('data-plotw'),
    script: typeof window.flame === 'object',
    frames: document.querySelectorAll('g.f').length,
  }));
  // the committed sample has dozens of frames; a live profile of the
  // spin helper may have as few as 7 (all, comm, libc start, main, 3 spin)
  check(prefix + 'script_runs', layout.script && layout.frames > (prefix ? 6 : 10),
    'window.flame ' + layout.script + ', ' + layout.frames + ' frames');
  return { page, layout, errors };
}

// A real profile: the widest `fn` frame is there, zooms to full width when
// clicked, and a search for it highlights it with its share.
async function realProfile(browser) {
  const { page, layout, errors } = await open(browser, realPath, 'real_');
  const widest = await page.evaluate((fn) => {
    let best = null;
    document.querySelectorAll('g.f').forEach((g) => {
      const t = g.querySelector('title').textContent;
      if (t.startsWith(fn + ' (') && (!best || +g.getAttribute('data-n') > +best.getAttribute('data-n')))
        best = g;
    });
    if (!best) return null;
    best.id = 'target';
    const t = best.querySelector('title').textContent;
    return { title: t, pct: t.slice(t.lastIndexOf(', ') + 2, -2) };
  }, fn);
  check('real_function_present', widest !== null, fn + ' not found');
  if (!widest) return;
  await page.click('#target rect');
  const z = await page.evaluate(() => {
    const r = document.querySelector('#target rect');
    const hidden = Array.from(document.querySelectorAll('g.f'))
      .filter((g) => getComputedStyle(g).display === 'none').length;
    return { x: +r.getAttribute('x'), width: r.getBoundingClientRect().width, hidden };
  });
  check('real_click_zooms', near(z.x, layout.pad) && near(z.width, layout.plotw),
    fn + ' after click: ' + JSON.stringify(z));
  await page.click('#unzoom');
  page.once('dialog', (d) => d.accept('^' + fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$'));
  await page.click('#search');
  const m = await page.textContent('#matched');
  const hl = await page.evaluate(() => getComputedStyle(document.querySelector('#target rect')).fill);
  const share = parseFloat(m.replace('Matched: ', ''));
  check('real_search', hl === 'rgb(225, 0, 225)' && share >= parseFloat(widest.pct) - 0.05,
    'fill ' + hl + ', ' + JSON.stringify(m) + ', title ' + widest.title);
  if (realShot) await page.screenshot({ path: realShot });
  check('real_no_page_errors', errors.length === 0, errors.join('; '));
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    await sampleProfile(browser);
    if (realPath) await realProfile(browser);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log('FAIL browser: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
  process.exit(1);
});

// The sample profile: every step checked against its known numbers.
async function sampleProfile(browser) {
  const { page, layout, errors } = await open(browser, svgPath, '');
    // The known function is there, with its share of the width and its
    // count in the tooltip.
    const spin = await frame(page, 'spin');
    check('spin_present', spin && spin.visible && near(spin.width, 0.57 * layout.plotw) &&
      spin.title === 'spin (570 samples, 57.00%)' && spin.label === 'spin',
      JSON.stringify(spin));

    // Hovering shows the same text in the details line.
    await page.hover('g.f:has(title:text-is("spin (570 samples, 57.00%)")) rect');
    const details = await page.textContent('#details');
    check('hover_details', details === 'spin (570 samples, 57.00%)', JSON.stringify(details));

    // Click it: it fills the width, its callees grow with it, its callers
    // stay (faded) at full width, the rest of the graph is hidden.
    await page.click('g.f:has(title:text-is("spin (570 samples, 57.00%)")) rect');
    const z = await frame(page, 'spin');
    const nowNs = await frame(page, 'now_ns');
    const step = await frame(page, 'step');
    const swapper = await frame(page, 'swapper/0');
    const sleepNs = await frame(page, 'sleep_ns');
    const unzoomShown = await page.isVisible('#unzoom');
    check('click_zooms', z.visible && near(z.x, layout.pad) && near(z.width, layout.plotw) &&
      near(z.shownWidth, layout.plotw),
      'spin after click: ' + JSON.stringify(z));
    check('zoom_scales_callees', nowNs.visible && near(nowNs.width, 473 / 570 * layout.plotw),
      'now_ns: ' + JSON.stringify(nowNs));
    check('zoom_keeps_callers', step.visible && near(step.width, layout.plotw) &&
      step.classes.split(' ').includes('a'), 'step: ' + JSON.stringify(step));
    check('zoom_hides_others', !swapper.visible && !sleepNs.visible && unzoomShown,
      'swapper/0 ' + swapper.visible + ', sleep_ns ' + sleepNs.visible + ', reset ' + unzoomShown);
    if (shot) await page.screenshot({ path: shot });

    // Reset zoom restores the first layout.
    await page.click('#unzoom');
    const back = await frame(page, 'spin');
    const swapperBack = await frame(page, 'swapper/0');
    check('reset_zoom', near(back.width, spin.width) && near(back.x, spin.x) && swapperBack.visible &&
      !(await page.isVisible('#unzoom')), JSON.stringify(back));

    // Search through the page's own prompt: the matches are highlighted
    // and the matched share is shown (nested matches counted once).
    async function search(term) {
      page.once('dialog', (d) => d.accept(term));
      await page.click('#search');
      return page.textContent('#matched');
    }
    const m1 = await search('^spin$');
    const hit = await frame(page, 'spin');
    const miss = await frame(page, 'step');
    check('search_highlights', hit.classes.split(' ').includes('m') && hit.fill === 'rgb(225, 0, 225)' &&
      !miss.classes.split(' ').includes('m') && miss.fill !== 'rgb(225, 0, 225)',
      'spin ' + JSON.stringify(hit) + ' step ' + JSON.stringify(miss));
    check('search_matched_pct', m1 === 'Matched: 57.0% (1 frame)', JSON.stringify(m1));
    await page.click('#search'); // "Reset search"
    const cleared = await frame(page, 'spin');
    check('search_reset', !cleared.classes.split(' ').includes('m') &&
      (await page.textContent('#matched')) === '', JSON.stringify(cleared));
    const m2 = await search('^do_syscall_64');
    check('search_sums_matches', m2 === 'Matched: 12.1% (4 frames)', JSON.stringify(m2));
    await page.click('#search');
    const m3 = await search('_\\[k\\]$');
    check('search_nested_once', m3.startsWith('Matched: 43.0% ('), JSON.stringify(m3));

    check('no_page_errors', errors.length === 0, errors.join('; '));
}
