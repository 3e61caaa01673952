/** Test helpers (`@xception/photo-library/testing`): temp folders, exiftool (the independent sidecar reader), an in-memory library. */
export { makeTempDir } from './temp-dir.js';
export { asList, EXIFTOOL, exiftoolRead, exiftoolReadAll, exiftoolReadEach, exiftoolWrite, SKIP_NO_EXIFTOOL } from './exiftool.js';
export { createMemoryLibrary } from './memory-library.js';
