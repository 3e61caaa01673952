export { makeTempDir } from '@xception/photo-library/testing';
