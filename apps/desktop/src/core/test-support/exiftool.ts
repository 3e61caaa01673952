export { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
