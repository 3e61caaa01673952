/** S3 for @xception/batch, its own entry so that the AWS SDK loads only for s3:// inputs and outputs. */
export { createS3Client, listS3Objects, openS3ObjectStream, parseS3Url, readS3Object, s3TooLarge, type ListS3Options, type ReadS3Options, type S3Object, type S3RequestOptions, type S3Url } from './s3-objects.js';
export { s3Inputs, type S3InputOptions } from './s3-input.js';
export { S3Output, type S3Upload } from './s3-output.js';
