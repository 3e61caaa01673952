/** Test helpers (`@xception/photo-library/testing`): temp folders and exiftool, the independent sidecar reader. */
export { makeTempDir } from './temp-dir.js';
export { asList, EXIFTOOL, exiftoolRead, exiftoolReadAll, exiftoolReadEach, exiftoolWrite, SKIP_NO_EXIFTOOL } from './exiftool.js';
