'use strict';
// Gzipped (or plain) IDX files (Fashion-MNIST's format), shared by the ONNX Runtime scripts here.
const fs = require('fs');
const zlib = require('zlib');

/// Gzipped (or plain) IDX file -> {dims, data: Uint8Array}.
function readIdx(file) {
  let buf = fs.readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
  const ndim = buf[3];
  const dims = [];
  for (let d = 0; d < ndim; ++d) dims.push(buf.readUInt32BE(4 + 4 * d));
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim) };
}

module.exports = { readIdx };
