import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { MAX_DECOMPRESSED_BATCH_BYTES, registerCodecs, undecodableRecord } from './codecs.js';

// kafkajs's own record batch decoder, so the markers are read exactly as a consumer reads them.
const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{
  records: { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[];
}>;

const { CompressionTypes, CompressionCodecs } = kafkajs;
registerCodecs();

/** A v2 record batch around already-compressed record bytes, as the broker would send it (the CRC is not checked). */
function recordBatch(baseOffset: bigint, type: number, count: number, records: Buffer): Buffer {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(baseOffset, 0);
  header.writeInt32BE(49 + records.byteLength, 8);
  header.writeInt8(2, 16);
  header.writeInt16BE(type, 21);
  header.writeInt32BE(count - 1, 23);
  header.writeBigInt64BE(-1n, 45);
  header.writeInt32BE(count, 57);
  return Buffer.concat([header, records]);
}

describe('registered codecs', () => {
  it('round-trip snappy, lz4 and gzip; zstd is read-only', async () => {
    const input = Buffer.from('昆明是一座正在死去的城市'.repeat(500));
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.GZIP] as const) {
      const codec = CompressionCodecs[type]();
      const packed = await codec.compress({ buffer: input });
      expect(packed.byteLength).toBeLessThan(input.byteLength);
      expect(Buffer.compare(await codec.decompress(packed), input)).toBe(0);
    }
    await expect(CompressionCodecs[CompressionTypes.ZSTD]().compress({ buffer: input })).rejects.toThrow(/zstd/);
  });

  it('turn a batch that will not decompress into one marker record per offset', async () => {
    const batch = recordBatch(1000n, CompressionTypes.ZSTD, 3, Buffer.from('this is not zstd at all'));
    const { records } = await decodeRecordBatch(new Decoder(batch));
    expect(records.map((r) => r.offset)).toEqual(['1000', '1001', '1002']);
    for (const r of records) {
      expect(r.value).toBeNull();
      expect(undecodableRecord(r.headers)).toMatchObject({ reason: 'undecodable', detail: expect.stringContaining('could not be decompressed') });
    }
  });

  it(`refuse to expand a batch past ${MAX_DECOMPRESSED_BATCH_BYTES} bytes (a gzip bomb) and mark its records too_large`, async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES + 1024));
    const { records } = await decodeRecordBatch(new Decoder(recordBatch(7n, CompressionTypes.GZIP, 2, bomb)));
    expect(records.map((r) => [r.offset, undecodableRecord(r.headers)?.reason])).toEqual([
      ['7', 'too_large'],
      ['8', 'too_large'],
    ]);
  });

  it('leave a record without the marker alone', () => {
    expect(undecodableRecord({ reason: Buffer.from('x') })).toBeUndefined();
    expect(undecodableRecord(undefined)).toBeUndefined();
  });
});
