// The site's pages, as files: what a browser asks for before any script
// runs. Headless Chromium never asks for an icon, so the browser journey
// cannot catch a page without one; a person's browser asks every page for
// /favicon.ico when the page names none, and logs the 404.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('every page', () => {
  for (const page of ['index.html', 'upload.html', 'signoff.html', 'ops.html']) {
    it(`${page} names an icon the site has`, () => {
      const html = readFileSync(join(root, page), 'utf8');
      const m = /<link rel="icon" href="\/([^"]+)"/.exec(html);
      expect(m, `${page} names no icon`).not.toBeNull();
      const icon = m?.[1] ?? '';
      expect(existsSync(join(root, 'public', icon)), `${page}'s icon /${icon} is not in public/`).toBe(true);
    });
  }
});
