import { promisify } from 'node:util';
import { gzip as gzipCallback, unzip as unzipCallback } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import kafkajs, { type IHeaders } from 'kafkajs';
import * as lz4 from 'lz4js';
import * as snappy from 'snappyjs';

/**
 * Most bytes one record batch may decompress to. The broker bounds a batch's compressed size (`max.message.bytes`),
 * not what it expands to: 2 MiB of zstd can hold gigabytes. A batch past this is not expanded; its records arrive as
 * markers (see {@link UNDECODABLE_HEADER}) and are dead-lettered as `too_large`.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * Header set on each record of a batch that could not be decompressed. The record keeps its offset; its key and
 * value are null, and the header's value reads `<reason>: <detail>` (`too_large` or `undecodable`).
 */
export const UNDECODABLE_HEADER = 'tingfeng-undecodable';

/** Why a record could not be read, when kafkajs handed us a marker in its place. */
export interface Undecodable {
  reason: 'too_large' | 'undecodable';
  detail: string;
}

/** The marker {@link registerCodecs} put in place of a record that could not be decompressed, if this is one. */
export function undecodableRecord(headers: IHeaders | undefined): Undecodable | undefined {
  const raw = headers?.[UNDECODABLE_HEADER];
  if (raw === undefined) return undefined;
  const text = (Array.isArray(raw) ? raw[0] : raw)?.toString() ?? '';
  const at = text.indexOf(': ');
  const reason = text.slice(0, at) === 'too_large' ? 'too_large' : 'undecodable';
  return { reason, detail: at >= 0 ? text.slice(at + 2) : text };
}

/** Thrown inside a codec when the output would pass {@link MAX_DECOMPRESSED_BATCH_BYTES}. */
class DecompressedTooLarge extends Error {
  override name = 'DecompressedTooLarge';
}

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const gzip = promisify(gzipCallback);
const unzip = promisify(unzipCallback);
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function checkTotal(bytes: number): void {
  if (bytes > MAX_DECOMPRESSED_BATCH_BYTES) throw new DecompressedTooLarge(`expands past ${MAX_DECOMPRESSED_BATCH_BYTES} bytes`);
}

/** gzip, as kafkajs has it, with the output bounded. */
const gzipCodec: Codec = {
  compress: async ({ buffer }) => gzip(buffer),
  async decompress(buffer) {
    try {
      return await unzip(buffer, { maxOutputLength: MAX_DECOMPRESSED_BATCH_BYTES });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressedTooLarge(`expands past ${MAX_DECOMPRESSED_BATCH_BYTES} bytes`);
      throw err;
    }
  },
};

