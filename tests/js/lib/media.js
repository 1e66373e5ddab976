'use strict';
// Upload helpers and sample files for the media tests.

const { http } = require('./client');

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const MIB = 1024 * 1024;

/** POST /upload with one multipart file field; returns the http() result. */
function upload(server, token, { field = 'file', bytes, name = 'file.bin', type = 'application/octet-stream', extra = {} }) {
  const form = new FormData();
  if (bytes) form.append(field, new Blob([bytes], { type }), name);
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return http(server, 'POST', '/upload', { token, body: form });
}

/** The absolute URL of a media url as returned by the gateway. */
function absolute(server, url) {
  return new URL(url, server.url).toString();
}

module.exports = { PNG, GIF, MIB, upload, absolute };
