import { accessSync, constants } from 'node:fs';
import { chromium } from 'playwright-core';
import { SerialQueue } from '@tingfeng/lifecycle';

/**
 * Prints report HTML to PDF with a real Chromium (Debian's `/usr/bin/chromium` by default, driven by playwright-core):
 * the same page a phone shows, laid out by its print stylesheet on A4. One browser per print, one print at a time:
 * reports are printed a few times a day, and a browser left running would hold ~150 MB for nothing.
 */
export class PdfPrinter {
  readonly #prints = new SerialQueue();

  constructor(private readonly executablePath: string) {}

  /** Whether the browser is installed (the incidents container image has none: PDF answers 501 there). */
  get available(): boolean {
    try {
      accessSync(this.executablePath, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** The PDF of `html`. Pages that load nothing from the network (a report's) print the same every time. */
  print(html: string): Promise<Buffer> {
    return this.#prints.run(() => this.#print(html));
  }

  async #print(html: string): Promise<Buffer> {
    const browser = await chromium.launch({
      executablePath: this.executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ locale: 'zh-CN' });
      // Nothing may leave the machine while printing: the report is self-contained.
      await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
      await page.setContent(html, { waitUntil: 'load' });
      return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    } finally {
      await browser.close();
    }
  }
}
