/** Pulsar's key hash is the one every system routes keys by: it lives in core (core/murmur3.ts). */
export { keyPartition, murmur3_32 } from '../../../core/murmur3.ts';