/** Snappy, raw (librdkafka) or in the xerial framing of the Java client. */
const snappyCodec: Codec = {
  compress: async ({ buffer }) => asBuffer(snappy.compress(buffer)),
  async decompress(buffer) {
    if (buffer.byteLength < 16 || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return uncompressSnappy(buffer, MAX_DECOMPRESSED_BATCH_BYTES);
    const parts: Buffer[] = [];
    let total = 0;
    for (let at = 16; at + 4 <= buffer.byteLength; ) {
      const size = buffer.readUInt32BE(at);
      at += 4;
      const part = uncompressSnappy(buffer.subarray(at, at + size), MAX_DECOMPRESSED_BATCH_BYTES - total);
      total += part.byteLength;
      parts.push(part);
      at += size;
    }
    return Buffer.concat(parts, total);
  },
};

function uncompressSnappy(block: Buffer, maxBytes: number): Buffer {
  try {
    return asBuffer(snappy.uncompress(block, maxBytes));
  } catch (err) {
    // snappyjs reads the declared length first and refuses it before allocating.
    if (/is too big/.test((err as Error).message)) throw new DecompressedTooLarge(`expands past ${MAX_DECOMPRESSED_BATCH_BYTES} bytes`);
    throw err;
  }
}

/** LZ4 frames, as Kafka has them since 0.10. */
const lz4Codec: Codec = {
  compress: async ({ buffer }) => asBuffer(lz4.compress(buffer)),
  async decompress(buffer) {
    // The bound is read from the frame (its declared content size, or blocks × block size) before anything is allocated.
    const bound = lz4.decompressBound(buffer) as unknown as number;
    checkTotal(bound);
    return asBuffer(lz4.decompress(buffer, bound));
  },
};

/** Zstandard, decompressed as a stream so a frame's declared size is never trusted for an allocation. */
const zstdCodec: Codec = {
  compress: () => Promise.reject(new Error('zstd compression is not available here: this client reads zstd batches, it does not write them')),
  async decompress(buffer) {
    const parts: Uint8Array[] = [];
    let total = 0;
    const stream = new ZstdDecompress((chunk) => {
      total += chunk.byteLength;
      checkTotal(total);
      parts.push(chunk);
    });
    stream.push(buffer, true);
    return Buffer.concat(parts, total);
  },
};

/**
 * Wraps a codec so a batch that cannot be decompressed does not fail the whole fetch (kafkajs would retry it forever,
 * stalling every partition of that broker). In its place the codec hands kafkajs one marker record per record the
 * batch holds, each at its own offset, so the consumer dead-letters them and moves on. The record count and the
 * batch's length come from the batch header, which kafkajs's decoder passes as the bytes just before the records
 * (checked: kafkajs 2.2.4 slices, it does not copy). Where that check fails the error is thrown as before.
 */
function tolerant(codec: Codec, type: number): Codec {
  return {
    compress: (encoder) => codec.compress(encoder),
    async decompress(buffer) {
      try {
        return await codec.decompress(buffer);
      } catch (err) {
        const reason = err instanceof DecompressedTooLarge ? 'too_large' : 'undecodable';
        const detail = `its record batch ${err instanceof DecompressedTooLarge ? err.message : `could not be decompressed (${(err as Error).message})`}`;
        const count = recordCountBefore(buffer, type);
        if (count === undefined) throw err;
        return markerRecords(count, `${reason}: ${detail}`.slice(0, 500));
      }
    },
  };
}

/** Record batch v2 header: base offset 8, length 4, then 49 bytes up to and including the record count. */
const HEADER_AFTER_LENGTH = 49;
const HEADER_BYTES = 12 + HEADER_AFTER_LENGTH;

/** The record count of the v2 batch whose compressed records `buffer` holds, or undefined if that is not provable. */
function recordCountBefore(buffer: Buffer, type: number): number | undefined {
  if (buffer.byteOffset < HEADER_BYTES) return undefined;
  const header = Buffer.from(buffer.buffer, buffer.byteOffset - HEADER_BYTES, HEADER_BYTES);
  const length = header.readInt32BE(8);
  const magic = header.readInt8(16);
  const attributes = header.readInt16BE(21);
  const lastOffsetDelta = header.readInt32BE(23);
  const count = header.readInt32BE(57);
  if (magic !== 2 || (attributes & 0x07) !== type || length !== HEADER_AFTER_LENGTH + buffer.byteLength) return undefined;
  if (count <= 0 || count > lastOffsetDelta + 1) return undefined;
  return count;
}

/** `count` records as the v2 format encodes them: offset deltas 0…count−1, null key and value, one marker header. */
function markerRecords(count: number, marker: string): Buffer {
  const key = Buffer.from(UNDECODABLE_HEADER);
  const value = Buffer.from(marker);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.concat([
      Buffer.from([0]), // attributes
      varint(0), // timestamp delta
      varint(i), // offset delta
      varint(-1), // key: null
      varint(-1), // value: null
      varint(1), // one header
      varint(key.byteLength),
      key,
      varint(value.byteLength),
      value,
    ]);
    parts.push(varint(body.byteLength), body);
  }
  return Buffer.concat(parts);
}

/** A zigzag varint, as Kafka's record format writes its lengths and deltas. */
function varint(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const bytes: number[] = [];
  while (z >= 0x80) {
    bytes.push((z & 0x7f) | 0x80);
    z = Math.floor(z / 128);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}

let registered = false;

/**
 * Gives kafkajs the codecs it lacks (snappy, lz4, zstd: what most producers outside Node use) and bounds gzip's,
 * all pure JavaScript (nothing to compile or download). Process-wide, as kafkajs keeps its codecs; safe to call again.
 */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.GZIP] = () => tolerant(gzipCodec, CompressionTypes.GZIP);
  CompressionCodecs[CompressionTypes.Snappy] = () => tolerant(snappyCodec, CompressionTypes.Snappy);
  CompressionCodecs[CompressionTypes.LZ4] = () => tolerant(lz4Codec, CompressionTypes.LZ4);
  CompressionCodecs[CompressionTypes.ZSTD] = () => tolerant(zstdCodec, CompressionTypes.ZSTD);
}
