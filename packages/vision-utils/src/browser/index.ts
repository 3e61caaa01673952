/**
 * @xception/vision-utils/browser: photos to Xception input in browsers and the Electron renderer
 * (canvas / createImageBitmap), plus everything from the universal entry.
 */
export * from '../index.js';
export { loadImageInBrowser, type BrowserImageSource } from './load-image-in-browser.js';
