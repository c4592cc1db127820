// Checks teikit's HTML reading editions in a real headless browser (Debian chromium, driven by
// playwright-core; no browser is ever downloaded): every in-page link (entities, index, notes,
// back-links) resolves to an element, links to other pages of a corpus resolve to files and ids,
// axe-core reports no violations, nothing scrolls sideways at 360 px, the page makes no network
// request, and print CSS hides the navigation. Saves a screenshot of the first page.
//
// Usage: node check-html.mjs --screenshot OUT.png PAGE.html [PAGE.html ...]
// Exit 0 when every page passes; 1 with a report on stderr otherwise; 2 for usage errors.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const args = process.argv.slice(2);
let screenshot = null;
const pages = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--screenshot") screenshot = args[++i];
  else pages.push(path.resolve(args[i]));
}
if (pages.length === 0) {
  console.error("usage: node check-html.mjs --screenshot OUT.png PAGE.html [PAGE.html ...]");
  process.exit(2);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "teikit-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});

const failures = [];
const summary = [];
const network = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith("file:")) return route.continue();
  network.push(url);
  return route.abort();
});

try {
  for (const [i, file] of pages.entries()) {
    const name = path.basename(file);
    const fail = (msg) => failures.push(`${name}: ${msg}`);
    const page = await context.newPage();
    const before = network.length;
    await page.goto(pathToFileURL(file).href);

    // Links: in-page fragments must name an element; other files must exist and hold the id.
    const links = await page.evaluate(() =>
      Array.from(document.querySelectorAll("a[href]")).map((a) => ({
        href: a.getAttribute("href"),
        cls: a.className,
        role: a.getAttribute("role") || "",
        resolves: a.getAttribute("href").startsWith("#")
          ? document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1))) !== null
          : null,
      })),
    );
    let entity = 0, index = 0, notes = 0, other = 0;
    for (const l of links) {
      if (l.href.startsWith("#")) {
        if (!l.resolves) fail(`link ${l.href} does not resolve`);
        if (l.cls.includes("ent")) entity++;
        else if (l.role === "doc-noteref" || l.role === "doc-backlink") notes++;
        else index++;
      } else if (!/^https?:/.test(l.href)) {
        const [rel, frag] = l.href.split("#");
        const target = path.join(path.dirname(file), rel);
        if (!fs.existsSync(target)) fail(`link ${l.href}: ${rel} does not exist`);
        else if (frag && !fs.readFileSync(target, "utf8").includes(`id="${frag}"`))
          fail(`link ${l.href}: no id ${frag} in ${rel}`);
        other++;
      }
    }

    // Accessibility: axe-core, every rule it runs by default.
    await page.addScriptTag({ path: AXE });
    const axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
      }));
    });
    for (const v of axe) fail(`axe ${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(", ")}`);

    // Reflow: no horizontal scrolling at 360 CSS px (WCAG 2.1 SC 1.4.10).
    await page.setViewportSize({ width: 360, height: 740 });
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      body: document.body.scrollWidth,
    }));
    if (widths.scroll > widths.client || widths.body > widths.client)
      fail(`scrolls sideways at 360 px: content ${widths.scroll}px in ${widths.client}px`);

    // Print: navigation and back-links are hidden.
    await page.emulateMedia({ media: "print" });
    const printHidden = await page.evaluate(() =>
      Array.from(document.querySelectorAll("nav, a.back")).every(
        (e) => getComputedStyle(e).display === "none",
      ),
    );
    if (!printHidden) fail("print CSS does not hide navigation and back-links");
    await page.emulateMedia({ media: "screen" });

    if (i === 0 && screenshot) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: screenshot, fullPage: true });
      await page.setViewportSize({ width: 360, height: 740 });
      await page.screenshot({ path: screenshot.replace(/\.png$/, "-360.png"), fullPage: false });
    }
    if (network.length > before) fail(`requested the network: ${network.slice(before).join(", ")}`);
    summary.push(
      `${name}: ${entity} entity/date links, ${index} index links, ${notes} note links, ${other} page links, axe violations ${axe.length}, width at 360 px ${widths.scroll}`,
    );
    await page.close();
  }
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

for (const s of summary) console.log(s);
if (failures.length) {
  for (const f of failures) console.error(f);
  process.exit(1);
}
console.log(`ok: ${pages.length} pages`);
