/**
 * Vectors made once with the reference implementations (Python's lz4.block 4.4 on liblz4,
 * zlib, zstandard 0.25 on libzstd, python-snappy), in the forms the Java client writes: a
 * raw LZ4 block, a zlib stream ended by a SYNC_FLUSH (no final block, no Adler-32:
 * java.util.zip.Deflater as CompressionCodecZLib drives it), a zstd frame at level 3, a raw
 * snappy block.
 */
import { hex } from './helpers.ts';

/** Three order messages, 345 bytes. */
export const ORDERS = new TextEncoder().encode(
  [1000, 1001, 1002].map((id, i) => `{"type":"order","id":${id},"account":"ACC-00${42 + i}","symbol":"ABCD","side":"buy","qty":100,"price":"101.25","tif":"day"}`).join(''),
);

/** ORDERS compressed by the reference libraries. */
export const VECTORS: Record<'lz4' | 'zlib' | 'zstd' | 'snappy', Uint8Array> = {
  lz4: hex(
    'f1417b2274797065223a226f72646572222c226964223a313030302c226163636f756e74223a224143432d30303432222c2273796d626f6c223a2241424344222c2273696465223a22627579222c227174793d00ff0f2c227072696365223a223130312e3235222c22746966223a22646179227d7300051f317300001f3373004b1f327300001f3473002e50646179227d',
  ),
  zlib: hex(
    '789cb48d310e83301004ffb2b5139d1d68e812e7236083640962e298e284f87bcea9a10be5ec68352b32cf3d1ac4e4fb0485e0d1682252689d8bcb2b8bbb5b7b21aa8ce80f4f5d1ccbf6b0cfc2c19777b7b0c03bf3efac30a7e0caae495f4d2d2a8741d0b78c6d3d48ea9de4eddca4d94956ff497e010000ffff',
  ),
  zstd: hex(
    '28b52ffd6059009503002246151b80b9190348d1d213963f78c27601e65630b50ff6371144ccc18c8ec80968e34dd668037be38203d054c51c33ee538c6fa32c564884435310bb183f48e691d260f44b344da964cc4c452f36ee96e5dae885d937230a00035001c92d981824821d80edac02a09c00079e19c32e9850',
  ),
  snappy: hex(
    'd902f03c7b2274797065223a226f72646572222c226964223a313030302c226163636f756e74223a224143432d30303432222c2273796d626f6c223a22414243440110046964013e20627579222c22717479053d142c227072696301184c3130312e3235222c22746966223a22646179227d5e730000314a73000033016304796dfe73005e730000324a73000034fe73000973',
  ),
};

